"""The outbox on both backends: leases and SKIP LOCKED claims, backoff, dead-letter and requeue,
crash recovery with SIGKILL, singleton digests, the log channel."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from monitor.app import open_runtime
from monitor.clock import FrozenClock
from monitor.config import Settings, settings_from_dict
from monitor.errors import DeliveryError
from monitor.notify.base import Notifier, OutboxMessage
from monitor.notify.log import LogNotifier
from monitor.notify.outbox import DeliveryWorker, alert_builder, retry_delay
from monitor.notify.registry import build_notifiers
from monitor.pipeline.fetch import Fetcher
from monitor.scheduler import Service
from monitor.storage import outbox as store
from monitor.storage.engine import create_engine
from monitor.storage.tables import outbox
from tests.support.databases import pg_database
from tests.support.notify import (
    NOW,
    WEBHOOK_SECRET,
    WebhookReceiver,
    free_port,
    loopback_fetcher,
    make_context,
    make_match,
    seed_alerts,
)
from tests.support.usecases import use_cases
from tests.support.waiting import until

TESTS = Path(__file__).resolve().parent.parent
LEASE = timedelta(minutes=5)


def log_settings(*names: str, **delivery: Any) -> Settings:
    raw = {"channels": {name: {"type": "log"} for name in names}, "delivery": delivery}
    return settings_from_dict(raw, base=Path("."), check_secrets=False)


def hook_config(url: str) -> dict[str, Any]:
    return {
        "channels": {"hook": {"type": "webhook", "url": url, "secret_env": "TEST_WEBHOOK_SECRET"}},
        "delivery": {"max_attempts": 3, "retry_base": "30s", "retry_max": "5m", "timeout": "5s"},
    }


@pytest.fixture
async def client() -> AsyncIterator[Fetcher]:
    async with loopback_fetcher() as fetcher:
        yield fetcher


class Recorder:
    """A notifier that records messages and fails as scripted (worker logic only)."""

    def __init__(self, name: str, failures: Sequence[Exception] = ()) -> None:
        self.name = name
        self.failures = list(failures)
        self.sent: list[OutboxMessage] = []

    async def send(self, message: OutboxMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


def worker(
    engine: AsyncEngine, settings: Settings, notifiers: dict[str, Notifier], **kw: Any
) -> DeliveryWorker:
    return DeliveryWorker(
        engine=engine,
        notifiers=notifiers,
        settings=settings,
        clock=FrozenClock(NOW),
        owner=kw.pop("owner", "w1"),
        rand=lambda: 0.0,
        **kw,
    )


async def rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(outbox).order_by(outbox.c.id)))


async def claim(engine: AsyncEngine, owner: str, now: Any = NOW, limit: int = 100) -> list[str]:
    async with engine.begin() as conn:
        claimed = await store.claim_due(
            conn, now=now, owner=owner, lease=LEASE, limit=limit, channels=["a", "b"]
        )
    return [m.message_id for m in claimed]


# --- claims ---------------------------------------------------------------------------------


async def test_claims_lease_rows_until_the_lease_expires(engine: AsyncEngine) -> None:
    settings = log_settings("a", "b", "c")
    await seed_alerts(engine, dict(settings.channels), NOW, 3)
    first = await claim(engine, "w1", limit=4)
    assert len(first) == 4
    rest = await claim(engine, "w2")
    assert len(rest) == 2
    assert not set(first) & set(rest)
    assert await claim(engine, "w3", NOW + LEASE - timedelta(seconds=1)) == []
    assert sorted(await claim(engine, "w3", NOW + LEASE + timedelta(seconds=1))) == sorted(
        first + rest
    )


async def test_concurrent_claimers_never_share_a_row(engine: AsyncEngine) -> None:
    settings = log_settings("a", "b")
    await seed_alerts(engine, dict(settings.channels), NOW, 20)

    async def claim_all(owner: str) -> list[str]:
        mine: list[str] = []
        while batch := await claim(engine, owner, limit=3):
            mine += batch
        return mine

    claims = await asyncio.gather(*(claim_all(f"w{n}") for n in range(6)))
    flat = [message for batch in claims for message in batch]
    assert len(flat) == len(set(flat)) == 40


async def test_pg_claim_skips_rows_locked_by_an_open_transaction(
    engine: AsyncEngine, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite runs one service process")
    settings = log_settings("a")
    await seed_alerts(engine, dict(settings.channels), NOW, 4)
    async with engine.begin() as holder:
        held = await store.claim_due(
            holder, now=NOW, owner="w1", lease=LEASE, limit=2, channels=["a"]
        )
        other = await asyncio.wait_for(claim(engine, "w2"), timeout=5)  # not blocked
    assert len(held) == 2
    assert len(other) == 2
    assert not {m.message_id for m in held} & set(other)


# --- delivery outcomes ----------------------------------------------------------------------


def test_retry_delay_is_exponential_jittered_capped_and_honours_retry_after() -> None:
    base, cap = timedelta(seconds=30), timedelta(minutes=10)

    def delay(attempts: int, jitter: float = 0.0, retry_after: float | None = None) -> float:
        return retry_delay(
            attempts, base=base, cap=cap, jitter=jitter, retry_after=retry_after
        ).total_seconds()

    assert [delay(n) for n in (1, 2, 3, 4, 5, 6, 50)] == [15, 30, 60, 120, 240, 300, 300]
    assert delay(1, jitter=0.999) == pytest.approx(30, abs=0.1)
    assert delay(1, retry_after=90) == 90
    assert delay(6, retry_after=90) == 300  # backoff already longer
    assert delay(1, retry_after=10**9) == 86400  # absurd Retry-After is bounded


async def test_permanent_error_dead_letters_at_once_and_bugs_are_retried(
    engine: AsyncEngine,
) -> None:
    settings = log_settings("a", "b")
    await seed_alerts(engine, dict(settings.channels), NOW, 1)
    notifiers: dict[str, Notifier] = {
        "a": Recorder("a", [DeliveryError("SMTP 554: no", permanent=True)]),
        "b": Recorder("b", [KeyError("oops")]),
    }
    assert await worker(engine, settings, notifiers).run_once(NOW) == 0
    a, b = await rows(engine)
    assert (a.status, a.attempts, a.last_error) == ("dead", 1, "SMTP 554: no")
    assert (b.status, b.attempts, b.last_error) == ("pending", 1, "KeyError: 'oops'")
    assert b.next_attempt_at == NOW + timedelta(seconds=15)


async def test_receiver_down_dead_letters_then_retry_delivers_once(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    port = free_port()
    settings = settings_from_dict(hook_config(f"http://127.0.0.1:{port}/hook"), base=Path("."))
    [alert] = await seed_alerts(engine, dict(settings.channels), NOW, 1)
    delivery = worker(engine, settings, build_notifiers(settings, client))
    now = NOW
    for _ in range(5):  # max_attempts = 3
        await delivery.run_once(now)
        now += timedelta(hours=1)
    [row] = await rows(engine)
    assert (row.status, row.attempts) == ("dead", 3)
    assert row.last_error == f"http://127.0.0.1:{port}/hook: connection refused"
    [shown] = (await use_cases(engine, NOW)[0].alerts.get(alert)).deliveries
    assert (shown.status, shown.last_error) == ("dead", row.last_error)

    with WebhookReceiver(port=port).running() as receiver:
        assert await delivery.run_once(now) == 0  # dead rows stay dead
        async with engine.begin() as conn:
            assert await store.requeue(conn, now, dead=True) == 1
        assert await delivery.run_once(now) == 1
        assert await delivery.run_once(now + timedelta(hours=1)) == 0
    assert [r.id for r in receiver.accepted()] == [alert]
    [row] = await rows(engine)
    # the history stays: three failed attempts, then the one that delivered
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)


async def test_requeue_by_alert_id_never_resends_a_sent_row(engine: AsyncEngine) -> None:
    settings = log_settings("a", "b")
    [alert] = await seed_alerts(engine, dict(settings.channels), NOW, 1)
    notifiers: dict[str, Notifier] = {
        "a": Recorder("a"),
        "b": Recorder("b", [DeliveryError("no", permanent=True)]),
    }
    delivery = worker(engine, settings, notifiers)
    assert await delivery.run_once(NOW) == 1
    async with engine.begin() as conn:
        assert await store.requeue(conn, NOW, ids=[alert]) == 1  # only the dead one
        assert await store.requeue(conn, NOW, ids=["alt_unknown"]) == 0
    assert await delivery.run_once(NOW) == 1
    assert [s.status for s in await rows(engine)] == ["sent", "sent"]


# --- crash recovery -------------------------------------------------------------------------

CHILD = """
import asyncio, json, os, signal, sys
from datetime import timedelta
from pathlib import Path
from monitor.app import open_runtime
from monitor.clock import FrozenClock
from monitor.config import settings_from_dict
from monitor.storage import outbox as store
from monitor.notify.outbox import DeliveryWorker
from monitor.notify.registry import build_notifiers
from monitor.storage.engine import create_engine
from tests.support.notify import NOW, loopback_fetcher, seed_alerts

