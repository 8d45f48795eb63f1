"""Read paths for alerts: each alert with its article, feed and live story size, and the
deliveries (outbox rows) of alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.tables import alerts, articles, feeds, matches, outbox, stories


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts a list keeps; `after` is the (created_at, id) of the previous page's last."""

    since: datetime | None = None
    watchlist: str | None = None
    status: str | None = None  # keeps alerts with at least one delivery in this state
    language: str | None = None
    after: tuple[datetime, str] | None = None
    triage: str | None = None  # new | acknowledged | dismissed | false_positive


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


def _conditions(wanted: AlertFilter) -> list[Any]:
    conditions: list[Any] = []
    if wanted.since:
        conditions.append(alerts.c.created_at >= wanted.since)
    if wanted.watchlist:
        conditions.append(alerts.c.watchlist == wanted.watchlist)
    if wanted.status:
        delivered = select(outbox.c.alert_id).where(outbox.c.status == wanted.status)
        conditions.append(alerts.c.id.in_(delivered))
    if wanted.language:
        conditions.append(articles.c.language == wanted.language)
    if wanted.triage:
        conditions.append(alerts.c.triage_state == wanted.triage)
    if wanted.after:
        created_at, alert_id = wanted.after
        conditions.append(
            or_(
                alerts.c.created_at < created_at,
                and_(alerts.c.created_at == created_at, alerts.c.id > alert_id),
            )
        )
        # The same bound, alone: a range the planners walk down ix_alerts_created_at and stop
        # after the page. With only the OR, SQLite gathered every older alert and sorted it.
        conditions.append(alerts.c.created_at <= created_at)
    return conditions


async def list_alerts(conn: AsyncConnection, wanted: AlertFilter, *, limit: int) -> list[Any]:
    """Alert rows newest first (ties by id), with article, feed and live story size."""
    query = _alerts_query().where(*_conditions(wanted))
    query = query.order_by(alerts.c.created_at.desc(), alerts.c.id).limit(limit)
    return list(await conn.execute(query))


async def ids_starting(conn: AsyncConnection, prefix: str, *, limit: int) -> list[str]:
    """Up to `limit` alert ids that start with `prefix`, in order."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        select(alerts.c.id)
        .where(alerts.c.id.like(escaped + "%", escape="\\"))
        .order_by(alerts.c.id)
        .limit(limit)
    )
    return list((await conn.execute(query)).scalars())


async def has_watchlist(conn: AsyncConnection, watchlist: str) -> bool:
    """Whether any alert was raised for `watchlist` (configured now or not)."""
    query = select(alerts.c.id).where(alerts.c.watchlist == watchlist).limit(1)
    return (await conn.scalar(query)) is not None


async def get_alert(conn: AsyncConnection, alert_id: str) -> Any | None:
    """One alert row, or None."""
    return (await conn.execute(_alerts_query().where(alerts.c.id == alert_id))).first()


async def deliveries(conn: AsyncConnection, alert_ids: Sequence[str]) -> list[Any]:
    """The outbox rows of these alerts, by alert then channel."""
    if not alert_ids:
        return []
    rows = await conn.execute(
        select(outbox)
        .where(outbox.c.alert_id.in_(list(alert_ids)))
        .order_by(outbox.c.alert_id, outbox.c.channel)
    )
    return list(rows)


async def watchlist_counts(conn: AsyncConnection) -> dict[str, tuple[int, int]]:
    """Per watchlist: (articles matched, alerts raised)."""
    matched = await conn.execute(
        select(matches.c.watchlist, func.count(func.distinct(matches.c.article_id))).group_by(
            matches.c.watchlist
        )
    )
    raised = await conn.execute(
        select(alerts.c.watchlist, func.count()).group_by(alerts.c.watchlist)
    )
    counts: dict[str, tuple[int, int]] = {str(w): (int(n), 0) for w, n in matched}
    for watchlist, n in raised:
        counts[str(watchlist)] = (counts.get(str(watchlist), (0, 0))[0], int(n))
    return counts
