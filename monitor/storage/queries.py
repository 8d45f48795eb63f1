"""Read paths over feeds, articles, stories and the outbox backlog. Rows out; the
use cases (`monitor.services`) turn them into records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.tables import articles, feeds, matches, outbox, stories


async def feed_rows(conn: AsyncConnection, feed_id: int | None = None) -> list[Any]:
    """Every feed row by id (or only the one of `feed_id`), with its stored article count
    as `articles`."""
    counted = select(articles.c.feed_id, func.count().label("n")).group_by(articles.c.feed_id)
    query = select(feeds)
    if feed_id is not None:
        counted = counted.where(articles.c.feed_id == feed_id)
        query = query.where(feeds.c.id == feed_id)
    counts = counted.subquery()
    rows = await conn.execute(
        query.add_columns(func.coalesce(counts.c.n, 0).label("articles"))
        .select_from(feeds.outerjoin(counts, counts.c.feed_id == feeds.c.id))
        .order_by(feeds.c.id)
    )
    return list(rows)


async def outbox_backlog(conn: AsyncConnection) -> dict[str, tuple[int, datetime | None]]:
    """Outbox rows per status: (count, oldest created_at)."""
    rows = await conn.execute(
        select(outbox.c.status, func.count(), func.min(outbox.c.created_at)).group_by(
            outbox.c.status
        )
    )
    return {str(row[0]): (int(row[1]), row[2]) for row in rows}


def articles_query() -> Any:
    """Articles with their feed's URL and display name (`feed_url`, `feed_name`)."""
    return select(
        articles,
        feeds.c.url.label("feed_url"),
        func.coalesce(func.nullif(feeds.c.name, ""), feeds.c.title).label("feed_name"),
    ).select_from(articles.join(feeds, feeds.c.id == articles.c.feed_id))


async def list_articles(
    conn: AsyncConnection, *, feed: str | None, since: datetime | None, limit: int
) -> list[Any]:
    """Stored articles newest first (`feed` is a feed URL or config URL)."""
    query = articles_query()
    if feed:
        query = query.where((feeds.c.url == feed) | (feeds.c.config_url == feed))
    if since:
        query = query.where(articles.c.fetched_at >= since)
    query = query.order_by(articles.c.fetched_at.desc(), articles.c.id.desc()).limit(limit)
    return list(await conn.execute(query))


async def get_article(conn: AsyncConnection, article_id: int) -> Any | None:
    """One article row with its feed, or None."""
    return (await conn.execute(articles_query().where(articles.c.id == article_id))).first()


async def article_matches(conn: AsyncConnection, article_id: int) -> list[Any]:
    """The watchlist terms that matched an article, by watchlist then count."""
    found = await conn.execute(
        select(matches.c.watchlist, matches.c.term, matches.c.actor, matches.c.count)
        .where(matches.c.article_id == article_id)
        .order_by(matches.c.watchlist, matches.c.count.desc())
    )
    return list(found)


async def get_story(conn: AsyncConnection, story_id: int) -> Any | None:
    """One story row, or None."""
    return (await conn.execute(select(stories).where(stories.c.id == story_id))).first()


async def story_articles(conn: AsyncConnection, story_id: int) -> list[Any]:
    """A story's articles (with their feed), oldest first."""
    members = await conn.execute(
        articles_query()
        .where(articles.c.story_id == story_id)
        .order_by(articles.c.fetched_at, articles.c.id)
    )
    return list(members)


async def list_stories(conn: AsyncConnection, *, since: datetime | None, limit: int) -> list[Any]:
    """Stories newest first, each with its outlet count (`outlets`)."""
    outlets = (
        select(articles.c.story_id, func.count(func.distinct(articles.c.feed_id)).label("outlets"))
        .group_by(articles.c.story_id)
        .subquery()
    )
    query = select(stories, func.coalesce(outlets.c.outlets, 0).label("outlets")).select_from(
        stories.outerjoin(outlets, outlets.c.story_id == stories.c.id)
    )
    if since:
        query = query.where(stories.c.last_seen >= since)
    query = query.order_by(stories.c.last_seen.desc(), stories.c.id.desc()).limit(limit)
    return list(await conn.execute(query))


def _with_text(since: datetime | None) -> Any:
    condition = articles.c.text.is_not(None)
    return condition if since is None else and_(condition, articles.c.fetched_at >= since)


async def count_with_text(conn: AsyncConnection, since: datetime | None) -> int:
    """Articles that still have their text (retention may have pruned it), fetched since."""
    found = await conn.scalar(select(func.count()).select_from(articles).where(_with_text(since)))
    return int(found or 0)


async def page_with_text(
    conn: AsyncConnection,
    since: datetime | None,
    after: tuple[datetime, int] | None,
    *,
    limit: int,
) -> list[Any]:
    """The next `limit` articles with text, newest first after (fetched_at, id) `after`,
    each with its feed's tags (`feed_tags`)."""
    query = (
        select(articles, feeds.c.tags.label("feed_tags"))
        .select_from(articles.join(feeds, feeds.c.id == articles.c.feed_id))
        .where(_with_text(since))
        .order_by(articles.c.fetched_at.desc(), articles.c.id.desc())
        .limit(limit)
    )
    if after is not None:
        fetched_at, article_id = after
        query = query.where(
            or_(
                articles.c.fetched_at < fetched_at,
                and_(articles.c.fetched_at == fetched_at, articles.c.id < article_id),
            )
        )
    return list(await conn.execute(query))
