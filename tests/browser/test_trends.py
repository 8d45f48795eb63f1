"""A surge in the browser: raised by the real check over the demo's database (two weeks of
calm stories, then a burst carried by several of the demo's outlets), it is its own kind in
the inbox and its watchlist page draws the series with the band and the surge marked, at
375 px and 1440 px, with nothing logged. Also takes the README's screenshots on a demo of
its own: `tmp/artefacts/browser/readme-console-*.png`, copied to `docs/console-*.png`."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import update

from monitor.clock import FrozenClock
from monitor.config import settings_from_dict
from monitor.demo import DEMO_CONFIG, DEMO_USER, demo_settings
from monitor.services import open_monitor
from monitor.services.trends import Trends
from monitor.storage.tables import stories
from tests.browser.conftest import (
    ARTEFACTS,
    DEMO_ALERTS,
    WIDTHS,
    Site,
    _in_thread,
    needs_chromium,
    running_demo,
    shoot,
    sign_in,
)
from tests.support.trend_store import Ctx, add_stories

pytestmark = needs_chromium
TITLES = [
    "ISKP claims a wave of attacks on Kabul checkpoints",
    "Afghan officials confirm arrests of ISIS-K recruiters in Nangarhar",
    "UN monitors: ISKP steps up propaganda in Pashto and Urdu",
    "Islamic State Khorasan Province named in Herat mosque bombing inquiry",
]


async def _raise_surge(folder: Path) -> str:
    """Store two weeks of calm stories and a burst for `isis-k`, then run the surge check
    with `surge = true` on it (the served demo's config has no surge); the episode's id."""
    raw = tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["database"] = {"url": f"sqlite+aiosqlite:///{folder / 'demo.db'}"}
    raw["watchlists"][0]["surge"] = True
    settings = settings_from_dict(raw, base=folder, source=str(DEMO_CONFIG))
    now = datetime.now(UTC)
    async with open_monitor(settings, migrate=False) as m:
        outlets = [f.id for f in await m.feeds.list() if "<" not in f.name][:6]
        engine = m.ctx.engine
        calm = [now - timedelta(days=15) + timedelta(hours=12) * i for i in range(29)]
        await add_stories(engine, calm, outlets[:1])
        burst = [now - timedelta(minutes=90) + timedelta(minutes=7) * i for i in range(10)]
        top = await add_stories(engine, burst[:4], outlets)
        await add_stories(engine, burst[4:], outlets[:2])
        async with engine.begin() as conn:
            for story_id, title in zip(top, TITLES, strict=True):
                await conn.execute(
                    update(stories).where(stories.c.id == story_id).values(title=title)
                )
        report = await Trends(Ctx(settings, engine, FrozenClock(now))).check(now)
    assert len(report.opened) == 1, report
    return report.opened[0]


@pytest.fixture(scope="module")
def surge(site: Site) -> str:
    return _in_thread(_raise_surge(site.folder))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_surge_is_in_the_inbox_and_on_its_watchlist_page(
    site: Site, as_user, surge: str, width: int
) -> None:
    watched = as_user("analyst", width=width)
    page = watched.page
    page.goto(site.url("/"))
    episode = page.locator(f"#episode-{surge}")
    expect(episode).to_be_visible()
    expect(episode).to_contain_text("Surge")
    expect(episode).to_contain_text("ongoing")
    expect(episode.locator(".episode-figures")).to_contain_text("stories observed")
    expect(episode.get_by_role("link", name=TITLES[0])).to_be_visible()
    expect(page.locator("#alert-rows tr").first).to_be_visible()  # the alerts are still listed
    shoot(page, f"inbox-surge-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    episode.get_by_role("link", name="isis-k", exact=True).click()
    page.wait_for_url(site.url("/watchlists/isis-k"))
    chart = page.locator("svg.chart.trend")
    expect(chart.locator("rect.bar")).to_have_count(31)
    expect(chart.locator("rect.bar.surging")).to_have_count(1)
    expect(chart.locator(".surge-marker")).to_have_count(1)
    expect(chart.locator("polygon.band").first).to_be_attached()
    expect(page.locator(f"#episode-{surge}")).to_be_visible()
    page.get_by_role("link", name="by hour").click()
    expect(chart.locator("rect.bar")).to_have_count(72)
    expect(chart.locator("rect.bar.surging")).to_have_count(1)
    box = chart.bounding_box()
    assert box is not None
    assert 0 < box["width"] <= width
    shoot(page, f"watchlist-surge-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert watched.console == []


async def _seed_alert(folder: Path) -> str:
    """The demo alert on the story five outlets carried."""
    async with open_monitor(demo_settings([], folder), migrate=False) as m:
        alerts = (await m.alerts.list(limit=100)).items
    return next(a.id for a in alerts if a.story.articles == 5)


def test_the_readme_screenshots(browser: Browser) -> None:
    """On a demo of its own (nothing the other tests add), with a surge raised: the inbox
    (whole page) and, in one window each, an alert and a watchlist at 1280 px and the inbox
    on a 375 px phone; what the README shows (docs/console-*.png)."""
    with running_demo() as (demo, _):
        surge = _in_thread(_raise_surge(demo.folder))
        alert = _in_thread(_seed_alert(demo.folder))
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        for name, path, width, whole in (
            ("readme-console-inbox", "/", 1280, True),
            ("readme-console-inbox-375", "/", 375, False),
            ("readme-console-alert", f"/alerts/{alert}", 1280, False),
            ("readme-console-watchlist", "/watchlists/isis-k?by=hour", 1280, False),
        ):
            page = browser.new_page(
                viewport={"width": width, "height": 800 if width < 1000 else 950}
            )
            sign_in(page, demo, DEMO_USER, demo.password)
            page.goto(demo.url(path))
            if path == "/":
                expect(page.locator(f"#episode-{surge}")).to_be_visible()
                expect(page.locator("#alert-rows tr")).to_have_count(DEMO_ALERTS)
            shot = ARTEFACTS / f"{name}.png"
            page.screenshot(path=str(shot), full_page=whole)
            assert shot.stat().st_size > 10_000, name
            page.close()
