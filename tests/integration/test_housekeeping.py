"""The periodic jobs on both backends: cluster gauges from the database, and the singleton
retention and silent-feed jobs built from the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import FrozenClock
from monitor.config import settings_from_dict
from monitor.housekeeping import Housekeeping
from monitor.metrics import Metrics
from monitor.storage.stats import read_cluster_state
from monitor.storage.tables import feeds, outbox, periodic_tasks

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def _feed(engine: AsyncEngine, n: int, **values: Any) -> None:
    row = {"tags": [], "headers": {}, "next_poll_at": NOW, "created_at": NOW - timedelta(days=30)}
    async with engine.begin() as conn:
        await conn.execute(insert(feeds).values(url=f"http://127.0.0.1/{n}", **(row | values)))


async def _outbox(engine: AsyncEngine, n: int, status: str, age: timedelta) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(outbox).values(
                message_id=f"m{n}",
                channel="c",
                kind="system",
                body="{}",
                status=status,
                next_attempt_at=NOW,
                created_at=NOW - age,
            )
        )


async def test_cluster_state_counts_feeds_and_the_outbox_backlog(engine: AsyncEngine) -> None:
    await _feed(engine, 1)  # due
    await _feed(engine, 2, next_poll_at=NOW + timedelta(minutes=5))  # not due
    await _feed(engine, 3, lease_owner="w", lease_until=NOW + timedelta(minutes=1))  # claimed
    await _feed(engine, 4, state="erroring", retry_after_until=NOW + timedelta(hours=1))
    await _feed(engine, 5, state="retired")
    await _outbox(engine, 1, "pending", timedelta(minutes=3))
    await _outbox(engine, 2, "pending", timedelta(minutes=1))
    await _outbox(engine, 3, "dead", timedelta(days=1))
    await _outbox(engine, 4, "sent", timedelta(days=2))

    async with engine.connect() as conn:
        state = await read_cluster_state(conn, NOW)

    assert dict(state.feeds_by_state) == {"ok": 3, "erroring": 1, "retired": 1}
    assert (state.feeds_due, state.feeds_claimed) == (1, 1)
    assert dict(state.outbox_by_status) == {"pending": 2, "dead": 1}
    assert state.oldest_pending_age == 180.0


async def test_the_jobs_run_once_per_period_from_the_settings(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    settings = settings_from_dict(
        {
            "database": {"url": database_url},
            "polling": {"silent_channel": "desk"},
            "channels": {"desk": {"type": "log"}},
        },
        base=tmp_path,
    )
    await _feed(engine, 1, last_new_at=NOW - timedelta(days=3))
    clock, metrics = FrozenClock(NOW), Metrics()
    jobs = [
        Housekeeping(engine=engine, settings=settings, clock=clock, owner=o, metrics=metrics)
        for o in ("a", "b")
    ]

    assert [await job.silence() for job in jobs] == [True, False]
    assert [await job.retention() for job in jobs] == [True, False]
    clock.advance(timedelta(minutes=5))
    assert [await job.silence() for job in jobs] == [True, False]
    assert [await job.retention() for job in jobs] == [False, False]  # hourly
    await jobs[1].refresh_gauges()

    async with engine.connect() as conn:
        rows = list(await conn.execute(select(outbox.c.kind, outbox.c.channel)))
        names = select(periodic_tasks.c.name, periodic_tasks.c.lease_owner)
        tasks = {name: owner for name, owner in await conn.execute(names)}
    assert rows == [("system", "desk")]  # one notice per silence
    # No lease left behind; the watermark row records how far text was pruned.
    assert tasks == {"retention": None, "silent-feeds": None, "retention:text-pruned-before": None}
    exposition = metrics.exposition().decode()
    assert 'monitor_outbox_backlog{status="pending"} 1.0' in exposition
    assert 'monitor_feeds{state="ok"} 1.0' in exposition
