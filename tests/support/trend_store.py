"""Stores simulated story timelines in a real database the way the pipeline leaves them:
feeds, stories, their articles (one per outlet carrying the story) and watchlist matches."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import Clock
from monitor.config import Settings
from monitor.storage.tables import articles, feeds, matches, stories

_serial = itertools.count(1)


@dataclass
class Ctx:
    """What `services.trends.Trends` works with: settings, an engine, a clock."""

    settings: Settings
    engine: AsyncEngine
    clock: Clock


async def add_feeds(
    engine: AsyncEngine, count: int, created: datetime, tags: Sequence[str] = ()
) -> list[int]:
    """`count` feeds carrying `tags`; their ids."""
    ids = []
    async with engine.begin() as conn:
        for _ in range(count):
            n = next(_serial)
            result = await conn.execute(
                insert(feeds)
                .values(
                    url=f"http://127.0.0.1/feed/{n}",
                    name=f"Outlet {n}",
                    tags=list(tags),
                    headers={},
                    next_poll_at=created,
                    created_at=created,
                )
                .returning(feeds.c.id)
            )
            ids.append(int(result.scalar_one()))
    return ids


def _article(
    feed_id: int, story_id: int, at: datetime, published: datetime | None = None
) -> dict[str, Any]:
    n = next(_serial)
    return {
        "published_at": published,
        "feed_id": feed_id,
        "guid": f"g{n}",
        "url": f"http://127.0.0.1/a/{n}",
        "canonical_url": f"http://127.0.0.1/a/{n}",
        "title": f"Story {story_id}",
        "fetched_at": at,
        "content_hash": f"h{n}",
        "story_id": story_id,
        "language": "en",
        "summary": "",
        "author": "",
    }


async def add_stories(
    engine: AsyncEngine,
    stamps: Sequence[datetime],
    feed_ids: Sequence[int],
    watchlist: str | None = "isis-k",
    actor: str | None = "ISIS-Khorasan",
    spread: timedelta = timedelta(minutes=1),
    fetched: datetime | None = None,
) -> list[int]:
    """One story per stamp, carried by every feed in `feed_ids` (copies `spread` apart),
    each copy matching `watchlist` (none when it is None); the story ids. With `fetched`,
    the stamps are publish times and every copy was fetched at `fetched` (a backlog)."""
    ids = []
    async with engine.begin() as conn:
        for at in stamps:
            story = await conn.execute(
                insert(stories)
                .values(title="Story", first_seen=at, last_seen=at, article_count=len(feed_ids))
                .returning(stories.c.id)
            )
            story_id = int(story.scalar_one())
            ids.append(story_id)
            for index, feed_id in enumerate(feed_ids):
                when = at + spread * index
                values = (
                    _article(feed_id, story_id, when)
                    if fetched is None
                    else _article(feed_id, story_id, fetched, published=when)
                )
                article = await conn.execute(
                    insert(articles).values(**values).returning(articles.c.id)
                )
                if watchlist is not None:
                    await add_match(
                        conn, int(article.scalar_one()), watchlist, actor, fetched or when
                    )
    return ids


async def add_match(
    conn: Any, article_id: int, watchlist: str, actor: str | None, at: datetime
) -> None:
    await conn.execute(
        insert(matches).values(
            article_id=article_id,
            watchlist=watchlist,
            term="ISIS-K",
            actor=actor,
            normalized="isis k",
            count=1,
            offsets=[[0, 6]],
            created_at=at,
        )
    )
