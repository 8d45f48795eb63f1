"""One round end to end on both backends: a real HTTP server on 127.0.0.1 serving RSS,
Atom and JSON Feed files whose items link to real article pages from the corpus."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from monitor.app import open_runtime
from monitor.clock import FrozenClock
from monitor.config import Settings, settings_from_dict
from monitor.scheduler import run_round
from monitor.services import open_monitor, to_json
from monitor.storage.tables import articles, feeds, outbox, stories
from tests.support.feedserver import FeedServer, atom, corpus_pages, json_feed, rss

PAGES = corpus_pages()[:9]
NAV_WORDS = "Subscribe to our newsletter"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        for page_id, html, _ in PAGES:
            srv.add(f"/a/{page_id}", html)
        yield srv


def _items(
    server: FeedServer, pages: list[tuple[str, bytes, str]], tracking: str = ""
) -> list[dict[str, str]]:
    return [
        {
            "title": f"Story {page_id[:8]}",
            "link": server.url(f"/a/{page_id}{tracking}"),
            "guid": page_id,
        }
        for page_id, _, _ in pages
    ]


def _settings(database_url: str, tmp_path: Path, feed_urls: list[str], **polling: Any) -> Settings:
    raw = {
        "database": {"url": database_url},
        "polling": {"allow_networks": ["127.0.0.0/8"], "timeout": "10s", "per_host": 4, **polling},
        "feeds": [{"url": url, "name": f"feed {i}"} for i, url in enumerate(feed_urls)],
        "watchlists": [],
        "channels": {},
    }
    return settings_from_dict(raw, base=tmp_path)


async def _count(engine: Any, table: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_round_stores_extracted_articles_then_polls_conditionally(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    urls = [
        server.add("/rss", rss("RSS", _items(server, PAGES[:3])), "application/rss+xml"),
        server.add("/atom", atom("Atom", _items(server, PAGES[3:6])), "application/atom+xml"),
        server.add("/json", json_feed("JSON", _items(server, PAGES[6:9])), "application/feed+json"),
    ]
    settings = _settings(database_url, tmp_path, urls)
    async with open_runtime(settings, extract_workers=1) as runtime:
        first = await run_round(runtime, all_feeds=True)
        assert (first.stored, first.errors) == (9, 0)
        async with runtime.engine.connect() as conn:
            rows = {r.guid: r for r in await conn.execute(select(articles))}
        for page_id, _, truth in PAGES:
            text = rows[page_id].text
            first_words = " ".join(truth.split()[:6])
            assert first_words in " ".join(text.split()), page_id
            assert NAV_WORDS not in text
        second = await run_round(runtime, all_feeds=True)
        assert (second.stored, second.errors) == (0, 0)
        assert all(p.not_modified for p in second.polls)
        assert server.counts()["/rss"] == 2
        assert server.requests[-1][1].get("If-None-Match")  # the second round was conditional
        assert await _count(runtime.engine, articles) == 9
        assert await _count(runtime.engine, stories) == 9


async def test_changed_feed_adds_only_new_entries(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    url = server.add("/rss", rss("RSS", _items(server, PAGES[:2])), "application/rss+xml")
    clock = FrozenClock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    async with open_runtime(
        _settings(database_url, tmp_path, [url]), clock=clock, extract_workers=1
    ) as runtime:
        assert (await run_round(runtime, all_feeds=True)).stored == 2
        server.add("/rss", rss("RSS", _items(server, PAGES[:4])), "application/rss+xml")
        page_requests = sum(n for p, n in server.counts().items() if p.startswith("/a/"))
        clock.advance(timedelta(hours=7))  # past max_interval: due again
        assert (await run_round(runtime)).stored == 2
        # Only the two new pages were fetched.
        assert (
            sum(n for p, n in server.counts().items() if p.startswith("/a/")) == page_requests + 2
        )


async def test_same_article_by_two_urls_or_two_feeds_is_stored_once(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    page = PAGES[:1]
    tracked = _items(server, page, "?utm_source=twitter&utm_medium=social")
    for item in tracked:
        item["guid"] = "other-guid"
    server.add(f"/a/{page[0][0]}?utm_source=twitter&utm_medium=social", page[0][1])
    urls = [
        server.add("/one", rss("one", _items(server, page)), "application/rss+xml"),
        server.add("/two", rss("two", tracked), "application/rss+xml"),
    ]
    async with open_runtime(_settings(database_url, tmp_path, urls), extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        assert report.stored == 1
        assert sum(p.duplicates for p in report.polls) == 1
        assert await _count(runtime.engine, articles) == 1


async def test_malformed_feed_is_one_clear_line_and_others_go_on(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    urls = [
        server.add("/good", rss("good", _items(server, PAGES[:2])), "application/rss+xml"),
        server.add("/broken", b"<rss><channel><title>oops</ti", "application/rss+xml"),
        server.add(
            "/html", b"<html><body><h1>Welcome</h1><p>No feed here.</p></body></html>", "text/html"
        ),
        server.add("/down", b"oops", "text/plain", status=500),
    ]
    async with open_runtime(_settings(database_url, tmp_path, urls), extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        assert report.stored == 2
        async with runtime.engine.connect() as conn:
            health = {r.url: r for r in await conn.execute(select(feeds))}
    assert health[urls[0]].state == "ok"
    for url in urls[1:]:
        assert health[url].state == "erroring"
        assert "\n" not in health[url].last_error
    assert health[urls[3]].last_error == "HTTP 500"
    assert "not a feed" in health[urls[2]].last_error


async def test_erroring_feeds_are_not_polled_more_often_than_min_interval(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    urls = [
        server.add("/broken", b"<rss><channel><title>oops</ti", "application/rss+xml"),
        server.add("/down", b"oops", "text/plain", status=500),
    ]
    clock = FrozenClock(datetime(2026, 11, 27, 12, tzinfo=UTC))
    settings = _settings(database_url, tmp_path, urls, min_interval="2m", default_interval="15m")
    async with open_runtime(settings, clock=clock, extract_workers=1) as runtime:
        for _ in range(2):  # the first error and the second, each doubling the backoff
            assert (await run_round(runtime, all_feeds=True)).errors == 2
            async with runtime.engine.connect() as conn:
                rows = list(await conn.execute(select(feeds)))
            for row in rows:
                assert row.state == "erroring"
                assert row.next_poll_at - row.last_poll_at >= timedelta(minutes=2), row.url
            clock.advance(timedelta(hours=1))


async def test_a_round_over_all_feeds_polls_each_feed_exactly_once(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    # --all ignores next_poll_at, and a small concurrency makes the round claim many times:
    # each claim must skip the feeds this round has polled already.
    urls = [server.add(f"/f{i}", rss(f"F{i}", []), "application/rss+xml") for i in range(30)]
    settings = _settings(database_url, tmp_path, urls, concurrency=4)
    async with open_runtime(settings, extract_workers=1) as runtime:
        for _ in range(2):
            report = await run_round(runtime, all_feeds=True)
            assert (len(report.polls), report.errors) == (30, 0)
    assert set(server.counts().values()) == {2}


LANGUAGE_ROUND = """
import asyncio, json, sys
from pathlib import Path
from sqlalchemy import select
from monitor.app import open_runtime
from monitor.config import settings_from_dict
from monitor.pipeline import language
from monitor.scheduler import run_round
from monitor.storage.tables import articles

