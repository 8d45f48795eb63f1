"""Read paths for alerts: each alert with its article, feed and live story size."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.tables import alerts, articles, feeds, outbox, stories


def _alerts_query() -> Any:
    return select(
        alerts,
        articles.c.url.label("article_url"),
        articles.c.title.label("article_title"),
        articles.c.published_at.label("article_published_at"),
        articles.c.language.label("article_language"),
        feeds.c.url.label("feed_url"),
        func.coalesce(func.nullif(feeds.c.name, ""), feeds.c.title).label("feed_name"),
        stories.c.article_count.label("story_articles"),
    ).select_from(
        alerts.join(stories, stories.c.id == alerts.c.story_id)
        .outerjoin(articles, articles.c.id == alerts.c.article_id)
        .outerjoin(feeds, feeds.c.id == articles.c.feed_id)
    )


async def list_alerts(
    conn: AsyncConnection,
    *,
    since: datetime | None,
    watchlist: str | None,
    status: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Alert rows newest first, with article, feed and live story size.

    `status` keeps alerts with at least one delivery in that state (pending, held, sent,
    dead, rolled).
    """
    query = _alerts_query()
    if since:
        query = query.where(alerts.c.created_at >= since)
    if watchlist:
        query = query.where(alerts.c.watchlist == watchlist)
    if status:
        query = query.where(
            alerts.c.id.in_(select(outbox.c.alert_id).where(outbox.c.status == status))
        )
    query = query.order_by(alerts.c.created_at.desc(), alerts.c.id).limit(limit)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def get_alert(conn: AsyncConnection, alert_id: str) -> dict[str, Any] | None:
    """One alert row, or None."""
    row = (await conn.execute(_alerts_query().where(alerts.c.id == alert_id))).first()
    return None if row is None else dict(row._mapping)