async def main(url, mode, config, *offsets):
    settings = settings_from_dict(json.loads(config), base=Path("."))
    engine = create_engine(url)
    async with loopback_fetcher() as fetcher:
        notifiers = build_notifiers(settings, fetcher)
        if mode == "store-then-die":
            await seed_alerts(engine, dict(settings.channels), NOW, 1)
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "send-then-die":
            async with engine.begin() as conn:
                [message] = await store.claim_due(conn, now=NOW, owner="doomed",
                    lease=timedelta(minutes=5), limit=1, channels=["hook"])
            await notifiers["hook"].send(message)  # accepted, never marked sent
            os.kill(os.getpid(), signal.SIGKILL)
        delivery = DeliveryWorker(engine=engine, notifiers=notifiers, settings=settings,
                                  clock=FrozenClock(NOW), owner="restarted")
        for offset in offsets:
            print("delivered", await delivery.run_once(NOW + timedelta(seconds=float(offset))))
    await engine.dispose()

asyncio.run(main(*sys.argv[1:]))
"""


def run_child(
    url: str, mode: str, config: dict[str, Any], *offsets: float
) -> subprocess.CompletedProcess[str]:
    """A separate process on the same database; `deliver` runs the worker at NOW + offsets."""
    env = os.environ | {
        "PYTHONPATH": str(TESTS.parent),
        "TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-c", CHILD, url, mode, json.dumps(config), *map(str, offsets)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def delivered(child: subprocess.CompletedProcess[str]) -> list[int]:
    """The counts the child's worker runs delivered."""
    assert child.returncode == 0, child.stderr
    return [
        int(line.split()[1]) for line in child.stdout.splitlines() if line.startswith("delivered ")
    ]


