"""Leases: how feeds, outbox rows and singleton jobs are claimed by one worker at a time.

A leased table has `lease_owner` and `lease_until` columns. A row is free when it has no lease
or its lease expired (`free`, the one reclaim rule): a worker that crashed or stalled loses
its rows when their lease runs out, and another worker takes them. Claiming selects free,
eligible rows (SKIP LOCKED on PostgreSQL, so concurrent claimers take different rows), then
sets the lease in one guarded UPDATE … RETURNING that re-checks eligibility and freedom; a
takeover of an expired lease is counted in the `lease_steals` metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor import metrics
from monitor.storage.dialect import skip_locked

NO_LEASE: dict[str, Any] = {"lease_owner": None, "lease_until": None}


def free(table: Table, now: datetime) -> ColumnElement[bool]:
    """No lease, or an expired one: the row may be claimed."""
    return or_(table.c.lease_until.is_(None), table.c.lease_until < now)


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
) -> list[Any]:
    """Lease up to `limit` free rows that are `eligible` to `owner`, in `order_by` order;
    the rows as UPDATE … RETURNING gives them (`returning` columns, else the key)."""
    key = table.primary_key.columns.values()[0]
    wanted = and_(eligible, free(table, now))
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
