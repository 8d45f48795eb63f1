"""Story rows kept true to their articles when articles are deleted (`feeds remove`,
retention): `recounting` wraps the deletion and, in the same transaction, sets each
affected story's article count, first and last seen, and representative from the articles
it still has.

A story left without articles keeps its row, title and dates, with a count of 0 and no
representative: its alerts and evidence still cite it.

Concurrency (PostgreSQL): the stories are locked before the deletion, in the advisory lock
space the write path locks the stories a batch joins (`STORY_LOCK_SPACE`), so the recount
reads after any batch adding to them has committed, and a batch that comes later adds to the
recounted row. The locks are taken in story order before any article row is deleted, the
order the write path takes them in, so the two never deadlock.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.dialect import in_chunks, xact_locks
from monitor.storage.tables import articles, stories

STORY_LOCK_SPACE = 8  # advisory lock space of the stories a transaction adds to or recounts


async def lock_stories(conn: AsyncConnection, story_ids: Iterable[int]) -> None:
    """Hold the stories' advisory locks until the transaction ends (PostgreSQL)."""
    await xact_locks(conn, STORY_LOCK_SPACE, sorted(set(story_ids)))


@contextlib.asynccontextmanager
async def recounting(conn: AsyncConnection, story_ids: Iterable[int]) -> AsyncIterator[None]:
    """Lock the stories, run the block (which deletes some of their articles), then recount
    them from the articles they still have."""
    ids = sorted(set(story_ids))
    await lock_stories(conn, ids)
    yield
    for chunk in in_chunks(ids):
        await conn.execute(_recount().where(stories.c.id.in_(chunk)))


def _recount() -> Any:
    of_story = articles.c.story_id == stories.c.id
    kept = select(articles.c.id).where(
        articles.c.id == stories.c.representative_article_id, of_story
    )
    earliest = select(articles.c.id).where(of_story).order_by(articles.c.fetched_at, articles.c.id)
    return update(stories).values(
        article_count=select(func.count()).where(of_story).scalar_subquery(),
        first_seen=func.coalesce(
            select(func.min(articles.c.fetched_at)).where(of_story).scalar_subquery(),
            stories.c.first_seen,
        ),
        last_seen=func.coalesce(
            select(func.max(articles.c.fetched_at)).where(of_story).scalar_subquery(),
            stories.c.last_seen,
        ),
        representative_article_id=func.coalesce(
            kept.scalar_subquery(), earliest.limit(1).scalar_subquery()
        ),
    )
