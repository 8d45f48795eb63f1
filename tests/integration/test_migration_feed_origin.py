"""Migration 0011 (feeds.origin) on both backends: a feed stored before it keeps reading
`cli`, and it downgrades to 0010 and upgrades again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import upgrade
from tests.support.migrations import empty_database, migrate_to
from tests.support.usecases import use_cases

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.fixture
async def fresh(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with no tables yet."""
    async with empty_database(backend, tmp_path) as engine:
        yield engine


async def _columns(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda c: {column["name"] for column in inspect(c).get_columns("feeds")}
        )


async def test_0011_keeps_older_feeds_as_cli_and_round_trips(fresh: AsyncEngine) -> None:
    await migrate_to(fresh, "0010")
    async with fresh.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO feeds (url, name, title, tags, headers, state, error_count,"
                " next_poll_at, created_at) VALUES ('http://old.test/rss', '', '', '[]', '{}',"
                " 'ok', 0, :now, :now)"
            ),
            {"now": NOW},
        )
    await upgrade(fresh)
    assert "origin" in await _columns(fresh)
    monitor, _ = use_cases(fresh, NOW)
    (feed,) = await monitor.feeds.list()
    assert feed.source == "cli"
    await migrate_to(fresh, "0010", down=True)
    assert "origin" not in await _columns(fresh)
    await upgrade(fresh)
    assert "origin" in await _columns(fresh)
