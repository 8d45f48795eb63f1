"""Aggregate reads of cluster state for the metrics gauges: feeds by state, due and leased
feeds, and the outbox backlog. Each query is an index range or a small group-by, cheap
enough to run every few seconds from every worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.metrics import OUTBOX_STATES, ClusterState
from monitor.storage.feeds import ACTIVE_STATES
from monitor.storage.tables import feeds, outbox


async def _count(conn: AsyncConnection, *conditions: ColumnElement[bool]) -> int:
    return int(await conn.scalar(select(func.count()).select_from(feeds).where(*conditions)) or 0)


async def _feed_counts(conn: AsyncConnection, now: datetime) -> tuple[dict[str, int], int, int]:
    rows = await conn.execute(select(feeds.c.state, func.count()).group_by(feeds.c.state))
    by_state = {str(state): int(n) for state, n in rows}
    due = await _count(
        conn,
        feeds.c.state.in_(ACTIVE_STATES),
        feeds.c.next_poll_at <= now,
        or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now),
        or_(feeds.c.retry_after_until.is_(None), feeds.c.retry_after_until <= now),
    )
    claimed = await _count(conn, and_(feeds.c.lease_until.is_not(None), feeds.c.lease_until >= now))
    return by_state, due, claimed


async def _outbox_counts(conn: AsyncConnection, now: datetime) -> tuple[dict[str, int], float]:
    # Only the unfinished statuses: `sent` grows forever and is never counted here.
    rows = await conn.execute(
        select(outbox.c.status, func.count(), func.min(outbox.c.created_at))
        .where(outbox.c.status.in_(OUTBOX_STATES))
        .group_by(outbox.c.status)
    )
    by_status: dict[str, int] = {}
    oldest_age = 0.0
    for status, count, oldest in rows:
        by_status[str(status)] = int(count)
        if status == "pending" and oldest is not None:
            oldest_age = max(0.0, (now - oldest).total_seconds())
    return by_status, oldest_age


async def read_cluster_state(conn: AsyncConnection, now: datetime) -> ClusterState:
    """One consistent-enough read of what the metrics gauges show."""
    by_state, due, claimed = await _feed_counts(conn, now)
    by_status, oldest_age = await _outbox_counts(conn, now)
    return ClusterState(by_state, due, claimed, by_status, oldest_age)
