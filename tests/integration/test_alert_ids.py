"""Alert ids across databases: two installations fed the same stories never share an id
(a receiver deduping by `webhook-id` would drop the second), and one database keeps an
alert's id across restarts and migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig, LogChannelConfig
from monitor.models import AlertContext, Article, TermCount, WatchlistMatch
from monitor.notify.payload import alert_rows
from monitor.pipeline import dedupe
from monitor.storage.articles import installation_id
from monitor.storage.engine import create_engine, upgrade
from monitor.storage.feeds import sync_config_feeds
from monitor.storage.store import store_article
from monitor.storage.tables import alerts, feeds, outbox
from tests.support.databases import pg_database

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CHANNELS = {"desk-log": LogChannelConfig(type="log")}
TEXTS = [
    f"Story {n}: officials in province {n} said ISIS-K claimed attack number {n} on a market, "
    f"the {n}th such claim this year, while police counted {n * 7} arrests across {n} districts."
    for n in range(1, 8)
]


@pytest.fixture
async def second_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """Another migrated database on the same backend: a second installation."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
        await _migrate(url)
        yield url
        return
    async with pg_database() as url:
        await _migrate(url)
        yield url


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _article(feed_id: int, n: int) -> Article:
    text = TEXTS[n]
    print_ = dedupe.fingerprint(text)
    return Article(
        feed_id=feed_id,
        guid=f"g{n}",
        url=f"http://outlet.test/{n}",
        canonical_url=f"http://outlet.test/{n}",
        title=f"Story {n}",
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


def _build(
    match: WatchlistMatch, context: AlertContext
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return alert_rows(match, context, CHANNELS, NOW)


def _no_story(_candidates: Sequence[tuple[int, bytes]], _new: Article) -> int | None:
    return None


MATCH = WatchlistMatch(
    watchlist="isis-k",
    severity="high",
    channels=("desk-log",),
    matches=(TermCount("ISIS-K", "ISIS-Khorasan", 1),),
    snippets=("…ISIS-K claimed…",),
)


async def _alert_ids(url: str) -> list[str]:
    """Store the seven stories in the database at `url`; return the alert ids, in order."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await sync_config_feeds(conn, [FeedConfig(url="http://outlet.test/rss")], NOW)
            feed_id = int(await conn.scalar(select(feeds.c.id)) or 0)
        ids = []
        for n in range(len(TEXTS)):
            result = await store_article(
                engine, _article(feed_id, n), [MATCH], pick=_no_story, build=_build,
                window=timedelta(hours=72),
            )  # fmt: skip
            ids.extend(result.alert_ids)
        return ids
    finally:
        await engine.dispose()


async def test_two_databases_fed_the_same_stories_share_no_alert_id(
    database_url: str, second_url: str
) -> None:
    mine, theirs = await _alert_ids(database_url), await _alert_ids(second_url)

    assert len(mine) == len(theirs) == len(TEXTS)
    assert set(mine).isdisjoint(theirs)


async def test_message_ids_are_the_alert_id_of_their_database(engine: AsyncEngine) -> None:
    ids = await _alert_ids(str(engine.url.render_as_string(hide_password=False)))

    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.message_id, outbox.c.alert_id))).all()
    assert sorted(row.alert_id for row in rows) == sorted(ids)
    assert all(row.message_id.startswith(row.alert_id + ".") for row in rows)


async def test_installation_id_survives_restarts_and_repeated_upgrades(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            before = await installation_id(conn)
        await upgrade(engine)
    finally:
        await engine.dispose()
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await installation_id(conn) == before
            stored = (await conn.execute(select(alerts.c.id))).all()
    finally:
        await engine.dispose()
    assert len(before) == 32
    assert stored == []
