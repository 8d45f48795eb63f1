"""Watchlist versions on both backends: one row per distinct definition, numbered in order
of first load; loading a known definition again (even after another) reuses its number;
workers loading the same edit at once record it once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.app import record_watchlists
from monitor.config import WatchlistConfig
from monitor.storage.watchlist_versions import list_versions, record_version

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def definition(*terms: str) -> tuple[str, str]:
    text = WatchlistConfig.model_validate({"name": "w", "terms": list(terms)}).canonical_json()
    return text, hashlib.sha256(text.encode()).hexdigest()


async def test_each_distinct_definition_is_recorded_once_in_order(engine: AsyncEngine) -> None:
    one, two = definition("ISKP"), definition("ISKP", "IS-K")
    later = NOW + timedelta(hours=1)
    assert await record_version(engine, "w", *one, host="h1", now=NOW) == 1
    assert await record_version(engine, "w", *one, host="h2", now=later) == 1
    assert await record_version(engine, "w", *two, host="h2", now=later) == 2
    assert await record_version(engine, "w", *one, host="h3", now=later) == 1
    assert await record_version(engine, "other", *two, host="h3", now=later) == 1
    async with engine.connect() as conn:
        rows = await list_versions(conn, "w")
    assert [(r["version"], r["sha256"], r["host"]) for r in rows] == [
        (1, one[1], "h1"),
        (2, two[1], "h2"),
    ]
    assert rows[0]["first_loaded_at"] == NOW
    assert rows[0]["last_loaded_at"] == later
    assert rows[1]["definition"] == two[0]


async def test_workers_loading_the_same_edit_together_record_it_once(engine: AsyncEngine) -> None:
    watchlists = [WatchlistConfig.model_validate({"name": "w", "terms": ["ISKP"]})]
    results = await asyncio.gather(*(record_watchlists(engine, watchlists, NOW) for _ in range(6)))
    assert results == [{"w": 1}] * 6
    async with engine.connect() as conn:
        assert len(await list_versions(conn, "w")) == 1
