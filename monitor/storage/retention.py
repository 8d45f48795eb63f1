"""Retention SQL: prune old article text, delete old articles and stale near-duplicate band
keys, in batches of a few hundred rows per transaction so no lock is held for long.

Deleting an article keeps its alerts (their `article_id` becomes NULL), its story (recounted
in the same transaction: `storage.stories.recounting`) and its `entries` row (so the poller
never stores the same entry again); its matches and band keys go with it (ON DELETE
CASCADE).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.periodic import get_mark, set_mark
from monitor.storage.stories import recounting
from monitor.storage.tables import articles, story_bands

BATCH = 500
TEXT_MARK = "retention:text-pruned-before"


async def _prune_text_batch(
    engine: AsyncEngine, after: tuple[datetime, int] | None, before: datetime, batch: int
) -> tuple[int, tuple[datetime, int] | None]:
    query = select(articles.c.id, articles.c.fetched_at).where(
        articles.c.fetched_at < before, articles.c.text.is_not(None)
    )
    if after is not None:
        # Keyset paging on (fetched_at, id): rows this run already pruned are not rescanned.
        query = query.where(
            or_(
                articles.c.fetched_at > after[0],
                and_(articles.c.fetched_at == after[0], articles.c.id > after[1]),
            )
        )
    async with engine.begin() as conn:
        rows = list(
            await conn.execute(query.order_by(articles.c.fetched_at, articles.c.id).limit(batch))
        )
        if not rows:
            return 0, None
        await conn.execute(
            update(articles)
            .where(articles.c.id.in_([row.id for row in rows]))
            .values(text=None, signature=None)
        )
    return len(rows), (rows[-1].fetched_at, rows[-1].id)


async def prune_text(engine: AsyncEngine, before: datetime, *, batch: int = BATCH) -> int:
    """Set `text` and `signature` to NULL on articles fetched before `before`; return how many.

    A watermark remembers how far earlier runs got, so each run only reads the rows
    fetched since (article text once pruned stays pruned).
    """
    async with engine.connect() as conn:
        mark = await get_mark(conn, TEXT_MARK)
    if mark is not None and mark >= before:
        return 0
    after = (mark, 0) if mark is not None else None
    total = 0
    while True:
        count, after = await _prune_text_batch(engine, after, before, batch)
        total += count
        if after is None:
            break
        await asyncio.sleep(0)  # let the worker's other tasks run between batches
    async with engine.begin() as conn:
        await set_mark(conn, TEXT_MARK, before)
    return total


async def _delete_batch(engine: AsyncEngine, before: datetime, batch: int) -> int:
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                select(articles.c.id, articles.c.story_id)
                .where(articles.c.fetched_at < before)
                .order_by(articles.c.fetched_at)
                .limit(batch)
            )
        ).all()
        if rows:
            leaving = articles.c.id.in_([r.id for r in rows])
            async with recounting(conn, (row.story_id for row in rows), leaving):
                await conn.execute(delete(articles).where(leaving))
        return len(rows)


async def delete_articles(engine: AsyncEngine, before: datetime, *, batch: int = BATCH) -> int:
    """Delete articles fetched before `before` and recount their stories (alerts, stories and
    entries stay)."""
    total = 0
    while count := await _delete_batch(engine, before, batch):
        total += count
        await asyncio.sleep(0)
    return total


async def _delete_bands_batch(engine: AsyncEngine, before: datetime, batch: int) -> int:
    async with engine.begin() as conn:
        # Delete up to the created_at of the batch-th oldest key: about `batch` rows
        # (plus ties), without a DELETE … LIMIT, which PostgreSQL does not have.
        edge = await conn.scalar(
            select(story_bands.c.created_at)
            .where(story_bands.c.created_at < before)
            .order_by(story_bands.c.created_at)
            .offset(batch - 1)
            .limit(1)
        )
        condition = (
            story_bands.c.created_at <= edge
            if edge is not None
            else story_bands.c.created_at < before
        )
        result = await conn.execute(delete(story_bands).where(condition))
        return int(result.rowcount)


async def prune_bands(engine: AsyncEngine, before: datetime, *, batch: int = BATCH) -> int:
    """Delete near-duplicate band keys created before `before` (older than the story window,
    they can never match again)."""
    total = 0
    while count := await _delete_bands_batch(engine, before, batch):
        total += count
        await asyncio.sleep(0)
    return total
