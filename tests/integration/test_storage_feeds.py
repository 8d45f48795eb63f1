"""Feed rows on both backends: config sync, claims with leases, poll outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig
from monitor.storage import feeds as store
from monitor.storage.tables import feeds

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _feed(url: str, **kw: object) -> FeedConfig:
    return FeedConfig.model_validate({"url": url, **kw})


async def _rows(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as conn:
        return {row.config_url or row.url: row for row in await conn.execute(select(feeds))}


async def test_config_sync_upserts_and_disables_removed_feeds(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.sync_config_feeds(
            conn,
            [_feed("http://a.test/rss", name="A", tags=["af"]), _feed("http://b.test/rss")],
            NOW,
        )
    async with engine.begin() as conn:
        await store.sync_config_feeds(conn, [_feed("http://a.test/rss", name="A2")], NOW)
    rows = await _rows(engine)
    assert rows["http://a.test/rss"].name == "A2"  # type: ignore[attr-defined]
    assert rows["http://b.test/rss"].state == "disabled"  # type: ignore[attr-defined]
    async with engine.begin() as conn:  # back in the config: enabled again
        await store.sync_config_feeds(
            conn, [_feed("http://a.test/rss"), _feed("http://b.test/rss")], NOW
        )
    assert (await _rows(engine))["http://b.test/rss"].state == "ok"  # type: ignore[attr-defined]


async def test_permanent_redirect_sticks_across_config_sync(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.sync_config_feeds(conn, [_feed("http://old.test/rss")], NOW)
    [row] = await store.claim_due(engine, now=NOW, owner="w1", lease=LEASE, limit=10)
    outcome = store.PollOutcome(
        next_poll_at=NOW + timedelta(minutes=15), new_url="http://new.test/rss"
    )
    async with engine.begin() as conn:
        await store.record_poll(conn, row.id, "w1", outcome, NOW)
        await store.sync_config_feeds(conn, [_feed("http://old.test/rss", name="renamed")], NOW)
    row = (await _rows(engine))["http://old.test/rss"]
    assert row.url == "http://new.test/rss"  # type: ignore[attr-defined]
    assert row.name == "renamed"  # type: ignore[attr-defined]


async def test_claims_are_exclusive_until_the_lease_expires(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.sync_config_feeds(conn, [_feed(f"http://f{i}.test/rss") for i in range(5)], NOW)
    first = await store.claim_due(engine, now=NOW, owner="w1", lease=LEASE, limit=3)
    second = await store.claim_due(engine, now=NOW, owner="w2", lease=LEASE, limit=10)
    assert len(first) == 3
    assert len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}
    assert await store.claim_due(engine, now=NOW, owner="w3", lease=LEASE, limit=10) == []
    # w1 crashed: after the lease, its feeds go to another worker.
    later = await store.claim_due(
        engine, now=NOW + LEASE + timedelta(seconds=1), owner="w3", lease=LEASE, limit=10
    )
    assert {r.id for r in later} == {r.id for r in first} | {r.id for r in second}


async def test_record_poll_schedules_and_counts_errors(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.sync_config_feeds(conn, [_feed("http://x.test/rss")], NOW)
    [row] = await store.claim_due(engine, now=NOW, owner="w1", lease=LEASE, limit=1)
    failure = store.PollOutcome(
        next_poll_at=NOW + timedelta(minutes=4), state="erroring", error="HTTP 500"
    )
    async with engine.begin() as conn:
        await store.record_poll(conn, row.id, "w1", failure, NOW)
    row = (await _rows(engine))["http://x.test/rss"]
    assert (row.state, row.error_count, row.last_error, row.lease_owner) == (
        "erroring",
        1,
        "HTTP 500",
        None,
    )  # type: ignore[attr-defined]
    assert (
        await store.claim_due(
            engine, now=NOW + timedelta(minutes=1), owner="w1", lease=LEASE, limit=1
        )
        == []
    )
    [row] = await store.claim_due(
        engine, now=NOW + timedelta(minutes=5), owner="w1", lease=LEASE, limit=1
    )
    ok = store.PollOutcome(
        next_poll_at=NOW + timedelta(hours=1), etag='"v1"', keep_validators=False
    )
    async with engine.begin() as conn:
        await store.record_poll(conn, row.id, "w1", ok, NOW + timedelta(minutes=5))
    row = (await _rows(engine))["http://x.test/rss"]
    assert (row.state, row.error_count, row.last_error, row.etag) == ("ok", 0, None, '"v1"')  # type: ignore[attr-defined]


async def test_run_once_all_skips_retry_after_window_and_disabled(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.sync_config_feeds(
            conn, [_feed("http://a.test/rss"), _feed("http://b.test/rss")], NOW
        )
    rows = await store.claim_due(engine, now=NOW, owner="w1", lease=LEASE, limit=2)
    throttled = store.PollOutcome(
        next_poll_at=NOW + timedelta(hours=1),
        state="erroring",
        error="HTTP 429",
        retry_after_until=NOW + timedelta(hours=1),
    )
    async with engine.begin() as conn:
        await store.record_poll(conn, rows[0].id, "w1", throttled, NOW)
        await store.record_poll(
            conn, rows[1].id, "w1", store.PollOutcome(next_poll_at=NOW + timedelta(hours=1)), NOW
        )
        await store.set_state(conn, rows[1].id, "disabled", NOW)
    assert (
        await store.claim_due(engine, now=NOW, owner="w2", lease=LEASE, limit=5, all_feeds=True)
        == []
    )


async def test_release_returns_leases(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.sync_config_feeds(conn, [_feed("http://a.test/rss")], NOW)
    rows = await store.claim_due(engine, now=NOW, owner="w1", lease=LEASE, limit=1)
    await store.release(engine, [r.id for r in rows], "w1")
    again = await store.claim_due(engine, now=NOW, owner="w2", lease=LEASE, limit=1)
    assert [r.id for r in again] == [r.id for r in rows]
