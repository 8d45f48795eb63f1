"""`monitor feeds …` as a user drives it: discovery, OPML, config feeds, retiring and enabling."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import monitor, write_config
from tests.support.feedserver import FeedServer, rss

ITEMS = [
    {"title": "One", "link": "http://127.0.0.1:1/one", "guid": "one", "description": "x " * 40}
]


@pytest.fixture
def site() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        srv.add("/news/feed.xml", rss("News", ITEMS), "application/rss+xml")
        srv.add(
            "/",
            '<html><head><link rel="alternate" type="application/rss+xml" href="/news/feed.xml">'
            "</head><body>Home</body></html>",
        )
        srv.add("/gone.xml", b"gone", "text/plain", status=410)
        srv.add("/needs-cookie.xml", rss("Cookie", ITEMS), "application/rss+xml")
        yield srv


def _feeds(config: Path) -> dict[str, dict[str, object]]:
    return {f["url"]: f for f in json.loads(monitor(config, "feeds", "list", "--json").stdout)}


def test_add_discovers_the_feed_of_a_site(site: FeedServer, tmp_path: Path) -> None:
    config = write_config(tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [])
    result = monitor(config, "feeds", "add", site.url("/"), "--name", "Site", "--tags", "af,en")
    assert result.returncode == 0, result.stderr
    assert site.url("/news/feed.xml") in result.stdout
    feeds = _feeds(config)
    assert list(feeds) == [site.url("/news/feed.xml")]
    assert feeds[site.url("/news/feed.xml")]["tags"] == ["af", "en"]
    again = monitor(config, "feeds", "add", site.url("/news/feed.xml"))
    assert again.returncode == 1
    assert "already" in again.stderr


def test_opml_round_trip(site: FeedServer, tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        f'<outline text="A" xmlUrl="{site.url("/news/feed.xml")}" category="af"/>'
        '<outline text="B" xmlUrl="https://example.org/b.xml"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    config = write_config(tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [])
    result = monitor(config, "feeds", "import", str(opml))
    assert result.returncode == 0, result.stderr
    assert "imported 2" in result.stdout
    exported = monitor(config, "feeds", "export").stdout
    assert site.url("/news/feed.xml") in exported
    assert "https://example.org/b.xml" in exported
    assert monitor(config, "feeds", "import", str(opml)).stdout.startswith("imported 0")


def test_config_feed_cannot_be_removed_only_disabled(site: FeedServer, tmp_path: Path) -> None:
    url = site.url("/news/feed.xml")
    config = write_config(
        tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [url]
    )
    assert monitor(config, "run", "--once").returncode == 0
    removed = monitor(config, "feeds", "remove", url)
    assert removed.returncode == 1
    assert "edit" in removed.stderr or str(config) in removed.stderr
    assert monitor(config, "feeds", "disable", url).returncode == 0
    assert _feeds(config)[url]["state"] == "disabled"
    before = site.count("/news/feed.xml")
    assert monitor(config, "run", "--once", "--all").returncode == 0
    assert site.count("/news/feed.xml") == before  # a disabled feed is never polled


def test_a_feed_dropped_from_the_config_can_be_removed(site: FeedServer, tmp_path: Path) -> None:
    url = site.url("/news/feed.xml")
    db = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    first = write_config(tmp_path / "monitor.toml", db, [url])
    assert monitor(first, "run", "--once").returncode == 0
    listing = write_config(tmp_path / "listing.toml", db, [url])
    refused = monitor(listing, "feeds", "remove", url)
    assert refused.returncode == 1
    assert f"comes from {listing}: remove it there" in refused.stderr  # the file in use
    no_feeds = write_config(tmp_path / "mv2.toml", db, [])
    removed = monitor(no_feeds, "feeds", "remove", url)
    assert removed.returncode == 0, removed.stderr
    assert _feeds(no_feeds) == {}


def test_410_retires_and_enable_brings_it_back(site: FeedServer, tmp_path: Path) -> None:
    url = site.url("/gone.xml")
    config = write_config(
        tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [url]
    )
    assert monitor(config, "run", "--once").returncode == 0
    status = {f["url"]: f for f in json.loads(monitor(config, "status", "--json").stdout)}
    assert status[url]["state"] == "retired"
    assert "HTTP 410" in status[url]["last_error"]
    assert monitor(config, "run", "--once", "--all").returncode == 0
    assert site.count("/gone.xml") == 1  # retired: not polled again
    site.add("/gone.xml", rss("Back", ITEMS), "application/rss+xml")
    assert monitor(config, "feeds", "enable", url).returncode == 0
    assert monitor(config, "run", "--once").returncode == 0
    status = {f["url"]: f for f in json.loads(monitor(config, "status", "--json").stdout)}
    assert status[url]["state"] == "ok"


def test_per_feed_headers_are_sent(site: FeedServer, tmp_path: Path) -> None:
    url = site.url("/needs-cookie.xml")
    config = write_config(tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [])
    text = config.read_text(encoding="utf-8")
    text += f'\n[[feeds]]\nurl = "{url}"\nfetch_articles = false\nheaders = {{ Cookie = "consent=yes", Referer = "https://example.org/" }}\n'
    config.write_text(text, encoding="utf-8")
    assert monitor(config, "run", "--once").returncode == 0
    [headers] = [h for p, h in site.requests if p == "/needs-cookie.xml"]
    assert headers["Cookie"] == "consent=yes"
    assert headers["Referer"] == "https://example.org/"
    assert headers["User-Agent"].startswith("feed-monitor/")
