"""When a lease another process holds may be taken: it expired, or its holder is dead.

Every worker writes a heartbeat each tick (`heartbeats.beat_at`). A SIGKILLed worker stops
beating, so once its heartbeat is older than `dead_after` (a small multiple of the tick,
`polling.worker_timeout`) its feeds, outbox rows and singleton jobs are free to claim, not
only when their lease (`polling.lease`, minutes) runs out. A holder that never wrote a
heartbeat is left to its lease, and a claimant never takes its own leases this way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, or_

from monitor.storage.tables import heartbeats


def lease_free(
    lease_owner: ColumnElement[str | None],
    lease_until: ColumnElement[datetime | None],
    *,
    now: datetime,
    owner: str,
    dead_after: timedelta | None,
) -> ColumnElement[bool]:
    """SQL: the row's lease may be taken by `owner` at `now`."""
    return or_(
        lease_until.is_(None),
        lease_until < now,
        holder_dead(lease_owner, now=now, owner=owner, dead_after=dead_after),
    )


def holder_dead(
    lease_owner: ColumnElement[str | None],
    *,
    now: datetime,
    owner: str,
    dead_after: timedelta | None,
) -> ColumnElement[bool]:
    """SQL: the lease's holder is another worker whose heartbeat stopped `dead_after` ago."""
    if dead_after is None:
        return false()
    stale = exists().where(
        heartbeats.c.worker == lease_owner, heartbeats.c.beat_at < now - dead_after
    )
    return and_(lease_owner != owner, stale)
