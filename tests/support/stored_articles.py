"""Stored articles for the search and backfill tests, written through the real write path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig, LogChannelConfig
from monitor.models import AlertContext, Article, TermCount, WatchlistMatch
from monitor.notify.payload import alert_rows
from monitor.pipeline import dedupe
from monitor.storage.feeds import sync_config_feeds
from monitor.storage.store import store_article
from monitor.storage.tables import feeds

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SEED = (Path(__file__).parents[1] / "fixtures" / "seed-article.txt").read_text(encoding="utf-8")
SEED_TITLE, SEED_BODY = SEED.split("\n", 1)
CHANNELS = {"desk-log": LogChannelConfig(type="log")}
# What the isis-k watchlist finds in the seed text, for tests that store an alerting article.
ISIS_K_MATCH = WatchlistMatch(
    watchlist="isis-k",
    severity="high",
    channels=("desk-log",),
    matches=(TermCount("ISIS-K", "ISIS-Khorasan", 1),),
    snippets=("…ISIS-K…",),
)
# A text of another story (no band key in common with the seed).
FLOODS_BODY = (
    "Relief agencies appealed for tents, clean water and medicine as the river rose again "
    "overnight near Sukkur and Hyderabad, where schools were turned into shelters for the "
    "thousands of families the floods in Sindh province had displaced since the weekend."
)


async def add_feeds(engine: AsyncEngine, *configs: FeedConfig) -> dict[str, int]:
    """Config feeds by URL → id."""
    async with engine.begin() as conn:
        await sync_config_feeds(conn, configs, NOW)
        rows = await conn.execute(select(feeds.c.url, feeds.c.id))
        return {row.url: row.id for row in rows}


def article(
    feed_id: int,
    guid: str,
    title: str,
    text: str,
    *,
    age: timedelta = timedelta(0),
    language: str = "en",
) -> Article:
    """An article fetched `age` before NOW, with its dedupe keys."""
    print_ = dedupe.fingerprint(text)
    return Article(
        feed_id=feed_id,
        guid=guid,
        url=f"http://outlet.test/{guid}",
        canonical_url=f"http://outlet.test/{guid}",
        title=title,
        author="",
        published_at=NOW - age,
        fetched_at=NOW - age,
        summary="",
        text=text,
        language=language,
        content_hash=dedupe.content_hash(title + text),
        signature=dedupe.pack_fingerprint(print_),
        bands=print_.bands,
    )


def _pick(candidates: Sequence[tuple[int, bytes]], new: Article) -> int | None:
    mine = dedupe.unpack_fingerprint(new.signature)
    options = [(story, dedupe.unpack_fingerprint(packed)) for story, packed in candidates]
    return dedupe.pick_story(options, mine, 0.7)


def build(match: WatchlistMatch, context: AlertContext) -> tuple[dict[str, Any], list[Any]]:
    """The notify layer's alert builder with a fixed clock and one log channel."""
    return alert_rows(match, context, CHANNELS, NOW)


async def store(
    engine: AsyncEngine, item: Article, found: Sequence[WatchlistMatch] = ()
) -> tuple[int, int]:
    """Store through the pipeline's write path; (article id, story id)."""
    result = await store_article(
        engine, item, found, pick=_pick, build=build, window=timedelta(days=400)
    )
    assert result.article_id is not None, result
    assert result.story_id is not None
    return result.article_id, result.story_id
