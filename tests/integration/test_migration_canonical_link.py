"""Migration 0009 (articles.canonical_link) on both backends: rows stored before it get
their fetched URL as the link, the dedupe key is left as it was, SQLite's full-text
triggers survive it both ways, and it downgrades to 0008 and upgrades again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import is_sqlite, upgrade
from monitor.storage.tables import articles, feeds, stories
from tests.support.migrations import empty_database, migrate_to

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
FETCHED = "http://127.0.0.1:18001/a/wire.html?utm_source=rss"
KEY = "https://127.0.0.1:18001/a/wire.html"


@pytest.fixture
async def fresh(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with no tables yet."""
    async with empty_database(backend, tmp_path) as engine:
        yield engine


async def _shape(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    """The articles columns, and (SQLite) the triggers on articles."""

    def read(connection: Connection) -> tuple[set[str], set[str]]:
        columns = {c["name"] for c in inspect(connection).get_columns("articles")}
        if connection.dialect.name != "sqlite":
            return columns, set()
        query = text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return columns, {str(name) for (name,) in connection.execute(query)}

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def test_0009_fills_older_rows_with_their_url_and_round_trips(fresh: AsyncEngine) -> None:
    await migrate_to(fresh, "0008")
    _, triggers = await _shape(fresh)
    async with fresh.begin() as conn:
        feed = await conn.scalar(
            insert(feeds)
            .values(url="http://127.0.0.1:18001/rss", next_poll_at=NOW, created_at=NOW)
            .returning(feeds.c.id)
        )
        story = await conn.scalar(
            insert(stories).values(first_seen=NOW, last_seen=NOW).returning(stories.c.id)
        )
        await conn.execute(
            insert(articles).values(
                feed_id=feed, guid="g", url=FETCHED, canonical_url=KEY, fetched_at=NOW,
                text="body", content_hash="h", story_id=story,
            )
        )  # fmt: skip
    await upgrade(fresh)
    async with fresh.connect() as conn:
        row = (await conn.execute(select(articles))).one()
    columns, kept = await _shape(fresh)
    assert (row.url, row.canonical_url, row.canonical_link) == (FETCHED, KEY, FETCHED)
    assert kept == triggers
    assert not is_sqlite(fresh) or {"articles_fts_ai", "articles_fts_au"} <= kept
    await migrate_to(fresh, "0008", down=True)
    columns, kept = await _shape(fresh)
    assert "canonical_link" not in columns
    assert kept == triggers
    await upgrade(fresh)
    columns, _ = await _shape(fresh)
    assert "canonical_link" in columns
