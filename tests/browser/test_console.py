"""The analyst console in Chromium: sign in, the inbox and its live updates, one alert
explained, triage and who may do it, search, hostile feed titles, sign out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DEMO_ALERTS, HOSTILE, Site, Watched, needs_chromium

SEED_TITLES = {  # the seed story's titles (two of its five outlets ran the same headline)
    "Taliban Foreign Minister Accuses Neighboring Countries of Facilitating ISIS-K’s Expansion",
    "Muttaqi accuses three neighbours of helping ISIS-K grow",
    "Taliban FM says three neighbouring countries aiding ISIS-Khorasan",
    "Taliban minister blames three neighbours for ISIS-K expansion",
}

pytestmark = needs_chromium


def test_the_inbox_lists_the_demo_alerts(site: Site, as_user) -> None:
    watched: Watched = as_user("analyst")
    page = watched.page
    expect(page).to_have_title(re.compile("^Alerts"))
    for alert_id in site.demo_alerts:
        expect(page.locator(f"#alert-{alert_id}")).to_be_visible()
    assert len(site.demo_alerts) == DEMO_ALERTS
    expect(page.locator("#alert-rows mark").first).to_be_visible()
    assert watched.console == []


def test_an_alert_shows_its_marked_snippet_and_the_five_outlets_of_its_story(
    site: Site, as_user
) -> None:
    page = as_user("analyst").page
    page.locator(f"#alert-{site.seed_alert} a").first.click()
    # the outlets are polled at once, so any of the five copies may be stored first and alert
    assert site.seed_title in SEED_TITLES
    expect(page.locator("h1")).to_have_text(site.seed_title)
    marked = page.locator(".snippet mark")
    expect(marked.first).to_be_visible()
    assert {m.lower() for m in marked.all_inner_texts()} & {"isis-k", "isis-k’s", "isis-khorasan"}
    timeline = page.locator("#timeline ~ ol.timeline > li")
    expect(timeline).to_have_count(5)
    outlets = {item.split(" · ")[0] for item in timeline.all_inner_texts()}
    assert len(outlets) == 5, outlets
    published = [t.get_attribute("datetime") for t in timeline.locator("time").all()]
    assert published == sorted(published), "the timeline is in publication order"
    expect(page.locator("#deliveries ~ table")).to_contain_text("desk-log")


def test_an_acknowledged_alert_stays_acknowledged_after_a_reload(site: Site, as_user) -> None:
    page = as_user("analyst").page
    page.goto(site.url(f"/alerts/{site.spare[0]}"))
    expect(page.locator("#triage-state")).to_contain_text("new")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("Acknowledged")
    page.reload()
    expect(page.locator("#triage-state")).to_contain_text("acknowledged")
    expect(page.locator("#triage-state")).to_contain_text("by demo")
    expect(page.locator("#audit ~ ol")).to_contain_text("alert.triage")
    page.goto(site.url("/?state=acknowledged"))
    expect(page.locator(f"#alert-{site.spare[0]}")).to_be_visible()
    expect(page.locator("#alert-rows tr")).to_have_count(1)


def test_a_false_positive_needs_a_note_and_keeps_it(site: Site, as_user) -> None:
    page = as_user("analyst").page
    page.goto(site.url(f"/alerts/{site.spare[4]}"))
    page.get_by_role("button", name="False positive").click()
    expect(page.get_by_role("status")).to_contain_text("needs a note")
    expect(page.locator("#triage-state")).to_contain_text("new")
    page.get_by_label(re.compile("^Note")).fill("A <b>sports</b> team called ISKP")
    page.get_by_role("button", name="False positive").click()
    expect(page.locator("#triage-state")).to_contain_text("false positive")
    expect(page.locator("#triage-state q")).to_have_text("A <b>sports</b> team called ISKP")


def test_an_analyst_retries_an_unsent_delivery(site: Site, as_user) -> None:
    page = as_user("analyst").page
    page.goto(site.url(f"/alerts/{site.hostile_alert}"))  # no worker runs: it is pending
    expect(page.locator("#deliveries ~ table")).to_contain_text("pending")
    page.get_by_role("button", name="Retry now").click()
    expect(page.get_by_role("status")).to_contain_text("Requeued 1 delivery")
    expect(page.locator("#audit ~ ol")).to_contain_text("alert.retry")
    page.goto(site.url(f"/alerts/{site.seed_alert}"))  # delivered: nothing to retry
    expect(page.get_by_role("button", name="Retry now")).to_have_count(0)


def test_a_new_alert_appears_in_the_open_inbox_without_a_reload(site: Site, as_user) -> None:
    page = as_user("analyst").page
    page.evaluate("window.__sameDocument = true")
    alert_id = site.raise_alert(
        "ISKP recruiters detained near the border",
        "Security forces detained two men accused of recruiting for ISKP in the border district. "
        * 4,
    )
    row = page.locator(f"#alert-{alert_id}")
    expect(row).to_be_visible(timeout=5000)
    expect(row.locator("mark").first).to_have_text("ISKP")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"


def test_the_inbox_count_follows_the_rows_the_live_stream_adds(site: Site, as_user) -> None:
    page = as_user("analyst").page
    dismissed = page.context.new_page()  # a filter the new alert does not pass
    dismissed.goto(site.url("/?state=dismissed"))
    for shown in (page, dismissed):
        expect(shown.locator("#live-note")).to_have_text(re.compile("appear here"))
    before = page.locator("#alert-rows tr").count()
    count = page.locator("#alerts caption")
    expect(count).to_have_text(f"{before} alerts, newest first")
    kept = dismissed.locator("#alerts caption").inner_text()
    alert_id = site.raise_alert(
        "ISKP cell dismantled in the eastern province",
        "Police said an ISKP cell planning attacks in the eastern province was dismantled. " * 4,
    )
    expect(page.locator(f"#alert-{alert_id}")).to_be_visible(timeout=5000)
    expect(count).to_have_text(f"{before + 1} alerts, newest first")
    expect(page.locator("#alert-rows tr")).to_have_count(before + 1)
    expect(page.locator("#live-note bdi")).to_have_text(
        "ISKP cell dismantled in the eastern province"
    )
    page.wait_for_timeout(1500)  # the stream looks once a second: the filtered page had its turn
    expect(dismissed.locator(f"#alert-{alert_id}")).to_have_count(0)
    expect(dismissed.locator("#alerts caption")).to_have_text(kept)


def test_search_finds_an_article_and_marks_the_hit(site: Site, as_user) -> None:
    page = as_user("analyst").page
    page.get_by_role("link", name="Search").click()
    page.get_by_label(re.compile("^Query")).fill('"Islamic State Khorasan Province"')
    page.get_by_role("button", name="Search").click()
    hits = page.locator("ol.results li.card")
    expect(hits.first).to_be_visible()
    expect(hits.first.locator("mark").first).to_have_text(
        re.compile("Islamic State Khorasan Province", re.I)
    )
    assert "q=" in page.url


def test_a_query_that_does_not_parse_is_shown_beside_the_box(site: Site, as_user) -> None:
    page = as_user("analyst").page
    response = page.goto(site.url("/search?q=%22unclosed+AND"))
    assert response is not None
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("query")
    expect(page.get_by_label(re.compile("^Query"))).to_have_value('"unclosed AND')


def test_a_viewer_sees_no_triage_buttons_and_a_forged_post_is_refused(site: Site, as_user) -> None:
    page = as_user("viewer").page
    alert_url = site.url(f"/alerts/{site.spare[2]}")
    page.goto(alert_url)
    expect(page.locator("h1")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.get_by_role("button", name="False positive")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    # the viewer's own session and token: refused for the role
    refused = page.request.post(
        alert_url + "/triage", form={"csrf_token": token or "", "state": "dismissed"}
    )
    assert refused.status == 403
    page.reload()
    expect(page.locator("#triage-state")).not_to_contain_text("dismissed")


def test_a_post_without_the_session_csrf_token_is_refused(site: Site, as_user) -> None:
    page = as_user("analyst").page
    alert_url = site.url(f"/alerts/{site.spare[1]}")
    for token in ("", "0" * 64):
        forged = page.request.post(
            alert_url + "/triage", form={"csrf_token": token, "state": "dismissed"}
        )
        assert forged.status == 403
    page.goto(alert_url)
    expect(page.locator("#triage-state")).not_to_contain_text("dismissed")


def test_markup_in_feed_and_article_titles_is_shown_as_text(site: Site, as_user) -> None:
    watched = as_user("analyst")
    page = watched.page
    for path in ("/feeds", "/", f"/alerts/{site.hostile_alert}", "/stories"):
        page.goto(site.url(path))
        expect(page.locator("main")).to_contain_text(HOSTILE)
        assert page.locator("main img").count() == 0
        assert page.locator("main script").count() == 0
    assert watched.dialogs == []
    assert watched.console == []


def test_signing_out_ends_the_session(site: Site, as_user, browser) -> None:
    page = as_user("analyst").page
    cookies = page.context.cookies()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto(site.url("/"))
    assert "/login" in page.url
    replay = browser.new_context()
    replay.add_cookies(cookies)  # the old cookie, kept by someone: worthless now
    stale = replay.new_page()
    stale.goto(site.url("/feeds"))
    assert "/login" in stale.url
    replay.close()


def test_signing_in_with_a_wrong_password_says_so(site: Site, browser) -> None:
    page = browser.new_page()
    page.goto(site.url("/stories"))
    assert "/login?next=%2Fstories" in page.url
    page.get_by_label("User name").fill("demo")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong user name or password")
    sign_in_next = page.url
    page.close()
    assert "/login" in sign_in_next
