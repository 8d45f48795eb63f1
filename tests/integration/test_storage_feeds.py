"""Feed rows on both backends: config sync, claims with leases, poll outcomes."""

from __future__ import annotations

import asyncio
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.config import FeedConfig
from monitor.storage import feeds as store
from monitor.storage.tables import feeds
from tests.support.waiting import until

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


async def _claimed(engine: AsyncEngine, n: int, owner: str = "w1") -> list[int]:
    async with engine.begin() as conn:
        await store.sync_config_feeds(conn, [_feed(f"http://f{i}.test/rss") for i in range(n)], NOW)
    rows = await store.claim_due(engine, now=NOW, owner=owner, lease=LEASE, limit=n)
    return sorted(row.id for row in rows)


async def test_a_batch_of_mixed_outcomes_is_written_row_by_row(engine: AsyncEngine) -> None:
    ok, failing, failing_again, moved, also_moved = await _claimed(engine, 5)
    async with engine.begin() as conn:  # one earlier failure to count from
        await store.record_poll(
            conn,
            failing_again,
            "w1",
            store.PollOutcome(NOW, state="erroring", error="HTTP 502"),
            NOW,
        )
        await conn.execute(
            feeds.update().where(feeds.c.id == failing_again).values(lease_owner="w1")
        )
    later = NOW + timedelta(minutes=1)
    error = store.PollOutcome(later + timedelta(minutes=4), state="erroring", error="HTTP 500")
    redirect = store.PollOutcome(later + timedelta(hours=1), new_url="http://new.test/rss")
    async with engine.begin() as conn:
        await store.record_polls(
            conn,
            "w1",
            [
                (
                    ok,
                    store.PollOutcome(
                        later + timedelta(hours=1), etag='"e"', keep_validators=False
                    ),
                    later,
                ),
                (failing, error, later),
                (failing_again, error, later),
                (moved, redirect, later),
                (also_moved, redirect, later),  # the same new URL: only the first takes it
            ],
        )
    async with engine.connect() as conn:
        rows = {row.id: row for row in await conn.execute(select(feeds))}
    assert (rows[ok].etag, rows[ok].error_count, rows[ok].last_success_at) == ('"e"', 0, later)
    assert [(rows[i].error_count, rows[i].last_error) for i in (failing, failing_again)] == [
        (1, "HTTP 500"),
        (2, "HTTP 500"),
    ]
    assert (rows[moved].url, rows[also_moved].url) == ("http://new.test/rss", "http://f4.test/rss")
    assert {row.lease_owner for row in rows.values()} == {None}
    assert {rows[i].next_poll_at for i in (ok, moved)} == {later + timedelta(hours=1)}


async def test_an_outcome_whose_lease_was_taken_over_is_not_written(engine: AsyncEngine) -> None:
    [feed_id] = await _claimed(engine, 1, owner="stalled")
    taken_at = NOW + LEASE + timedelta(seconds=1)
    [row] = await store.claim_due(engine, now=taken_at, owner="w2", lease=LEASE, limit=1)
    async with engine.begin() as conn:
        await store.record_polls(
            conn,
            "stalled",
            [(feed_id, store.PollOutcome(NOW, error="late", state="erroring"), NOW)],
        )
    row = (await _rows(engine))["http://f0.test/rss"]
    assert (row.lease_owner, row.error_count, row.last_error) == ("w2", 0, None)  # type: ignore[attr-defined]


async def test_the_recorder_commits_polls_that_end_together_in_one_transaction(
    engine: AsyncEngine,
) -> None:
    ids = await _claimed(engine, 40)
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    recorder = store.PollRecorder(engine, "w1")
    outcome = store.PollOutcome(NOW + timedelta(hours=1))
    await asyncio.gather(*(recorder.record(i, outcome, NOW) for i in ids))
    event.remove(engine.sync_engine, "commit", count)

    rows = await _rows(engine)
    assert {(r.lease_owner, r.last_poll_at) for r in rows.values()} == {(None, NOW)}  # type: ignore[attr-defined]
    assert 1 <= commits <= 2  # the first poll's own batch, then everyone who queued meanwhile