async def test_sigkill_after_commit_delivers_exactly_once_after_restart(
    database_url: str, engine: AsyncEngine
) -> None:
    with WebhookReceiver().running() as receiver:
        config = hook_config(receiver.url)
        died = run_child(database_url, "store-then-die", config)
        assert died.returncode == -signal.SIGKILL, died.stderr
        assert receiver.received == []
        assert delivered(run_child(database_url, "deliver", config, 0, 3600)) == [1, 0]
    [row] = await rows(engine)
    assert [r.id for r in receiver.accepted()] == [row.alert_id]


async def test_sigkill_after_acceptance_resends_once_with_the_same_id(
    database_url: str, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    with WebhookReceiver().running() as receiver:
        config = hook_config(receiver.url)
        await seed_alerts(engine, dict(settings_from_dict(config, base=Path(".")).channels), NOW, 1)
        died = run_child(database_url, "send-then-die", config)
        assert died.returncode == -signal.SIGKILL, died.stderr
        lease_over = LEASE.total_seconds() + 1
        # While the dead worker's lease runs nothing is resent; after it, once.
        assert delivered(run_child(database_url, "deliver", config, 0, lease_over)) == [0, 1]
    [row] = await rows(engine)
    assert [r.id for r in receiver.accepted()] == [row.alert_id] * 2  # receivers drop the repeat
    assert len({r.body for r in receiver.received}) == 1


# --- digests --------------------------------------------------------------------------------


async def test_two_processes_sending_digests_write_one(engine: AsyncEngine) -> None:
    settings = settings_from_dict(
        {"channels": {"a": {"type": "log", "digest": "1h"}}}, base=Path("."), check_secrets=False
    )
    await seed_alerts(engine, dict(settings.channels), NOW, 10)
    recorders = [Recorder("a"), Recorder("a")]
    workers = [
        worker(engine, settings, {"a": recorder}, owner=f"w{n}")
        for n, recorder in enumerate(recorders)
    ]
    later = NOW + timedelta(minutes=30)
    written = await asyncio.gather(*(w.send_digests(later) for w in workers))
    assert sum(written) == 1
    sent = [m for r in recorders for m in r.sent]
    assert [m.kind for m in sent] == ["digest"]
    assert len(json.loads(sent[0].body)["alerts"]) == 10
    statuses = sorted(r.status for r in await rows(engine))
    assert statuses == ["rolled"] * 10 + ["sent"]


async def test_digest_job_is_offered_to_the_scheduler(engine: AsyncEngine) -> None:
    settings = log_settings("a")
    [(name, seconds, job)] = worker(engine, settings, {"a": Recorder("a")}).periodic_jobs()
    assert name == "digests"
    assert 0 < seconds <= 60
    await job()  # nothing held: a no-op that must not raise


# --- log channel and wiring -----------------------------------------------------------------


async def test_log_channel_writes_one_line_per_alert_and_a_block_on_a_tty(
    engine: AsyncEngine,
) -> None:
    settings = log_settings("desk")
    screen = io.StringIO()
    notifier = LogNotifier("desk", console=Console(file=screen, force_terminal=True, width=100))
    [alert] = await seed_alerts(engine, dict(settings.channels), NOW, 1)
    with capture_logs() as logs:
        assert await worker(engine, settings, {"desk": notifier}).run_once(NOW) == 1
    [line] = [entry for entry in logs if entry["event"] == "alert"]
    assert line["id"] == alert
    assert line["watchlist"] == "isis-k"
    assert line["severity"] == "high"
    assert line["url"] == "https://news.example/a/0"
    assert line["matches"] == "ISIS-K (ISIS-Khorasan) ×4, suicide bombing ×1"
    assert "[HIGH] isis-k" in screen.getvalue()
    assert "Headline 0: Pakistan accuses neighbours of aiding ISIS-K" in screen.getvalue()


def test_log_channel_prints_no_block_off_a_tty() -> None:
    assert LogNotifier("desk")._console is None  # pytest captures stdout: not a TTY


def test_alert_builder_uses_the_clock_and_the_configured_channels() -> None:
    settings = log_settings("a", "b")
    build = alert_builder(settings, FrozenClock(NOW))
    alert, outbox_rows = build(make_match(["a", "b", "gone"]), make_context())
    assert alert["created_at"] == NOW
    assert [r["channel"] for r in outbox_rows] == ["a", "b"]


@pytest.mark.slow
async def test_webhook_throughput_with_100_alerts_queued(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    with WebhookReceiver().running() as receiver:
        settings = settings_from_dict(hook_config(receiver.url), base=Path("."))
        await seed_alerts(engine, dict(settings.channels), NOW, 100)
        delivery = worker(engine, settings, build_notifiers(settings, client))
        started = time.perf_counter()
        assert await delivery.run_once(NOW) == 100
        elapsed = time.perf_counter() - started
    assert len(receiver.accepted()) == 100
    assert all(r.verified for r in receiver.received)
    print(f"\n{engine.dialect.name}: {100 / elapsed:.0f} deliveries/s ({elapsed * 1000:.0f} ms)")


async def test_a_row_another_process_inserts_is_delivered_at_once_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The delivery tick is an hour here: only the LISTEN/NOTIFY wake-up can deliver in time.
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    async with pg_database() as url:
        with WebhookReceiver().running() as receiver:
            raw = hook_config(receiver.url) | {
                "database": {"url": url},
                "polling": {"allow_networks": ["127.0.0.0/8"]},
            }
            settings = settings_from_dict(raw, base=tmp_path)
            async with open_runtime(settings, extract_workers=1) as runtime:
                service = Service(runtime, delivery_every=3600)
                running = asyncio.create_task(service.run())
                await asyncio.wait_for(service.listening.wait(), 30)
                other = create_engine(url)  # another connection, as another process's
                try:
                    for start in (0, 1, 2):  # each insert wakes the service again
                        if start == 2:  # and after its listening connection was killed
                            await _kill_listeners(other)
                            await until(lambda: not service.listening.is_set())
                            await asyncio.wait_for(service.listening.wait(), 30)
                        await seed_alerts(other, dict(settings.channels), NOW, 1, start=start)
                        await until(lambda: len(receiver.accepted()) > start)  # noqa: B023
                        assert len(receiver.accepted()) == start + 1
                finally:
                    await other.dispose()
                    service.stop()
                    await running
            assert not service.listening.is_set()  # stopped listening on shutdown


async def _kill_listeners(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        )


async def test_workers_sending_at_once_share_one_hourly_budget(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several delivery workers share one database on PostgreSQL only")
    settings = settings_from_dict(
        {"channels": {"capped": {"type": "log", "max_per_hour": 5}}},
        base=Path("."),
        check_secrets=False,
    )
    await seed_alerts(engine, dict(settings.channels), NOW, 24)
    recorders = [Recorder("capped") for _ in range(3)]
    workers = [
        worker(engine, settings, {"capped": r}, owner=f"w{i}", batch=4)
        for i, r in enumerate(recorders)
    ]
    await asyncio.gather(*(w.run_once(NOW) for w in workers))
    sent = [m.message_id for r in recorders for m in r.sent]
    assert len(sent) == len(set(sent)) == 5
    statuses = [row.status for row in await rows(engine)]
    assert (statuses.count("sent"), statuses.count("held")) == (5, 19)
