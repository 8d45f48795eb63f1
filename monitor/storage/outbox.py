"""Every SQL statement delivery makes, over the outbox and channel_state tables: claiming due
messages with a lease, recording each attempt, dead-letter and requeue, held rows rolled into
digests, and disabled channels. The delivery worker (`notify.outbox`) composes these.

Rows move pending → sent, or pending → (retry later) → dead after `delivery.max_attempts`;
digest channels and throttled alerts go pending/held → rolled (into one digest or summary
row, which is then pending itself). Claims are `storage.leases` leases, so several workers
never claim the same row and an expired lease is claimed again: a crash between a
receiver's acceptance and `mark_sent` resends the row once, with the same ids.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.models import HeldRow, OutboxMessage
from monitor.storage import leases
from monitor.storage.dialect import insert, insert_ignore, xact_lock
from monitor.storage.leases import NO_LEASE
from monitor.storage.tables import channel_state, outbox

_MESSAGE_COLUMNS = (
    outbox.c.id,
    outbox.c.message_id,
    outbox.c.alert_id,
    outbox.c.channel,
    outbox.c.kind,
    outbox.c.body,
    outbox.c.attempts,
    outbox.c.retried_from,
    outbox.c.created_at,
    outbox.c.next_attempt_at,
)


class RollupRaced(Exception):
    """Another process rolled some of these held rows first; this rollup is abandoned."""


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        message_id=row.message_id,
        channel=row.channel,
        kind=row.kind,
        body=row.body,
        alert_id=row.alert_id,
        row_id=row.id,
        attempts=row.attempts,
        retried_from=row.retried_from,
        created_at=row.created_at,
    )


def _due(now: datetime, channels: Collection[str]) -> ColumnElement[bool]:
    return and_(
        outbox.c.status == "pending",
        outbox.c.next_attempt_at <= now,
        outbox.c.channel.in_(list(channels)),
    )


async def claim_due(
    conn: AsyncConnection,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    channels: Collection[str],
    dead_after: timedelta | None = None,
) -> list[OutboxMessage]:
    """Lease up to `limit` due rows of `channels` to `owner`, oldest due first (with
    `dead_after`, rows leased to a worker whose heartbeat is that old are free too)."""
    if not channels:
        return []
    rows = await leases.claim(
        conn,
        outbox,
        eligible=_due(now, channels),
        order_by=[outbox.c.next_attempt_at, outbox.c.id],
        limit=limit,
        now=now,
        owner=owner,
        lease=lease,
        kind="outbox",
        returning=_MESSAGE_COLUMNS,
        dead_after=dead_after,
    )
    ordered = sorted(rows, key=lambda row: (row.next_attempt_at, row.id))
    return [_message(row) for row in ordered]


async def mark_sent(conn: AsyncConnection, row_id: int, now: datetime) -> None:
    """The receiver accepted the message."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id, outbox.c.status == "pending")
        .values(status="sent", sent_at=now, attempts=outbox.c.attempts + 1, last_error=None)
        .values(NO_LEASE)
    )


async def mark_failed(
    conn: AsyncConnection, row_id: int, error: str, next_attempt_at: datetime
) -> None:
    """An attempt failed; try again at `next_attempt_at`."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id, outbox.c.status == "pending")
        .values(attempts=outbox.c.attempts + 1, last_error=error, next_attempt_at=next_attempt_at)
        .values(NO_LEASE)
    )


async def dead_letter(conn: AsyncConnection, row_id: int, error: str) -> None:
    """The last attempt failed (or retrying cannot help): park the row with its error."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id, outbox.c.status == "pending")
        .values(status="dead", attempts=outbox.c.attempts + 1, last_error=error)
        .values(NO_LEASE)
    )


async def release(conn: AsyncConnection, row_ids: Sequence[int], owner: str) -> None:
    """Give back leases `owner` holds without counting an attempt (graceful stop)."""
    if row_ids:
        await leases.release(conn, outbox, outbox.c.id.in_(list(row_ids)), owner=owner)


async def hold(conn: AsyncConnection, row_ids: Sequence[int], until: datetime) -> None:
    """Hold pending rows back until `until`, when they roll into a summary."""
    if row_ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(list(row_ids)), outbox.c.status == "pending")
            .values(status="held", next_attempt_at=until)
            .values(NO_LEASE)
        )


