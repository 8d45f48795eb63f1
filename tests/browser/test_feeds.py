"""Managing feeds in the console: add a site by its URL (the feed is discovered from its
page, served on 127.0.0.1), disable and enable it, import an OPML file, export them all."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import Site, needs_chromium
from tests.support.feedserver import FeedServer, rss

pytestmark = needs_chromium

SITE_PAGE = """<!doctype html><html><head><title>Herat Courier</title>
<link rel="alternate" type="application/rss+xml" title="Herat Courier" href="/rss.xml">
</head><body><h1>Herat Courier</h1></body></html>"""
OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Desk feeds</title></head><body>
<outline text="Balkh Daily" type="rss" xmlUrl="http://127.0.0.1:9/balkh.xml"/>
<outline text="Kunduz Wire" type="rss" xmlUrl="http://127.0.0.1:9/kunduz.xml"/>
</body></opml>"""


def test_an_analyst_adds_a_site_disables_it_and_imports_opml(
    site: Site, as_user, tmp_path: Path
) -> None:
    page = as_user("analyst").page
    with FeedServer() as server:
        home = server.add("/", SITE_PAGE)
        feed = server.add("/rss.xml", rss("Herat Courier", []), "application/rss+xml")
        page.goto(site.url("/feeds"))
        page.get_by_label(re.compile("^Add a feed")).fill(home)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text(f"Added {feed} (found from {home})")
    row = page.locator("tr", has_text=feed)
    expect(row).to_contain_text("ok")
    row.get_by_role("button", name=re.compile("^Disable")).click()
    expect(page.get_by_role("status")).to_contain_text(f"Disabled {feed}")
    expect(page.locator("tr", has_text=feed)).to_contain_text("disabled")
    page.locator("tr", has_text=feed).get_by_role("button", name=re.compile("^Enable")).click()
    expect(page.locator("tr", has_text=feed)).to_contain_text("ok")

    opml = tmp_path / "desk.opml"
    opml.write_text(OPML, encoding="utf-8")
    page.get_by_label("Import an OPML file").set_input_files(str(opml))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Imported 2 new feeds of 2 listed")
    expect(page.locator("main")).to_contain_text("Kunduz Wire")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export all feeds as OPML").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    for url in (feed, "http://127.0.0.1:9/balkh.xml", "http://127.0.0.1:9/kunduz.xml"):
        assert url in exported


def test_a_viewer_sees_the_health_table_but_no_feed_forms(site: Site, as_user) -> None:
    page = as_user("viewer").page
    page.goto(site.url("/feeds"))
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    expect(page.get_by_role("button", name="Add", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Disable"))).to_have_count(0)
    expect(page.get_by_role("link", name="Export all feeds as OPML")).to_be_visible()
