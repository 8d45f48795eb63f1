"""Leases: how feeds, outbox rows and singleton jobs are claimed by one worker at a time.

A leased table has `lease_owner` and `lease_until` columns. A row is free when it has no lease
or its lease expired (`free`, the one reclaim rule): a worker that crashed or stalled loses
its rows when their lease runs out, and another worker takes them. Claiming selects free,
eligible rows (SKIP LOCKED on PostgreSQL, so concurrent claimers take different rows), then
sets the lease in one guarded UPDATE … RETURNING that re-checks eligibility and freedom; a
takeover of an expired lease is counted in the `lease_steals` metric.

A worker that died does not hold its leases until they run out: every worker writes a
heartbeat each tick (`heartbeats.beat_at`), and with `dead_after` (`polling.worker_timeout`,
a small multiple of the tick) a lease whose holder's heartbeat is that old is free too, so a
SIGKILLed worker's feeds, outbox rows and singleton jobs are taken over within seconds, not
minutes. A holder that never wrote a heartbeat keeps its lease until it expires, and a
claimant never takes its own leases this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor import metrics
from monitor.storage.dialect import skip_locked
from monitor.storage.tables import heartbeats

NO_LEASE: dict[str, Any] = {"lease_owner": None, "lease_until": None}


def free(
    table: Table,
    now: datetime,
    *,
    owner: str | None = None,
    dead_after: timedelta | None = None,
) -> ColumnElement[bool]:
    """No lease, an expired one, or (with `dead_after`) one held by another worker whose
    heartbeat stopped that long ago: the row may be claimed."""
    return or_(
        table.c.lease_until.is_(None),
        table.c.lease_until < now,
        holder_dead(table, now=now, owner=owner, dead_after=dead_after),
    )


def holder_dead(
    table: Table, *, now: datetime, owner: str | None, dead_after: timedelta | None
) -> ColumnElement[bool]:
    """The row's lease holder is another worker whose heartbeat is `dead_after` old."""
    if dead_after is None or owner is None:
        return false()
    stale = exists().where(
        heartbeats.c.worker == table.c.lease_owner, heartbeats.c.beat_at < now - dead_after
    )
    return and_(table.c.lease_owner != owner, stale)


def held(table: Table, now: datetime) -> ColumnElement[bool]:
    """Under an unexpired lease."""
    return and_(table.c.lease_until.is_not(None), table.c.lease_until >= now)


async def claim(
    conn: AsyncConnection,
    table: Table,
    *,
    eligible: ColumnElement[bool],
    order_by: Sequence[Any],
    limit: int,
    now: datetime,
    owner: str,
    lease: timedelta,
    kind: str,
    returning: Sequence[Any] = (),
    dead_after: timedelta | None = None,
) -> list[Any]:
    """Lease up to `limit` free rows that are `eligible` to `owner`, in `order_by` order;
    the rows as UPDATE … RETURNING gives them (`returning` columns, else the key). With
    `dead_after`, rows leased to a worker whose heartbeat is that old are free too."""
    key = table.primary_key.columns.values()[0]
    wanted = and_(eligible, free(table, now, owner=owner, dead_after=dead_after))
    query = select(key, table.c.lease_owner).where(wanted).order_by(*order_by).limit(limit)
    selected = list(await conn.execute(skip_locked(conn, query)))
    if not selected:
        return []
    metrics.leases_stolen(kind, sum(row.lease_owner not in (None, owner) for row in selected))
    rows = await conn.execute(
        update(table)
        .where(key.in_([row[0] for row in selected]), wanted)
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(*(returning or (key,)))
    )
    return list(rows)


async def renew(
    conn: AsyncConnection,
    table: Table,
    where: ColumnElement[bool],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> int:
    """Extend the leases `owner` still holds on the rows `where` selects; how many it held."""
    result = await conn.execute(
        update(table).where(where, table.c.lease_owner == owner).values(lease_until=now + lease)
    )
    return int(result.rowcount)


async def release(
    conn: AsyncConnection,
    table: Table,
    where: ColumnElement[bool],
    *,
    owner: str,
    values: dict[str, Any] | None = None,
) -> int:
    """Give back the leases `owner` holds on the rows `where` selects (setting `values` on
    them too); how many it held."""
    result = await conn.execute(
        update(table)
        .where(where, table.c.lease_owner == owner)
        .values(**NO_LEASE, **(values or {}))
    )
    return int(result.rowcount)


async def clear(conn: AsyncConnection, table: Table) -> None:
    """Drop every lease: at the start of the only process (SQLite), any lease left in the
    file belongs to a dead process."""
    await conn.execute(update(table).where(table.c.lease_owner.is_not(None)).values(**NO_LEASE))
