"""One bad item never costs its feed (both backends, a real HTTP server on 127.0.0.1):
unstorable characters are cleaned, an item the pipeline fails on is recorded against that
item and the feed's health while the rest is stored, a body that cannot be parsed is one
line with the lease released, link-less items each stay, and a binary page never hides
what the feed said."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from monitor.app import Runtime, open_runtime
from monitor.config import Settings, settings_from_dict
from monitor.models import AlertContext, WatchlistMatch
from monitor.scheduler import run_round
from monitor.storage.tables import alerts, articles, entries, feeds
from tests.support.feedserver import FeedServer, corpus_pages, rss

RSS = "application/rss+xml"
JSON_FEED = "application/feed+json"
# A real article page that does not mention the watchlist's term.
PAGE_ID, PAGE, PAGE_TEXT = next(p for p in corpus_pages() if "ISIS-K" not in p[2])


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


def _settings(database_url: str, tmp_path: Path, urls: list[str], **polling: Any) -> Settings:
    raw = {
        "database": {"url": database_url},
        "polling": {"allow_networks": ["127.0.0.0/8"], "timeout": "10s", **polling},
        "feeds": [{"url": url, "name": f"feed {i}"} for i, url in enumerate(urls)],
        "watchlists": [{"name": "isis-k", "terms": ["ISIS-K"], "channels": ["desk"]}],
        "channels": {"desk": {"type": "log"}},
    }
    return settings_from_dict(raw, base=tmp_path)


async def _rows(runtime: Runtime, table: Any) -> list[Any]:
    async with runtime.engine.connect() as conn:
        return list(await conn.execute(select(table)))


async def _count(runtime: Runtime, table: Any) -> int:
    async with runtime.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


BAD_RSS = (
    b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>bad</title>"
    b"<item><guid>r1</guid><title>ISIS-K lone &#xD800; surrogate</title>"
    b"<description>NUL \x00 and &#0; in ISIS-K text</description></item>"
    b"<item><guid>r2</guid><title>ISIS-K second item</title><description>fine</description></item>"
    b"</channel></rss>"
)
BAD_JSON = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "j\\ud800", "items": ['
    b'{"id": "j1\\u0000", "title": "ISIS-K \\udc00 claim", "content_text": "NUL \\u0000 ISIS-K"},'
    b'{"id": "j2", "title": "ISIS-K other claim", "content_text": "plain text"}]}'
)


async def test_unstorable_characters_are_cleaned_and_every_item_stored(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    urls = [server.add("/rss", BAD_RSS, RSS), server.add("/json", BAD_JSON, JSON_FEED)]
    settings = _settings(database_url, tmp_path, urls, fetch_articles=False)
    async with open_runtime(settings, extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        stored = await _rows(runtime, articles)
        health = await _rows(runtime, feeds)
        alerted = await _count(runtime, alerts)

    assert (report.stored, report.errors) == (4, 0)
    assert sorted(row.guid for row in stored) == ["j1\ufffd", "j2", "r1", "r2"]
    assert all("\x00" not in row.text and "\x00" not in row.title for row in stored)
    assert alerted == 4
    assert [(row.state, row.last_error, row.lease_owner) for row in health] == [
        ("ok", None, None)
    ] * 2


def _failing_for(runtime: Runtime, title_part: str) -> None:
    """Make the alert step raise for articles whose title holds `title_part`, as a bug in
    one stage would: the seam is the alert builder the ingestor was given."""
    build = runtime.ingestor.build_alert

    def failing(match: WatchlistMatch, context: AlertContext) -> Any:
        if title_part in context.article.title:
            raise ValueError("cannot build this alert\nsecond line never shown")
        return build(match, context)

    runtime.ingestor.build_alert = failing


async def test_an_item_that_fails_is_recorded_and_the_others_are_stored(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    items = [
        {"guid": f"g{n}", "title": f"ISIS-K item {n}{' poison' if n == 1 else ''}",
         "link": server.url(f"/a/{n}"), "description": f"ISIS-K claim number {n}"}
        for n in range(4)
    ]  # fmt: skip
    url = server.add("/rss", rss("feed", items), RSS)
    settings = _settings(database_url, tmp_path, [url], fetch_articles=False)
    async with open_runtime(settings, extract_workers=1) as runtime:
        _failing_for(runtime, "poison")
        report = await run_round(runtime, all_feeds=True)
        stored = sorted(row.guid for row in await _rows(runtime, articles))
        [feed] = await _rows(runtime, feeds)
        failed = [row for row in await _rows(runtime, entries) if row.error]
        again = await run_round(runtime, all_feeds=True)

    assert stored == ["g0", "g2", "g3"]
    assert report.errors == 0
    assert report.polls[0].failed == 1
    assert (feed.state, feed.lease_owner, feed.last_error) == ("ok", None, None)
    assert feed.note == "entry 'g1' not stored: ValueError: cannot build this alert"
    assert [(row.guid, row.article_id) for row in failed] == [("g1", None)]
    assert failed[0].error == feed.note
    assert again.polls[0].failed == 0  # recorded once, not retried on every poll


async def test_a_body_too_deep_to_parse_is_one_line_and_the_lease_is_released(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    depth = 200_000
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "x": '
    body += b"[" * depth + b"]" * depth + b"}]}"
    url = server.add("/deep", body, JSON_FEED)
    async with open_runtime(_settings(database_url, tmp_path, [url]), extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        [feed] = await _rows(runtime, feeds)

    assert report.errors == 1
    assert feed.last_error is not None
    assert feed.last_error.startswith("feed failed to parse: JSON nested too deeply")
    assert (feed.state, feed.error_count, feed.lease_owner) == ("erroring", 1, None)


async def test_items_without_a_link_each_stay_and_alert(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    bulletins = [
        {"guid": f"bulletin-{n}", "title": f"Bulletin {n}",
         "description": f"ISIS-K bulletin {n}: an attack was reported in district {n * 3}."}
        for n in range(3)
    ]  # fmt: skip
    repeated = dict(bulletins[0], guid="bulletin-0-again")  # same text, another guid: a copy
    json_items = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "json",
        "items": [
            {"id": f"j{n}", "content_text": f"ISIS-K statement {n} on the ceasefire talks {n}."}
            for n in range(2)
        ],
    }
    urls = [
        server.add("/rss", rss("rss", [*bulletins, repeated]), RSS),
        server.add("/json", json.dumps(json_items), JSON_FEED),
    ]
    async with open_runtime(_settings(database_url, tmp_path, urls), extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        stored = await _rows(runtime, articles)
        alerted = await _count(runtime, alerts)

    assert sorted(row.guid for row in stored) == [
        "bulletin-0",
        "bulletin-1",
        "bulletin-2",
        "j0",
        "j1",
    ]
    assert sum(poll.duplicates for poll in report.polls) == 1
    assert alerted == 5
    assert all(row.url in urls for row in stored)  # they point at their feed, having no link


async def test_a_binary_page_is_refused_and_the_feed_summary_still_alerts(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    garbage = random.Random(7).randbytes(300_000)
    server.add("/binary", garbage, "text/html")
    server.add("/floods", PAGE)
    items = [
        {"guid": "bin", "title": "Attack claimed", "link": server.url("/binary"),
         "description": "ISIS-K claimed the attack on the market in Kabul."},
        {"guid": "page", "title": "Floods and a claim", "link": server.url("/floods"),
         "description": "Separately, ISIS-K claimed a bombing in Jalalabad."},
    ]  # fmt: skip
    url = server.add("/rss", rss("feed", items), RSS)
    async with open_runtime(_settings(database_url, tmp_path, [url]), extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        stored = {row.guid: row for row in await _rows(runtime, articles)}
        alerted = sorted(row.article_id for row in await _rows(runtime, alerts))

    assert stored["bin"].text == "ISIS-K claimed the attack on the market in Kabul."
    first_words = " ".join(PAGE_TEXT.split()[:6])
    assert first_words in " ".join(stored["page"].text.split())  # the page's text is kept
    assert alerted == sorted([stored["bin"].id, stored["page"].id])
