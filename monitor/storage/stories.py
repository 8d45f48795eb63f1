"""Story rows kept true to their articles when articles are deleted (`feeds remove`,
retention): `recounting` wraps the deletion and, in the same transaction, sets each
affected story's article count, first and last seen, and representative from the articles
it still has.

A story's near-duplicate band keys (`story_bands`) are held by the article that added them
and would go with it (ON DELETE CASCADE): a later copy of the story's surviving articles
would then find no candidate and open a second story, and raise a second alert. Before the
deletion, the keys of the leaving articles move to the story's lowest surviving article
(one that holds the same key already keeps its own row), with their dates, so the story
stays findable for as long as it was.

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
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.dialect import in_chunks, xact_locks
from monitor.storage.tables import articles, stories, story_bands

STORY_LOCK_SPACE = 8  # advisory lock space of the stories a transaction adds to or recounts


async def lock_stories(conn: AsyncConnection, story_ids: Iterable[int]) -> None:
    """Hold the stories' advisory locks until the transaction ends (PostgreSQL)."""
    await xact_locks(conn, STORY_LOCK_SPACE, sorted(set(story_ids)))


@contextlib.asynccontextmanager
async def recounting(
    conn: AsyncConnection, story_ids: Iterable[int], leaving: ColumnElement[bool]
) -> AsyncIterator[None]:
    """Lock the stories, hand the band keys of their articles matching `leaving` (a condition
    on `articles`) to articles that stay, run the block (which deletes those articles), then
    recount the stories from the articles they still have."""
    ids = sorted(set(story_ids))
    await lock_stories(conn, ids)
    for chunk in in_chunks(ids):
        await conn.execute(_hand_over_bands(chunk, leaving))
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


def _hand_over_bands(story_ids: Sequence[int], leaving: ColumnElement[bool]) -> Any:
    heir = (
        select(func.min(articles.c.id))
        .where(articles.c.story_id == story_bands.c.story_id, not_(leaving))
        .scalar_subquery()
    )
    other = story_bands.alias("held")
    return (
        update(story_bands)
        .where(
            story_bands.c.story_id.in_(story_ids),
            story_bands.c.article_id.in_(select(articles.c.id).where(leaving)),
            heir.is_not(None),
            not_(
                exists().where(
                    and_(other.c.band_key == story_bands.c.band_key, other.c.article_id == heir)
                )
            ),
        )
        .values(article_id=heir)
    )