async def test_the_recorder_keeps_a_refused_outcome_from_failing_the_others(
    engine: AsyncEngine,
) -> None:
    good, bad, also_good = await _claimed(engine, 3)
    recorder = store.PollRecorder(engine, "w1")
    fine = store.PollOutcome(NOW + timedelta(hours=1))
    refused = store.PollOutcome(None)  # type: ignore[arg-type]  # next_poll_at is NOT NULL
    results = await asyncio.gather(
        recorder.record(good, fine, NOW),
        recorder.record(bad, refused, NOW),
        recorder.record(also_good, fine, NOW),
        return_exceptions=True,
    )
    assert results[0::2] == [None, None]
    assert isinstance(results[1], IntegrityError)
    async with engine.connect() as conn:
        rows = {row.id: row for row in await conn.execute(select(feeds))}
    # The refused one is still leased: it is polled again once the lease ends.
    assert [rows[i].lease_owner for i in (good, bad, also_good)] == [None, "w1", None]


async def test_the_recorder_fails_every_poll_at_once_when_the_database_is_gone(
    backend: str,
) -> None:
    if backend == "sqlite":
        url = "sqlite+aiosqlite:////nonexistent-folder/monitor.db"
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/gone"
    engine = create_async_engine(url)
    attempts = 0

    def connecting(*_: object) -> None:
        nonlocal attempts
        attempts += 1

    event.listen(engine.sync_engine, "do_connect", connecting)
    recorder = store.PollRecorder(engine, "w1")
    outcome = store.PollOutcome(NOW + timedelta(hours=1))
    before = set(threading.enumerate())
    try:
        results = await asyncio.gather(
            *(recorder.record(i, outcome, NOW) for i in range(5)), return_exceptions=True
        )
    finally:
        await engine.dispose()
        # aiosqlite stops the thread of a connection that failed to open without waiting for
        # it; the thread then reports back to this loop, which must still be running (else
        # "Event loop is closed" in _connection_worker_thread, in whichever test runs next).
        started = set(threading.enumerate()) - before
        await until(lambda: not any(t.is_alive() for t in started), "connection threads end")
    assert all(isinstance(r, (OSError, DBAPIError)) for r in results), results
    assert attempts == 1  # one batch, not a retry per poll against a dead database


async def _waiting_on_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


async def _locked_elsewhere(engine: AsyncEngine, feed_id: int) -> bool:
    async with engine.connect() as conn:
        try:
            await conn.execute(
                select(feeds.c.id).where(feeds.c.id == feed_id).with_for_update(nowait=True)
            )
        except DBAPIError:
            return True
        return False


async def _blocked_on_the_first_row(engine: AsyncEngine, write: Any) -> bool:
    """Hold the lowest feed's row, start `write` (which writes the lowest and highest rows),
    wait until it blocks, and say whether it holds the highest row meanwhile: a writer that
    locks in id order holds nothing else while it waits for the first row."""
    async with engine.connect() as holder:
        first, last = await _ids(engine)
        await holder.execute(
            select(feeds.c.id).where(feeds.c.id == first).with_for_update(key_share=True)
        )
        task = asyncio.create_task(write(first, last))
        for _ in range(100):
            if await _waiting_on_a_lock(engine):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the writer never waited for the held row")
        holds_last = await _locked_elsewhere(engine, last)
        await holder.rollback()
    await task
    return holds_last


async def _ids(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        ids = sorted((await conn.execute(select(feeds.c.id))).scalars())
    return ids[0], ids[-1]


async def test_poll_outcomes_and_config_sync_lock_feeds_in_id_order(engine: AsyncEngine) -> None:
    """Two transactions writing several feeds in different orders deadlock (seen: a worker
    restarting synced the config while another recorded a batch of polls, and the poll
    crashed holding its lease). Both lock their rows in id order before writing any."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer")
    urls = [f"http://f{i}.test/rss" for i in range(3)]
    await _claimed(engine, 3)
    later = NOW + timedelta(minutes=1)

    async def record(first: int, last: int) -> None:
        async with engine.begin() as conn:
            await store.record_polls(
                conn,
                "w1",
                [  # two shapes of outcome: the highest feed's statement runs first
                    (last, store.PollOutcome(later, state="erroring", error="HTTP 500"), later),
                    (first, store.PollOutcome(later, etag='"e"', keep_validators=False), later),
                ],
            )

    async def sync(first: int, last: int) -> None:
        async with engine.begin() as conn:  # the config lists the highest feed first
            await store.sync_config_feeds(conn, [_feed(url, name="n") for url in urls[::-1]], later)

    assert not await _blocked_on_the_first_row(engine, record)
    assert not await _blocked_on_the_first_row(engine, sync)
