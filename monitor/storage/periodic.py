"""Cluster-wide singleton jobs (retention, silent-feed checks …): one `periodic_tasks` row per
job carries a lease and the next due time, so however many workers tick, one runs the job
per period. The lease is a `storage.leases` lease: a worker that dies mid-job loses it when
it expires and another takes over.

The same table keeps watermarks (`set_mark` / `get_mark`): a row whose `last_run_at` records
how far an incremental job got, e.g. "article text is pruned up to here".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.storage import leases
from monitor.storage.dialect import insert_ignore
from monitor.storage.engine import describe_error
from monitor.storage.tables import periodic_tasks

log = structlog.get_logger("monitor.periodic")

Job = Callable[[datetime], Awaitable[Any]]


async def acquire(
    engine: AsyncEngine,
    name: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    dead_after: timedelta | None = None,
) -> bool:
    """Take the job's lease if it is due and nobody holds an unexpired lease on it (with
    `dead_after`, a lease of a worker whose heartbeat is that old counts as free)."""
    due = or_(periodic_tasks.c.next_run_at.is_(None), periodic_tasks.c.next_run_at <= now)
    async with engine.begin() as conn:
        await conn.execute(insert_ignore(conn, periodic_tasks).values(name=name))
        taken = await leases.claim(
            conn,
            periodic_tasks,
            eligible=and_(periodic_tasks.c.name == name, due),
            order_by=[periodic_tasks.c.name],
            limit=1,
            now=now,
            owner=owner,
            lease=lease,
            kind="job",
            dead_after=dead_after,
        )
        return bool(taken)


async def finish(
    engine: AsyncEngine, name: str, owner: str, *, ran_at: datetime | None, next_run_at: datetime
) -> None:
    """Drop the lease; record the run (when it succeeded) and when the job is due next."""
    values: dict[str, Any] = {"next_run_at": next_run_at}
    if ran_at is not None:
        values["last_run_at"] = ran_at
    async with engine.begin() as conn:
        await leases.release(
            conn, periodic_tasks, periodic_tasks.c.name == name, owner=owner, values=values
        )


async def renew(
    engine: AsyncEngine, name: str, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Extend a lease `owner` still holds to `now + lease`; False if it was lost."""
    async with engine.begin() as conn:
        where = periodic_tasks.c.name == name
        return bool(
            await leases.renew(conn, periodic_tasks, where, owner=owner, now=now, lease=lease)
        )


async def _keep_renewing(
    engine: AsyncEngine,
    name: str,
    owner: str,
    lease: timedelta,
    clock: Callable[[], datetime],
    done: asyncio.Event,
) -> None:
    """Renew the lease every third of its length until `done`, so a job that runs longer
    than its lease (a first retention over years of articles) is not taken over. It stops
    between renewals, never in the middle of one."""
    while True:
        try:
            await asyncio.wait_for(done.wait(), lease.total_seconds() / 3)
            return
        except TimeoutError:
            pass
        try:
            if not await renew(engine, name, owner, clock(), lease):
                log.warning("singleton lease lost while the job ran", job=name, owner=owner)
                return
        except Exception as e:  # the database is away for a moment: try again next time
            log.warning("could not renew a singleton lease", job=name, error=describe_error(e))


async def run_singleton(
    engine: AsyncEngine,
    name: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    every: timedelta,
    job: Job,
    *,
    retry: timedelta = timedelta(minutes=5),
    clock: Callable[[], datetime] | None = None,
    dead_after: timedelta | None = None,
) -> bool:
    """Run `job(now)` here if it is due and no other process is running it; True if it ran.

    On success the job is next due `every` from now; when it raises, it is due again after
    `retry` (or `every`, if shorter) and the error propagates. With `clock`, the lease is
    renewed while the job runs, however long it takes.
    """
    if not await acquire(engine, name, owner, now, lease, dead_after):
        return False
    done = asyncio.Event()
    renewing = (
        asyncio.create_task(
            _keep_renewing(engine, name, owner, lease, clock, done), name=f"renew {name}"
        )
        if clock is not None
        else None
    )
    try:
        await job(now)
    except BaseException:
        await _stop(renewing, done)
        await finish(engine, name, owner, ran_at=None, next_run_at=now + min(retry, every))
        raise
    await _stop(renewing, done)
    await finish(engine, name, owner, ran_at=now, next_run_at=now + every)
    return True


async def _stop(task: asyncio.Task[None] | None, done: asyncio.Event) -> None:
    done.set()
    if task is not None:
        await asyncio.gather(task, return_exceptions=True)


async def get_mark(conn: AsyncConnection, name: str) -> datetime | None:
    """A watermark saved with `set_mark`, or None."""
    value = await conn.scalar(
        select(periodic_tasks.c.last_run_at).where(periodic_tasks.c.name == name)
    )
    return value if isinstance(value, datetime) else None


async def set_mark(conn: AsyncConnection, name: str, value: datetime) -> None:
    """Save a watermark (created on first use)."""
    await conn.execute(insert_ignore(conn, periodic_tasks).values(name=name))
    await conn.execute(
        update(periodic_tasks).where(periodic_tasks.c.name == name).values(last_run_at=value)
    )