async def main() -> None:
    database_url, base, *urls = sys.argv[1:]
    settings = settings_from_dict({
        "database": {"url": database_url},
        "polling": {"allow_networks": ["127.0.0.0/8"], "timeout": "10s", "fetch_articles": True},
        "feeds": [{"url": u, "name": u} for u in urls],
        "watchlists": [], "channels": {},
    }, base=Path(base))
    async with open_runtime(settings, extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        async with runtime.engine.connect() as conn:
            found = {r.guid: r.language for r in await conn.execute(select(articles))}
    print(json.dumps({
        "stored": report.stored, "languages": found, "models": language.models_loaded(),
        "modules": sorted(m for m in ("trafilatura", "py3langid", "numpy") if m in sys.modules),
    }))

asyncio.run(main())
"""


def test_the_service_process_loads_no_language_model_nor_trafilatura(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    # A page extracted (its language detected with it) and an entry whose page is gone (the
    # feed's own German text, detected in the pool too): the service process needs neither.
    german = "Die Regierung hat am Montag neue Maßnahmen gegen die Inflation angekündigt. " * 8
    items = [
        *_items(server, PAGES[:1]),
        {"title": "Weg", "link": server.url("/gone"), "guid": "gone", "description": german},
    ]
    url = server.add("/rss", rss("RSS", items), "application/rss+xml")
    child = subprocess.run(
        [sys.executable, "-c", LANGUAGE_ROUND, database_url, str(tmp_path), url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["stored"] == 2
    assert result["languages"] == {PAGES[0][0]: "en", "gone": "de"}
    assert result["models"] is False
    assert result["modules"] == []


def _declaring(html: bytes, canonical: str) -> bytes:
    """The page with `<link rel=canonical href=canonical>` first in its head."""
    head = re.search(rb"<head[^>]*>", html)
    assert head is not None
    link = f'<link rel="canonical" href="{canonical}">'.encode()
    return html[: head.end()] + link + html[head.end() :]


async def test_article_json_shows_the_declared_canonical_url_and_dedupe_keeps_its_key(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    (wire_id, wire_html, _), (plain_id, plain_html, _) = PAGES[0], PAGES[1]
    declared = server.url("/c/wire.html")  # http: its dedupe key is folded to https
    server.add("/a/wire.html", _declaring(wire_html, declared))
    server.add("/b/wire.html", _declaring(wire_html, declared))  # the same page, another URL
    plain = server.url("/a/plain.html")
    server.add("/a/plain.html", re.sub(rb'<link[^>]*rel="?canonical[^>]*>', b"", plain_html))
    items = [
        {"title": "Wire", "link": server.url("/a/wire.html"), "guid": wire_id},
        {"title": "Plain", "link": plain, "guid": plain_id},
    ]
    other = [{"title": "Wire again", "link": server.url("/b/wire.html"), "guid": "copy"}]
    urls = [
        server.add("/one", rss("one", items), "application/rss+xml"),
        server.add("/two", rss("two", other), "application/rss+xml"),
    ]
    settings = _settings(database_url, tmp_path, urls)
    async with open_runtime(settings, extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        async with open_monitor(settings, engine=runtime.engine) as m:
            shown = {a["title"]: a for a in to_json(await m.articles.list())}
            # The two feeds are polled at once: either copy of the wire page may be stored
            # first, and the other is its duplicate.
            [wire] = [shown[t] for t in ("Wire", "Wire again") if t in shown]
            detail = to_json(await m.articles.get(wire["id"]))
        async with runtime.engine.connect() as conn:
            keys = {r.guid: r.canonical_url for r in await conn.execute(select(articles))}

    assert (report.stored, sum(p.duplicates for p in report.polls)) == (2, 1)
    assert wire["canonical_url"] == detail["canonical_url"] == declared
    assert shown["Plain"]["canonical_url"] == plain  # none declared: the fetched URL
    [wire_key] = [key for guid, key in keys.items() if guid in (wire_id, "copy")]
    assert wire_key == declared.replace("http://", "https://")  # the dedupe key as before


async def test_an_alert_from_a_nameless_feeds_first_poll_names_the_feed_by_its_title(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    """The webhook body is rendered once: it must name the feed on its very first poll."""
    page = b"<html><body><article>" + b"<p>An ISKP cell was arrested in Kunar.</p>" * 20
    server.add("/a/iskp.html", page + b"</article></body></html>")
    items = [{"title": "Arrests", "link": server.url("/a/iskp.html"), "guid": "iskp"}]
    url = server.add("/feed", rss("Outlet Without A Name", items), "application/rss+xml")
    raw = {
        "database": {"url": database_url},
        "polling": {"allow_networks": ["127.0.0.0/8"], "timeout": "10s"},
        "feeds": [{"url": url}],
        "watchlists": [{"name": "iskp", "terms": ["ISKP"], "channels": ["desk"]}],
        "channels": {"desk": {"type": "log"}},
    }
    settings = settings_from_dict(raw, base=tmp_path)
    async with open_runtime(settings, extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        async with runtime.engine.connect() as conn:
            bodies = [json.loads(b) for b in (await conn.scalars(select(outbox.c.body))).all()]

    assert [b["article"]["feed"] for b in bodies] == [{"url": url, "name": "Outlet Without A Name"}]
