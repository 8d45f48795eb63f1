"""A worker whose heartbeat stopped (SIGKILL) frees its leases long before they expire: its
feeds, outbox rows and singleton jobs are claimed by a live worker once the heartbeat is
`polling.worker_timeout` old; a live holder, a holder that never beat, and the claimant's
own leases are never taken this way (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage import outbox as store
from monitor.storage import periodic
from monitor.storage.feeds import claim_due
from monitor.storage.tables import feeds, heartbeats, outbox

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
DEAD_AFTER = timedelta(seconds=20)
CLAIMED_AT = NOW - timedelta(seconds=30)  # the holder claimed, then beat no more


async def _beat(engine: AsyncEngine, worker: str, at: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(heartbeats).values(worker=worker, host="h", pid=1, beat_at=at))


async def _feeds(engine: AsyncEngine, count: int) -> None:
    rows = [
        {"url": f"http://127.0.0.1/{n}", "tags": [], "headers": {}, "next_poll_at": CLAIMED_AT}
        | {"created_at": CLAIMED_AT}
        for n in range(count)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(feeds), rows)


async def _claim_feeds(engine: AsyncEngine, owner: str, now: datetime) -> int:
    claimed = await claim_due(
        engine, now=now, owner=owner, lease=LEASE, limit=10, dead_after=DEAD_AFTER
    )
    return len(claimed)


@pytest.mark.parametrize(
    ("holder_beat", "stolen"),
    [
        (CLAIMED_AT, True),  # beat last when it claimed, 30 s ago: dead
        (NOW - timedelta(seconds=5), False),  # beating: alive
        (None, False),  # never beat (not a service process): its lease runs out as usual
    ],
)
async def test_feeds_of_a_dead_worker_are_claimed_at_once(
    engine: AsyncEngine, holder_beat: datetime | None, stolen: bool
) -> None:
    await _feeds(engine, 3)
    assert await _claim_feeds(engine, "dead:1", CLAIMED_AT) == 3
    if holder_beat is not None:
        await _beat(engine, "dead:1", holder_beat)
    await _beat(engine, "live:2", NOW)

    assert await _claim_feeds(engine, "live:2", NOW) == (3 if stolen else 0)


async def test_a_worker_never_takes_its_own_leases_for_dead(engine: AsyncEngine) -> None:
    await _feeds(engine, 2)
    await _beat(engine, "slow:1", CLAIMED_AT)  # its own heartbeat lagged behind
    assert await _claim_feeds(engine, "slow:1", CLAIMED_AT) == 2

    assert await _claim_feeds(engine, "slow:1", NOW) == 0


async def test_outbox_rows_of_a_dead_worker_are_claimed_at_once(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(outbox)
            .values(message_id="m1", channel="c", kind="system", body="{}")
            .values(next_attempt_at=CLAIMED_AT, created_at=CLAIMED_AT)
        )
        held = await store.claim_due(
            conn, now=CLAIMED_AT, owner="dead:1", lease=LEASE, limit=5, channels=["c"]
        )
    await _beat(engine, "dead:1", CLAIMED_AT)
    await _beat(engine, "live:2", NOW)
    async with engine.begin() as conn:
        without = await store.claim_due(
            conn, now=NOW, owner="live:2", lease=LEASE, limit=5, channels=["c"]
        )
        taken = await store.claim_due(
            conn, now=NOW, owner="live:2", lease=LEASE, limit=5, channels=["c"],
            dead_after=DEAD_AFTER,
        )  # fmt: skip

    assert [m.message_id for m in held] == ["m1"]
    assert without == []  # the lease alone still holds for minutes
    assert [m.message_id for m in taken] == ["m1"]


async def test_a_singleton_job_of_a_dead_worker_runs_elsewhere_at_once(
    engine: AsyncEngine,
) -> None:
    assert await periodic.acquire(engine, "retention", "dead:1", CLAIMED_AT, LEASE)
    await _beat(engine, "dead:1", CLAIMED_AT)

    assert not await periodic.acquire(engine, "retention", "live:2", NOW, LEASE)
    assert await periodic.acquire(engine, "retention", "live:2", NOW, LEASE, DEAD_AFTER)
