"""A feed's configured headers reach only the feed's origin: two real servers on 127.0.0.1
(two ports, two origins), item pages and redirects crossing between them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.app import open_runtime
from monitor.config import Settings, settings_from_dict
from monitor.scheduler import run_round
from tests.support.feedserver import FeedServer, corpus_pages, rss

PAGES = corpus_pages()[:4]
SECRETS = {"Authorization": "Bearer s3cret", "Cookie": "sid=feed-session", "X-Api-Key": "k-123"}
USER_AGENT = "feed-monitor-test/1 (+https://example.invalid)"


@pytest.fixture
def home() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture
def elsewhere() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def _settings(database_url: str, tmp_path: Path, feed_url: str) -> Settings:
    raw = {
        "database": {"url": database_url},
        "polling": {
            "allow_networks": ["127.0.0.0/8"],
            "timeout": "10s",
            "user_agent": USER_AGENT,
        },
        "feeds": [{"url": feed_url, "name": "credentialed", "headers": SECRETS}],
        "watchlists": [],
        "channels": {},
    }
    return settings_from_dict(raw, base=tmp_path)


def _carries_secrets(headers: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    return all(lowered.get(k.lower()) == v for k, v in SECRETS.items())


def _carries_none(headers: dict[str, str]) -> bool:
    lowered = {k.lower() for k in headers}
    return not lowered & {k.lower() for k in SECRETS}


async def test_item_pages_and_redirects_elsewhere_get_no_feed_headers(
    home: FeedServer, elsewhere: FeedServer, database_url: str, tmp_path: Path
) -> None:
    (p1, html1, _), (p2, html2, _), (p3, html3, _), (p4, html4, _) = PAGES
    home.add(f"/a/{p1}", html1)
    elsewhere.add(f"/a/{p2}", html2)
    home.add("/jump", b"", status=302, headers={"Location": elsewhere.url(f"/a/{p3}")})
    elsewhere.add(f"/a/{p3}", html3)
    elsewhere.add("/back", b"", status=302, headers={"Location": home.url(f"/a/{p4}")})
    home.add(f"/a/{p4}", html4)
    items = [
        {"title": "same origin", "link": home.url(f"/a/{p1}"), "guid": "1"},
        {"title": "other origin", "link": elsewhere.url(f"/a/{p2}"), "guid": "2"},
        {"title": "redirected away", "link": home.url("/jump"), "guid": "3"},
        {"title": "redirected home", "link": elsewhere.url("/back"), "guid": "4"},
    ]
    feed_url = home.add("/rss", rss("RSS", items), "application/rss+xml")
    async with open_runtime(
        _settings(database_url, tmp_path, feed_url), extract_workers=1
    ) as runtime:
        report = await run_round(runtime, all_feeds=True)
    assert (report.stored, report.errors) == (4, 0)

    assert sorted(path for path, _ in home.requests) == sorted(
        ["/rss", f"/a/{p1}", "/jump", f"/a/{p4}"]
    )
    assert all(_carries_secrets(headers) for _, headers in home.requests)
    assert sorted(path for path, _ in elsewhere.requests) == sorted(
        [f"/a/{p2}", f"/a/{p3}", "/back"]
    )
    for _, headers in elsewhere.requests:
        assert _carries_none(headers), headers
        assert headers["User-Agent"] == USER_AGENT


async def test_a_feed_moved_to_another_origin_no_longer_gets_its_headers(
    home: FeedServer, elsewhere: FeedServer, database_url: str, tmp_path: Path
) -> None:
    page_id, html, _ = PAGES[0]
    elsewhere.add(f"/a/{page_id}", html)
    elsewhere.add(
        "/rss",
        rss("RSS", [{"title": "t", "link": elsewhere.url(f"/a/{page_id}"), "guid": "1"}]),
        "application/rss+xml",
    )
    feed_url = home.add("/rss", b"", status=301, headers={"Location": elsewhere.url("/rss")})
    async with open_runtime(
        _settings(database_url, tmp_path, feed_url), extract_workers=1
    ) as runtime:
        await run_round(runtime, all_feeds=True)
        await run_round(runtime, all_feeds=True)  # now polled at its new URL directly
    assert [path for path, _ in home.requests] == ["/rss"]
    assert _carries_secrets(home.requests[0][1])
    assert [path for path, _ in elsewhere.requests].count("/rss") == 2
    assert all(_carries_none(headers) for _, headers in elsewhere.requests)
