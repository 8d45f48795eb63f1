"""Claims of work whose lease another worker let expire are counted as lease steals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.metrics import METRICS
from monitor.storage import outbox as store
from monitor.storage.feeds import claim_due
from monitor.storage.tables import feeds, outbox

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _steals(kind: str) -> float:
    value = METRICS.registry.get_sample_value("monitor_lease_steals_total", {"kind": kind})
    return value or 0.0


async def test_a_feed_claimed_after_its_lease_expired_counts_as_a_steal(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(feeds),
            [
                {"url": f"http://127.0.0.1/{n}", "tags": [], "headers": {}, "next_poll_at": NOW}
                | {"created_at": NOW}
                for n in range(3)
            ],
        )
    before = _steals("feed")
    assert len(await claim_due(engine, now=NOW, owner="a", lease=LEASE, limit=2)) == 2
    assert _steals("feed") == before  # nobody held them

    later = NOW + LEASE + timedelta(seconds=1)  # "a" died: its two leases expired
    assert len(await claim_due(engine, now=later, owner="b", lease=LEASE, limit=3)) == 3
    assert _steals("feed") == before + 2


async def test_an_outbox_row_claimed_after_its_lease_expired_counts_as_a_steal(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(outbox)
            .values(message_id="m1", channel="c", kind="system", body="{}", next_attempt_at=NOW)
            .values(created_at=NOW)
        )
    before = _steals("outbox")
    async with engine.begin() as conn:
        first = await store.claim_due(
            conn, now=NOW, owner="a", lease=LEASE, limit=5, channels=["c"]
        )
    later = NOW + LEASE + timedelta(seconds=1)
    async with engine.begin() as conn:
        second = await store.claim_due(
            conn, now=later, owner="b", lease=LEASE, limit=5, channels=["c"]
        )
    assert (len(first), len(second)) == (1, 1)
    assert _steals("outbox") == before + 1
