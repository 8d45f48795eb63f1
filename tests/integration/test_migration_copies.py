"""Migration 0010 (content_hash no longer unique) on both backends, on a database with data:
every row and every reference to an article survives (on SQLite the table is rebuilt, which
with foreign keys enforced would cascade), the full-text search still finds old and new
articles, a second copy of a text can be stored, and downgrading is refused while one is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig
from monitor.storage.engine import upgrade
from monitor.storage.tables import alerts, articles, entries, matches, story_bands
from tests.support.migrations import empty_database, migrate_to
from tests.support.stored_articles import (
    FLOODS_BODY,
    ISIS_K_MATCH,
    NOW,
    SEED_BODY,
    SEED_TITLE,
    add_feeds,
    article,
    store,
)
from tests.support.usecases import use_cases

MATCH = ISIS_K_MATCH
OTHER = FLOODS_BODY


@pytest.fixture
async def engine_at_0009(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database migrated to 0009 (before this revision)."""
    async with empty_database(backend, tmp_path) as engine:
        await migrate_to(engine, "0009")
        yield engine


async def _references(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return {
            "articles": (await conn.execute(select(articles.c.id).order_by(articles.c.id))).all(),
            "matches": await conn.scalar(select(func.count()).select_from(matches)),
            "bands": await conn.scalar(select(func.count()).select_from(story_bands)),
            "alerts": (await conn.execute(select(alerts.c.id, alerts.c.article_id))).all(),
            "entries": (await conn.execute(select(entries.c.guid, entries.c.article_id))).all(),
        }


def _content_hash_keys(connection: Connection) -> tuple[list[Any], list[Any]]:
    found = inspect(connection)
    unique = [
        u["column_names"]
        for u in found.get_unique_constraints("articles")
        if u["column_names"] == ["content_hash"]
    ]
    indexes = [i for i in found.get_indexes("articles") if i["column_names"] == ["content_hash"]]
    return unique, indexes


async def test_0010_keeps_every_row_and_lets_a_text_be_stored_twice(
    engine_at_0009: AsyncEngine,
) -> None:
    engine = engine_at_0009
    ids = await add_feeds(
        engine, FeedConfig(url="http://a.test/rss"), FeedConfig(url="http://b.test/rss")
    )
    first, second = ids["http://a.test/rss"], ids["http://b.test/rss"]
    await store(
        engine, article(first, "seed", SEED_TITLE, SEED_BODY, age=timedelta(hours=1)), [MATCH]
    )
    await store(engine, article(first, "floods", "Floods in Sindh", OTHER))
    before = await _references(engine)
    assert before["matches"]
    assert before["bands"]
    assert before["alerts"][0].article_id

    await upgrade(engine)

    assert await _references(engine) == before
    async with engine.connect() as conn:
        unique, indexes = await conn.run_sync(_content_hash_keys)
        if engine.dialect.name == "sqlite":  # the pooled connection enforces them again
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    assert (unique, [i["unique"] for i in indexes]) == ([], [False])
    copy = article(second, "seed-copy", SEED_TITLE, SEED_BODY)
    copy_id, _ = await store(engine, copy, [MATCH])
    monitor, _ = use_cases(engine, NOW)
    found = await monitor.articles.search('"ISIS-Khorasan"')
    assert sorted(a.article.id for a in found.articles) == [before["articles"][0].id, copy_id]
    assert [a.article.id for a in (await monitor.articles.search("Hyderabad")).articles] == [
        before["articles"][1].id
    ]

    await migrate_to(engine, "0010", down=True)  # the later revisions first: SQLite's DDL is not
    # rolled back with the refused downgrade below, its version row is
    with pytest.raises(RuntimeError, match="more than once"):
        await migrate_to(engine, "0009", down=True)
    async with engine.begin() as conn:
        await conn.execute(delete(articles).where(articles.c.id == copy_id))
    await migrate_to(engine, "0009", down=True)
    async with engine.connect() as conn:
        unique, indexes = await conn.run_sync(_content_hash_keys)
    assert unique == [["content_hash"]]
    assert all(i["unique"] for i in indexes)  # PostgreSQL lists the constraint's own index
    assert (await _references(engine))["matches"] == before["matches"]
