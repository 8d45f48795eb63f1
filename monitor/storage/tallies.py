"""Counts the analyst console shows beside its records: outlets per story, a watchlist's
alerts per day, the newest alert's time, new articles per feed since a time, and unfinished
deliveries per channel.

Each is one grouped query over an indexed range, cheap enough for every page view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.tables import alerts, articles, outbox


async def outlets_per_story(conn: AsyncConnection, story_ids: Sequence[int]) -> dict[int, int]:
    """How many distinct feeds carried each story (stories with no article left are absent)."""
    if not story_ids:
        return {}
    rows = await conn.execute(
        select(articles.c.story_id, func.count(func.distinct(articles.c.feed_id)))
        .where(articles.c.story_id.in_(sorted(set(story_ids))))
        .group_by(articles.c.story_id)
    )
    return {int(story): int(n) for story, n in rows}


async def alerts_per_day(
    conn: AsyncConnection, watchlist: str, *, since: datetime
) -> dict[date, int]:
    """A watchlist's alerts per UTC day since `since` (days with none are absent)."""
    created = alerts.c.created_at
    day: ColumnElement[Any]
    if conn.dialect.name == "postgresql":
        day = cast(func.timezone("UTC", created), Date)
    else:  # SQLite keeps UTC as text; date() takes its day
        day = func.date(created)
    rows = await conn.execute(
        select(day.label("day"), func.count())
        .where(alerts.c.watchlist == watchlist, created >= since)
        .group_by(day)
    )
    return {_as_date(value): int(n) for value, n in rows}


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def newest_alert_at(conn: AsyncConnection) -> datetime | None:
    """The creation time of the newest alert (the end of `ix_alerts_created_at`)."""
    newest: datetime | None = await conn.scalar(select(func.max(alerts.c.created_at)))
    return newest


async def new_articles_per_feed(conn: AsyncConnection, *, since: datetime) -> dict[int, int]:
    """Articles stored since `since`, per feed id (feeds with none are absent)."""
    rows = await conn.execute(
        select(articles.c.feed_id, func.count())
        .where(articles.c.fetched_at >= since)
        .group_by(articles.c.feed_id)
    )
    return {int(feed): int(n) for feed, n in rows}


async def failing_per_channel(conn: AsyncConnection) -> dict[str, int]:
    """Per channel: deliveries dead-lettered, or pending after at least one failed attempt."""
    failing = (outbox.c.status == "dead") | (
        (outbox.c.status == "pending") & (outbox.c.attempts > 0)
    )
    rows = await conn.execute(
        select(outbox.c.channel, func.count()).where(failing).group_by(outbox.c.channel)
    )
    return {str(channel): int(n) for channel, n in rows}