async def requeue(
    conn: AsyncConnection, now: datetime, *, ids: Sequence[str] = (), dead: bool = False
) -> int:
    """Make rows due now with fresh attempts: `ids` (alert ids or message ids; their dead or
    pending rows), and with `dead` every dead-lettered row. Sent rows are never resent."""
    wanted = []
    if ids:
        owned = or_(outbox.c.alert_id.in_(list(ids)), outbox.c.message_id.in_(list(ids)))
        wanted.append(and_(owned, outbox.c.status.in_(("dead", "pending"))))
    if dead:
        wanted.append(outbox.c.status == "dead")
    if not wanted:
        return 0
    result = await conn.execute(
        update(outbox)
        .where(or_(*wanted))
        # The attempts so far stay (the history); the next ones get a fresh budget.
        .values(status="pending", retried_from=outbox.c.attempts, next_attempt_at=now)
        .values(NO_LEASE)
    )
    return int(result.rowcount)


_THROTTLE_LOCK = "monitor throttle "


async def spent_since(
    conn: AsyncConnection, channel: str, since: datetime, *, now: datetime, owner: str
) -> int:
    """Alerts that count against the channel's hourly budget: delivered since `since`, and
    those another worker holds a live lease on (it decided to send them and is sending).

    On PostgreSQL the caller's transaction first takes a per-channel advisory lock, so
    workers deciding at the same time decide one after the other and each sees what the
    previous one is sending: the budget is not spent twice."""
    await xact_lock(conn, _THROTTLE_LOCK + channel)
    sent = and_(outbox.c.status == "sent", outbox.c.sent_at >= since)
    sending = and_(
        outbox.c.status == "pending", outbox.c.lease_owner != owner, leases.held(outbox, now)
    )
    count = await conn.scalar(
        select(func.count()).where(
            outbox.c.channel == channel, outbox.c.kind == "alert", or_(sent, sending)
        )
    )
    return int(count or 0)


async def held_due(
    conn: AsyncConnection, now: datetime, channels: Collection[str]
) -> list[HeldRow]:
    """Held rows of `channels` whose digest or summary is due."""
    rows = await conn.execute(
        select(outbox.c.id, outbox.c.channel, outbox.c.next_attempt_at, outbox.c.body)
        .where(
            outbox.c.status == "held",
            outbox.c.next_attempt_at <= now,
            outbox.c.channel.in_(list(channels)),
        )
        .order_by(outbox.c.id)
    )
    return [HeldRow(row.id, row.channel, row.next_attempt_at, row.body) for row in rows]


async def write_rollup(conn: AsyncConnection, held: Sequence[int], row: dict[str, Any]) -> str:
    """Mark the `held` rows rolled and insert their digest or summary `row`; return its
    message id.

    Raises RollupRaced (the caller rolls the transaction back) when another process got
    some of the rows first.
    """
    rolled = await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(list(held)), outbox.c.status == "held")
        .values(status="rolled")
        .values(NO_LEASE)
    )
    if rolled.rowcount != len(held):
        raise RollupRaced(row["channel"])
    inserted = await conn.execute(insert_ignore(conn, outbox).values(**row))
    if not inserted.rowcount:
        raise RollupRaced(row["channel"])
    return str(row["message_id"])


async def disable_channel(conn: AsyncConnection, name: str, reason: str, now: datetime) -> None:
    """Stop delivering to a channel (its rows stay pending) until `enable_channel`."""
    values = {"disabled_at": now, "disabled_reason": reason}
    statement = insert(conn, channel_state).values(name=name, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))


async def enable_channel(conn: AsyncConnection, name: str) -> bool:
    """Deliver to a disabled channel again; False when it was not disabled."""
    result = await conn.execute(
        update(channel_state)
        .where(channel_state.c.name == name, channel_state.c.disabled_at.is_not(None))
        .values(disabled_at=None, disabled_reason=None)
    )
    return bool(result.rowcount)


async def disabled_channels(conn: AsyncConnection) -> dict[str, str]:
    """Disabled channel names with the reason."""
    rows = await conn.execute(
        select(channel_state.c.name, channel_state.c.disabled_reason).where(
            channel_state.c.disabled_at.is_not(None)
        )
    )
    return {row.name: row.disabled_reason or "" for row in rows}
