"""Health: the one decision `/readyz`, `monitor health` and `monitor status` share.

Healthy means the database answers (within `db_timeout`), its migrations are current, and the
service is alive: its scheduler ticked within `max_age`. In the serving process the tick is
its own (`Liveness.last_tick`, what `/readyz` asks); from outside (`monitor health`, `status`)
it is the newest heartbeat any worker wrote. The problem is one line saying which failed.

A process that serves without a scheduler but stands for the service (`monitor demo --serve`)
keeps a `Pulse`: it writes the heartbeat `monitor health` reads, and its `/readyz` judges the
time of the last one written, so both faces answer from the same beat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.errors import StorageError, one_line
from monitor.services.context import Context
from monitor.services.records import Health, Heartbeat, OutboxBacklog, Status
from monitor.storage.engine import migration_state, missing_database
from monitor.storage.heartbeats import beat, heartbeat_rows
from monitor.storage.queries import outbox_backlog

log = structlog.get_logger("monitor.health")
HEARTBEAT_MAX_AGE = timedelta(seconds=60)
DB_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Liveness:
    """How a process knows its own scheduler is alive: when it last ticked, how old a tick
    may be, and whether it is shutting down."""

    last_tick: Callable[[], datetime | None]
    max_age: timedelta
    stopping: Callable[[], bool] = lambda: False


def max_tick_age(tick: timedelta) -> timedelta:
    """How long without a tick a serving process tolerates: three ticks, at least 30 s."""
    return max(tick * 3, timedelta(seconds=30))


def _stale(
    last: datetime | None, now: datetime, max_age: timedelta, never: str, old: str
) -> str | None:
    """`never` when there was no sign of life, `old` (with {age} in seconds) when the last one
    is older than `max_age`, else None."""
    if last is None:
        return never
    age = now - last
    return old.format(age=int(age.total_seconds())) if age > max_age else None


def stale_tick(last_tick: datetime | None, now: datetime, max_age: timedelta) -> str | None:
    """Why the scheduler looks stuck, or None when it ticked within `max_age`."""
    return _stale(
        last_tick,
        now,
        max_age,
        "scheduler has not ticked yet",
        "scheduler has not ticked for {age}s",
    )


def stale_heartbeat(newest: datetime | None, now: datetime, max_age: timedelta) -> str | None:
    """Why no worker looks alive, or None when one beat within `max_age`."""
    return _stale(
        newest,
        now,
        max_age,
        "no heartbeat: is `monitor run` running?",
        "heartbeat is stale ({age}s old)",
    )


async def _database_problem(engine: AsyncEngine, timeout: float) -> str | None:
    missing = missing_database(engine)
    if missing:
        return missing
    try:
        async with asyncio.timeout(timeout):
            current, head = await migration_state(engine)
    except TimeoutError:
        return f"database unreachable: no answer within {timeout:g}s"
    except StorageError as e:
        return str(e)
    if current != head:
        return f"migrations not current (database at {current or 'none'}, code at {head})"
    return None


async def check_health(
    engine: AsyncEngine,
    now: Callable[[], datetime],
    *,
    liveness: Liveness | None = None,
    max_age: timedelta = HEARTBEAT_MAX_AGE,
    db_timeout: float = DB_TIMEOUT,
) -> Health:
    """The health of the deployment (`liveness` given: of this serving process)."""
    if liveness is not None and liveness.stopping():
        return Health("shutting down")
    problem = await _database_problem(engine, db_timeout)
    if problem:
        return Health(problem)
    if liveness is not None:
        return Health(stale_tick(liveness.last_tick(), now(), liveness.max_age))
    async with engine.connect() as conn:
        beats = await heartbeat_rows(conn)
    newest = beats[0].beat_at if beats else None
    return Health(stale_heartbeat(newest, now(), max_age))


@dataclass
class Pulse:
    """Heartbeats of a serving process with no scheduler (the demo's console): one row every
    `every`, as a worker's tick writes; `last` is when the last one was written."""

    engine: AsyncEngine
    owner: str
    now: Callable[[], datetime]
    every: timedelta
    last: datetime | None = field(default=None, init=False)

    async def beat(self) -> None:
        """Write one heartbeat; `last` moves only when it was written."""
        now = self.now()
        await beat(self.engine, self.owner, now)
        self.last = now

    async def run(self) -> None:
        """Beat every `every` until cancelled; a failed beat is retried at the next one (the
        health checks then say the beat is stale, as they would of a stuck worker)."""
        while True:
            try:
                await self.beat()
            except Exception as e:  # the database is away for a moment: the next beat retries
                log.warning("heartbeat failed", error=one_line(e))
            await asyncio.sleep(self.every.total_seconds())


def backlog(by_status: dict[str, tuple[int, datetime | None]]) -> OutboxBacklog:
    def count(status: str) -> int:
        return by_status.get(status, (0, None))[0]

    oldest = by_status.get("pending", (0, None))[1]
    return OutboxBacklog(count("pending"), count("held"), count("dead"), count("sent"), oldest)


class HealthService:
    """Health, readiness and the status overview."""

    def __init__(self, ctx: Context, liveness: Liveness | None = None) -> None:
        self.ctx = ctx
        self.liveness = liveness

    async def check(self) -> Health:
        """Healthy: database reachable, migrations current, a fresh heartbeat (in a serving
        process: its own recent scheduler tick)."""
        return await check_health(self.ctx.engine, self.ctx.clock.now, liveness=self.liveness)

    async def heartbeats(self) -> tuple[Heartbeat, ...]:
        """Every worker's last heartbeat, newest first."""
        async with self.ctx.read() as conn:
            rows = await heartbeat_rows(conn)
        return tuple(Heartbeat(r.worker, r.host, int(r.pid), r.beat_at) for r in rows)

    async def backlog(self) -> OutboxBacklog:
        """Outbox rows by state and the oldest pending one."""
        async with self.ctx.read() as conn:
            return backlog(await outbox_backlog(conn))

    async def status(self) -> Status:
        """Feeds' health, the outbox backlog, workers' heartbeats and overall health.
        StorageError when the database is not set up to the code's migrations."""
        from monitor.services.feeds import Feeds

        missing = missing_database(self.ctx.engine)
        if missing:
            raise StorageError(missing)
        current, head = await migration_state(self.ctx.engine)
        if current != head:
            raise StorageError(
                f"the database is not set up (migrations at {current or 'none'}, code at"
                f" {head}): run `monitor db upgrade`"
            )

        return Status(
            await Feeds(self.ctx).list(),
            await self.backlog(),
            await self.heartbeats(),
            await self.check(),
        )
