"""Evidence kept by the write path on both backends: a later copy joining an alerted story
is kept too (an unalerted story is not), a body past `[evidence] max_bytes` is cut with a
note, and retention prunes article text and deletes articles without touching evidence,
which goes only when `[retention] evidence` says so."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from warcio.archiveiterator import ArchiveIterator

from monitor.app import open_runtime
from monitor.config import RetentionConfig, StoriesConfig
from monitor.notify.outbox import alert_builder
from monitor.pipeline.match import Matcher
from monitor.retention import apply_retention
from monitor.scheduler import run_round
from monitor.services.backfill import backfill
from monitor.storage.tables import articles, evidence_blobs, evidence_snapshots
from tests.support.evidence_site import (
    MARKET,
    WATCHLIST,
    Site,
    alert_payloads,
    english_page,
    export,
    serve_site,
    site_settings,
)
from tests.support.feedserver import FeedServer, rss


@pytest.fixture
def site() -> Iterator[Site]:
    with FeedServer() as server:
        yield serve_site(server)


async def _count(runtime: Any, table: Any) -> int:
    async with runtime.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def _payloads(runtime: Any) -> list[dict[str, Any]]:
    return await alert_payloads(runtime)


def _records(path: Path) -> list[tuple[str, bytes, Any]]:
    with path.open("rb") as stream:
        return [
            (r.rec_type, r.raw_stream.read(), r.rec_headers)
            for r in ArchiveIterator(stream, check_digests="raise")
        ]


async def test_a_copy_joining_an_alerted_story_is_kept_and_an_unalerted_story_is_not(
    database_url: str, tmp_path: Path
) -> None:
    with FeedServer() as server:
        server.add("/a", english_page("Market attack", MARKET))
        # A copy the watchlist does not match (its exclude term) but that joins the story.
        server.add("/b", english_page("Market attack", [*MARKET, "Correction notice appended."]))
        server.add(
            "/c",
            "<html><body><article><p>" + "Weather is mild. " * 40 + "</p></article></body></html>",
        )
        items = [{"title": "Market attack", "link": server.url("/a"), "guid": "a"}]
        feed = server.add("/rss", rss("Outlet", items), "application/rss+xml")
        settings = site_settings(database_url, tmp_path, feed, exclude=("correction notice",))
        async with open_runtime(settings, extract_workers=1) as runtime:
            assert (await run_round(runtime, all_feeds=True)).alerts == 1
            items += [
                {"title": "Market attack (corrected)", "link": server.url("/b"), "guid": "b"},
                {"title": "Weather", "link": server.url("/c"), "guid": "c"},
            ]
            server.add("/rss", rss("Outlet", items), "application/rss+xml")
            second = await run_round(runtime, all_feeds=True)
            (payload,) = await _payloads(runtime)
            async with runtime.engine.connect() as conn:
                kept = list(await conn.execute(select(evidence_snapshots)))
            path = tmp_path / "story.warc.gz"
            await export(runtime, payload["id"], path)
    assert (second.stored, second.alerts) == (2, 0)
    assert payload["story"]["articles"] == 2
    assert sorted(row.meta["url"] for row in kept) == [server.url("/a"), server.url("/b")]
    assert [a["url"] for a in payload["evidence"]["articles"]] == [
        server.url("/a"),
        server.url("/b"),
    ]
    responses = [body for kind, body, _ in _records(path) if kind == "response"]
    assert len(responses) == 2


async def test_a_body_past_the_cap_is_cut_with_a_note_and_its_whole_digest_kept(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    settings = site_settings(database_url, tmp_path, site.feed_url, evidence={"max_bytes": 300})
    final = site.page_url("final")
    async with open_runtime(settings, extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        payload = next(
            p for p in await _payloads(runtime) if p["article"]["url"] == site.page_url("hop1")
        )
        path = tmp_path / "cut.warc.gz"
        await export(runtime, payload["id"], path)
        async with runtime.engine.connect() as conn:
            note = await conn.scalar(
                select(evidence_snapshots.c.cut_note).where(evidence_snapshots.c.final_url == final)
            )
    sent = site.served[final]
    (kept,) = payload["evidence"]["articles"]
    assert kept["truncated"] is True
    assert kept["response_sha256"] == hashlib.sha256(sent).hexdigest()
    assert note.startswith("body cut at 300 bytes")
    assert str(len(sent)) in note
    response = [(body, headers) for kind, body, headers in _records(path) if kind == "response"][-1]
    assert response[0] == sent[:300]
    assert response[1].get_header("WARC-Truncated") == "length"


async def test_retention_prunes_text_and_deletes_articles_but_evidence_stays_until_its_own_term(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    settings = site_settings(database_url, tmp_path, site.feed_url)
    retention, stories = RetentionConfig(), StoriesConfig()
    assert retention.evidence == timedelta(days=5 * 365)
    async with open_runtime(settings, extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        now = runtime.clock.now()
        payload = next(
            p for p in await _payloads(runtime) if p["article"]["url"] == site.page_url("gzip")
        )
        async with runtime.engine.connect() as conn:
            text = await conn.scalar(
                select(articles.c.text).where(articles.c.url == site.page_url("gzip"))
            )
        pruned = await apply_retention(
            runtime.engine, retention, stories, now + timedelta(days=100)
        )
        assert pruned.texts_pruned == 3
        assert pruned.snapshots_deleted == 0
        exported = []
        for label, later in (("pruned", 100), ("deleted", 3 * 365)):
            report = await apply_retention(
                runtime.engine, retention, stories, now + timedelta(days=later)
            )
            path = tmp_path / f"{label}.warc.gz"
            await export(runtime, payload["id"], path)
            exported.append(_records(path))
        assert report.articles_deleted == 3
        assert await _count(runtime, articles) == 0
        assert await _count(runtime, evidence_snapshots) == 3
        after = next(p for p in await _payloads(runtime) if p["id"] == payload["id"])
        gone = await apply_retention(
            runtime.engine, retention, stories, now + timedelta(days=6 * 365)
        )
        assert gone.snapshots_deleted == 3
        assert await _count(runtime, evidence_snapshots) == 0
        assert await _count(runtime, evidence_blobs) == 0
    assert after["evidence"]["articles"] == payload["evidence"]["articles"]
    for records in exported:
        (conversion,) = [body for kind, body, _ in records if kind == "conversion"]
        assert conversion.decode() == text
        (response,) = [body for kind, body, _ in records if kind == "response"]
        assert response == site.served[site.page_url("gzip")]
        alert = json.loads([body for kind, body, _ in records if kind == "metadata"][-1])
        assert alert["alert"]["id"] == payload["id"]


async def test_a_backfilled_alert_keeps_the_stored_text_as_its_evidence(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    settings = site_settings(database_url, tmp_path, site.feed_url)
    quiet = settings.model_copy(update={"watchlists": ()})
    async with open_runtime(quiet, extract_workers=1) as runtime:
        assert (await run_round(runtime, all_feeds=True)).alerts == 0
        matcher = Matcher.compile(settings.watchlists)
        build = alert_builder(settings, runtime.clock)
        report = await backfill(runtime.engine, matcher, WATCHLIST, build=build)
        assert report.new_alerts == 3
        payload = next(
            p for p in await _payloads(runtime) if p["article"]["url"] == site.page_url("gzip")
        )
        async with runtime.engine.connect() as conn:
            text = await conn.scalar(
                select(articles.c.text).where(articles.c.url == site.page_url("gzip"))
            )
        path = tmp_path / "backfilled.warc.gz"
        await export(runtime, payload["id"], path)
    assert payload["evidence"]["export"].endswith(f"{payload['id']}.warc.gz")
    (kept,) = payload["evidence"]["articles"]
    assert kept["response_sha256"] is None
    assert kept["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    kinds = [kind for kind, _, _ in _records(path)]
    assert "response" not in kinds
    (conversion,) = [body for kind, body, _ in _records(path) if kind == "conversion"]
    assert conversion.decode() == text
