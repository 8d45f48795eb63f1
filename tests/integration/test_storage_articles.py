"""The article write path on both backends: dedupe keys, stories, one alert per (watchlist, story)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig, LogChannelConfig
from monitor.models import AlertContext, Article, TermCount, WatchlistMatch
from monitor.notify.payload import alert_rows
from monitor.pipeline import dedupe
from monitor.storage.articles import StoreResult, store_article
from monitor.storage.feeds import claim_due, sync_config_feeds
from monitor.storage.tables import alerts, articles, outbox, stories

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SEED = (Path(__file__).parents[1] / "fixtures" / "seed-article.txt").read_text(encoding="utf-8")
OTHER = (
    "Pakistani officials said on Tuesday that floods in Sindh province had displaced thousands of "
    "families, and relief agencies appealed for tents, clean water and medicine as the river rose "
    "again overnight near Sukkur and Hyderabad, where schools were turned into shelters."
)
CHANNELS = {"desk-log": LogChannelConfig(type="log")}


def _article(feed_id: int, guid: str, text: str, url: str | None = None) -> Article:
    print_ = dedupe.fingerprint(text)
    return Article(
        feed_id=feed_id,
        guid=guid,
        url=url or f"http://outlet.test/{guid}",
        canonical_url=url or f"http://outlet.test/{guid}",
        title=text.split("\n")[0][:80],
        author="",
        published_at=NOW,
        fetched_at=NOW,
        summary="",
        text=text,
        language="en",
        content_hash=dedupe.content_hash(text),
        signature=dedupe.pack_fingerprint(print_),
        bands=print_.bands,
    )


def _match(watchlist: str) -> WatchlistMatch:
    return WatchlistMatch(
        watchlist=watchlist,
        severity="high",
        channels=("desk-log",),
        matches=(TermCount("ISIS-K", "ISIS-Khorasan", 2),),
        snippets=("…expansion of ISIS-Khorasan…",),
    )


def _pick(candidates: Sequence[tuple[int, bytes]], new: Article) -> int | None:
    mine = dedupe.unpack_fingerprint(new.signature)
    options = [(s, dedupe.unpack_fingerprint(p)) for s, p in candidates]
    return dedupe.pick_story(options, mine, 0.7)


def _build(
    match: WatchlistMatch, context: AlertContext
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return alert_rows(match, context, CHANNELS, NOW)


async def _store(
    engine: AsyncEngine, article: Article, found: Sequence[WatchlistMatch] = ()
) -> StoreResult:
    return await store_article(
        engine, article, found, pick=_pick, build=_build, window=timedelta(hours=72)
    )


async def _feeds(engine: AsyncEngine, n: int) -> list[int]:
    async with engine.begin() as conn:
        await sync_config_feeds(
            conn, [FeedConfig(url=f"http://f{i}.test/rss") for i in range(n)], NOW
        )
    rows = await claim_due(engine, now=NOW, owner="t", lease=timedelta(minutes=5), limit=n)
    return sorted(r.id for r in rows)


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_duplicates_by_guid_url_and_hash_are_dropped(engine: AsyncEngine) -> None:
    f1, f2 = await _feeds(engine, 2)
    first = await _store(engine, _article(f1, "a", SEED))
    assert first.article_id is not None
    assert (await _store(engine, _article(f1, "a", SEED + " edited"))).duplicate_of == "guid"
    same_url = _article(f2, "b", OTHER, url="http://outlet.test/a")
    assert (await _store(engine, same_url)).duplicate_of == "url"
    same_text = _article(f2, "c", SEED, url="http://mirror.test/copy")
    assert (await _store(engine, same_text)).duplicate_of == "hash"
    assert await _count(engine, articles) == 1


async def test_syndicated_copies_join_one_story_and_alert_once(engine: AsyncEngine) -> None:
    feed_ids = await _feeds(engine, 4)
    results = []
    for i, feed_id in enumerate(feed_ids):
        body = f"KABUL (Outlet {i}) - " + SEED + f"\n\nRead more at outlet {i}."
        results.append(await _store(engine, _article(feed_id, f"s{i}", body), [_match("isis-k")]))
    assert len({r.story_id for r in results}) == 1
    assert [len(r.alert_ids) for r in results] == [1, 0, 0, 0]
    async with engine.connect() as conn:
        count = await conn.scalar(select(stories.c.article_count))
    assert count == 4
    assert await _count(engine, alerts) == 1
    assert await _count(engine, outbox) == 1
    # A copy matching another watchlist raises that watchlist's alert, on the same story.
    extra = _article(feed_ids[0], "s9", SEED + "\n\nThe ISKP claim was posted late on Friday.")
    result = await _store(engine, extra, [_match("isis-k"), _match("iskp-claims")])
    assert result.story_id == results[0].story_id
    assert len(result.alert_ids) == 1
    assert await _count(engine, alerts) == 2


async def test_different_stories_stay_apart(engine: AsyncEngine) -> None:
    (f1,) = await _feeds(engine, 1)
    a = await _store(engine, _article(f1, "a", SEED), [_match("isis-k")])
    b = await _store(engine, _article(f1, "b", OTHER), [_match("isis-k")])
    assert a.story_id != b.story_id
    assert await _count(engine, alerts) == 2


async def test_concurrent_copies_make_one_story_and_one_alert(engine: AsyncEngine) -> None:
    feed_ids = await _feeds(engine, 6)
    copies = [
        _article(feed_id, f"c{i}", f"Outlet {i} report. " + SEED)
        for i, feed_id in enumerate(feed_ids)
    ]
    results = await asyncio.gather(*(_store(engine, c, [_match("isis-k")]) for c in copies))
    assert len({r.story_id for r in results}) == 1
    assert sum(len(r.alert_ids) for r in results) == 1
    assert await _count(engine, stories) == 1


async def test_the_same_entry_twice_at_once_is_stored_once(engine: AsyncEngine) -> None:
    (f1,) = await _feeds(engine, 1)
    article = _article(f1, "same", SEED)
    results = await asyncio.gather(*(_store(engine, replace(article)) for _ in range(4)))
    assert sum(r.article_id is not None for r in results) == 1
    assert await _count(engine, articles) == 1
