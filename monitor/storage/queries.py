"""Read paths for the CLI: feed health, articles, stories. Plain dicts out, JSON-ready."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.silence import FeedActivity, SilencePolicy, is_silent
from monitor.storage.tables import articles, feeds, matches, outbox, stories


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z, or None."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


async def feed_status(
    conn: AsyncConnection,
    *,
    now: datetime | None = None,
    silence: SilencePolicy | None = None,
) -> list[dict[str, Any]]:
    """One object per feed: health, schedule and article count (`monitor status --json`).

    `silent` says whether the feed has produced nothing for its silent_after at `now`.
    """
    now, silence = now or datetime.now(UTC), silence or SilencePolicy()
    counts = (
        select(articles.c.feed_id, func.count().label("n")).group_by(articles.c.feed_id).subquery()
    )
    rows = await conn.execute(
        select(feeds, func.coalesce(counts.c.n, 0).label("articles"))
        .select_from(feeds.outerjoin(counts, counts.c.feed_id == feeds.c.id))
        .order_by(feeds.c.id)
    )
    return [
        _feed_json(row) | {"silent": is_silent(silence, FeedActivity.of(row), now)} for row in rows
    ]


def _feed_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "config_url": row.config_url,
        "name": row.name or row.title,
        "tags": list(row.tags or []),
        "state": row.state,
        "last_error": row.last_error,
        "error_count": row.error_count,
        "note": row.note,
        "last_poll_at": iso(row.last_poll_at),
        "last_success_at": iso(row.last_success_at),
        "last_new_at": iso(row.last_new_at),
        "next_poll_at": iso(row.next_poll_at),
        "interval_seconds": _interval(row),
        "articles": int(row.articles),
        "source": "config" if row.config_url else "cli",
    }


def _interval(row: Any) -> float | None:
    if row.last_poll_at is None or row.next_poll_at is None:
        return float(row.interval_seconds) if row.interval_seconds else None
    return max(0.0, float((row.next_poll_at - row.last_poll_at).total_seconds()))


async def outbox_backlog(conn: AsyncConnection) -> dict[str, Any]:
    """Pending / dead outbox rows and the oldest pending row's creation time."""
    rows = await conn.execute(
        select(outbox.c.status, func.count(), func.min(outbox.c.created_at)).group_by(
            outbox.c.status
        )
    )
    by_status = {row[0]: (int(row[1]), row[2]) for row in rows}
    pending = by_status.get("pending", (0, None))
    return {
        "pending": pending[0],
        "held": by_status.get("held", (0, None))[0],
        "dead": by_status.get("dead", (0, None))[0],
        "sent": by_status.get("sent", (0, None))[0],
        "oldest_pending_at": iso(pending[1]),
    }


def article_json(row: Any, *, with_text: bool = False) -> dict[str, Any]:
    data = {
        "id": row.id,
        "url": row.url,
        "canonical_url": row.canonical_url,
        "title": row.title,
        "published_at": iso(row.published_at),
        "fetched_at": iso(row.fetched_at),
        "language": row.language,
        "feed": {"url": row.feed_url, "name": row.feed_name},
        "story_id": row.story_id,
    }
    if with_text:
        data |= {"author": row.author, "summary": row.summary, "text": row.text or ""}
    return data


def articles_query() -> Any:
    return select(
        articles,
        feeds.c.url.label("feed_url"),
        func.coalesce(func.nullif(feeds.c.name, ""), feeds.c.title).label("feed_name"),
    ).select_from(articles.join(feeds, feeds.c.id == articles.c.feed_id))


async def list_articles(
    conn: AsyncConnection, *, feed: str | None, since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Stored articles newest first."""
    query = articles_query()
    if feed:
        query = query.where((feeds.c.url == feed) | (feeds.c.config_url == feed))
    if since:
        query = query.where(articles.c.fetched_at >= since)
    query = query.order_by(articles.c.fetched_at.desc(), articles.c.id.desc()).limit(limit)
    return [article_json(row) for row in await conn.execute(query)]


async def get_article(conn: AsyncConnection, article_id: int) -> dict[str, Any] | None:
    """One article with its text, story and matches."""
    row = (await conn.execute(articles_query().where(articles.c.id == article_id))).first()
    if row is None:
        return None
    data = article_json(row, with_text=True)
    found = await conn.execute(
        select(matches.c.watchlist, matches.c.term, matches.c.actor, matches.c.count)
        .where(matches.c.article_id == article_id)
        .order_by(matches.c.watchlist, matches.c.count.desc())
    )
    data["matches"] = [dict(m._mapping) for m in found]
    story = (await conn.execute(select(stories).where(stories.c.id == row.story_id))).first()
    data["story"] = {"id": row.story_id, "articles": story.article_count if story else 1}
    return data


async def list_stories(
    conn: AsyncConnection, *, since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Stories newest first, with their article and outlet counts."""
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
    return [
        {
            "id": row.id,
            "title": row.title,
            "first_seen": iso(row.first_seen),
            "last_seen": iso(row.last_seen),
            "articles": row.article_count,
            "outlets": int(row.outlets),
        }
        for row in await conn.execute(query)
    ]


async def get_story(conn: AsyncConnection, story_id: int) -> dict[str, Any] | None:
    """One story with its articles (oldest first) and the outlets that carried it."""
    row = (await conn.execute(select(stories).where(stories.c.id == story_id))).first()
    if row is None:
        return None
    members = await conn.execute(
        articles_query().where(articles.c.story_id == story_id).order_by(articles.c.fetched_at)
    )
    items = [article_json(m) for m in members]
    return {
        "id": row.id,
        "title": row.title,
        "first_seen": iso(row.first_seen),
        "last_seen": iso(row.last_seen),
        "articles": row.article_count,
        "outlets": sorted({a["feed"]["name"] or a["feed"]["url"] for a in items}),
        "items": items,
    }
