"""Every console page at 375 px and 1440 px: it loads, fits the width, has a title, labels
every field, logs no error; a screenshot of each is kept. And the console from the keyboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEMO_USER, WIDTHS, Site, needs_chromium, shoot

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !e.labels?.length && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id || e.outerHTML)"""

pytestmark = needs_chromium


def _pages(site: Site, page: Page) -> list[tuple[str, str]]:
    seed = site.seed_alert
    page.goto(site.url(f"/alerts/{seed}"))
    story = page.locator("#timeline ~ p a").get_attribute("href")
    return [
        ("inbox", "/"),
        ("alert", f"/alerts/{seed}"),
        ("alert-rtl", f"/alerts/{site.rtl_alert}"),
        ("stories", "/stories"),
        ("story", story or "/stories"),
        (
            "search",
            "/search?q=ISKP+OR+%22%D8%AF%D8%A7%D8%B9%D8%B4+%D8%AE%D8%B1%D8%A7%D8%B3%D8%A7%D9%86%22",
        ),
        ("feeds", "/feeds"),
        ("watchlists", "/watchlists"),
        ("watchlist", "/watchlists/isis-k?preview=30"),
        ("status", "/status"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_its_width_with_a_title_and_labelled_fields(
    site: Site, as_user, width: int
) -> None:
    watched = as_user("analyst", width=width)
    page = watched.page
    for name, path in _pages(site, page):
        response = page.goto(site.url(path))
        assert response is not None
        assert response.status == 200, (name, path)
        shoot(page, f"{name}-{width}")
        assert page.title().endswith("· feed-monitor"), (name, page.title())
        assert page.locator("h1").count() == 1, name
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{name} is {overflow}px wide at {width}px"
        assert page.evaluate(UNLABELLED) == [], name
    assert watched.console == []


def test_the_sign_in_page_at_both_widths(site: Site, browser: Browser) -> None:
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 700})
        page.goto(site.url("/login"))
        shoot(page, f"login-{width}")
        assert page.evaluate(UNLABELLED) == []
        page.close()


def test_right_to_left_text_is_laid_out_right_to_left(site: Site, as_user) -> None:
    page = as_user("analyst").page
    page.goto(site.url(f"/alerts/{site.rtl_alert}"))
    expect(page.locator("h1")).to_have_attribute("dir", "rtl")
    snippet = page.locator(".snippet").first
    expect(snippet).to_have_attribute("dir", "rtl")
    assert snippet.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"


def test_outlet_names_in_arabic_script_keep_their_place_in_the_line(site: Site, as_user) -> None:
    # the trial's case: a Persian outlet's copy published minutes ago ("3 min ago")
    feed = site.add_feed("http://127.0.0.1:9/fa-news.xml", "خبرگزاری پ")
    title = "داعش خراسان مسئولیت حمله در ولایت ننگرهار را پذیرفت"
    alert_id = site.raise_alert(
        title,
        "گروه داعش خراسان در بیانیه‌ای مسئولیت حمله در ولایت ننگرهار را پذیرفت. " * 4,
        feed=feed,
        age=timedelta(minutes=3),
        language="fa",
    )
    page = as_user("analyst").page
    page.goto(site.url(f"/alerts/{alert_id}"))
    item = page.locator("#timeline ~ ol.timeline > li").first
    outlet, when = item.locator("strong"), item.locator("time")
    expect(outlet).to_have_text("خبرگزاری پ")
    expect(when).to_have_text("3 min ago")
    named, dated = outlet.bounding_box(), when.bounding_box()
    assert named
    assert dated
    # one line, left to right: the outlet, then its time (it showed "3 خبرگزاری پ · min ago")
    assert dated["x"] >= named["x"] + named["width"] - 1
    article = page.locator("#article")  # the article's title, linked, and its outlet
    expect(article.locator("a")).to_have_text(title)
    expect(article.locator("a")).to_have_attribute("dir", "rtl")
    expect(article.locator("bdi")).to_have_text("خبرگزاری پ")


def test_the_console_can_be_used_from_the_keyboard(site: Site, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(site.url("/login"))
    expect(page.get_by_label("User name")).to_be_focused()  # autofocus, applied after load
    page.keyboard.type(DEMO_USER)
    page.keyboard.press("Tab")
    page.keyboard.type(site.password)
    page.keyboard.press("Enter")
    page.wait_for_url(site.url("/"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto(site.url(f"/alerts/{site.spare[3]}"))
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Dismiss":
            break
    else:
        raise AssertionError("Tab never reached the Dismiss button")
    page.keyboard.press("Enter")
    expect(page.locator("#triage-state")).to_contain_text("dismissed")
    page.close()
