"""Several `monitor run` worker processes on one PostgreSQL database, against a local feed
server and webhook receiver: each feed polled once per round, each article stored once,
each alert delivered once; SIGKILLed workers (some within their first seconds) lose nothing,
their work is taken over once their heartbeat stops (not when their 5 min lease ends) and
their extraction pools die with them; SIGTERM stops in time and leaves no lease held;
`run --workers N` restarts a killed worker.

CI sizes are small; `pytest -m slow tests/e2e` runs the full sizes (300 feeds, 10 kills).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import create_engine, upgrade
from monitor.storage.tables import alerts, articles, entries, feeds, heartbeats
from tests.support.cluster import (
    ROOT,
    Cluster,
    Feeds,
    counts,
    make_all_due,
    monitor_argv,
    scalar,
    wait_until,
    write_config,
)
from tests.support.databases import pg_database
from tests.support.feedserver import FeedServer
from tests.support.notify import WEBHOOK_SECRET, WebhookReceiver, free_port

SHUTDOWN_TIMEOUT = 5.0
POLLED_AFTER_RESTART = 60.0  # seconds; the lease a dead worker holds is 5 min
STOP_MARGIN = 5.0  # process exit after the graceful budget: interpreter teardown, pool


@dataclass
class Rig:
    engine: AsyncEngine
    server: FeedServer
    receiver: WebhookReceiver
    feeds: Feeds
    cluster: Cluster
    database_url: str

    def delivered(self) -> Counter[str]:
        return Counter(r.id for r in self.receiver.accepted())

    async def round_done(self, since: datetime) -> bool:
        """Every feed polled since `since`, everything stored, alerted and delivered."""
        seen = await counts(self.engine)
        unpolled = await scalar(
            self.engine,
            select(func.count()).where(
                (feeds.c.last_poll_at.is_(None)) | (feeds.c.last_poll_at < since)
            ),
        )
        return (
            unpolled == 0
            and seen["articles"] == self.feeds.articles
            and seen["alerts"] == self.feeds.alerts
            and seen["unsent"] == 0
            and len(self.delivered()) == self.feeds.alerts
        )

    async def wait_round(self, since: datetime, timeout: float = 90) -> None:
        await wait_until(
            lambda: self.round_done(since), timeout=timeout, cluster=self.cluster, what="the round"
        )


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    n_feeds: int,
    *,
    lease: str = "5m",
    page_delay: float = 0.0,
    server_port: int | None = None,
) -> AsyncIterator[Rig]:
    async with pg_database() as url:
        with FeedServer() as server, WebhookReceiver().running() as receiver:
            feeds_ = Feeds(server, n_feeds, page_delay=page_delay)
            feeds_.add_items(2)
            config = write_config(
                tmp_path / "monitor.toml",
                database_url=url,
                feeds=feeds_,
                receiver=receiver,
                lease=lease,
                shutdown_timeout=f"{SHUTDOWN_TIMEOUT:g}s",
                server_port=server_port,
            )
            engine = create_engine(url)
            await upgrade(engine)
            (tmp_path / "logs").mkdir()
            cluster = Cluster(config, tmp_path / "logs")
            try:
                yield Rig(engine, server, receiver, feeds_, cluster, url)
            finally:
                cluster.stop()
                await engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


async def _all_serving(r: Rig) -> bool:
    """Every live worker has ticked (its signal handlers are in place)."""
    async with r.engine.connect() as conn:
        beating = set((await conn.execute(select(heartbeats.c.pid))).scalars())
    return all(w.pid in beating for w in r.cluster.workers if w.process.poll() is None)


async def _assert_stopped_cleanly(r: Rig) -> None:
    await wait_until(lambda: _all_serving(r), timeout=60, cluster=r.cluster, what="every worker")
    results = r.cluster.terminate_all(SHUTDOWN_TIMEOUT + STOP_MARGIN + 5)
    assert [code for code, _ in results] == [0] * len(results), r.cluster.log_tail()
    assert max(seconds for _, seconds in results) <= SHUTDOWN_TIMEOUT + STOP_MARGIN
    held = await counts(r.engine)
    assert (held["feed_leases"], held["outbox_leases"], held["task_leases"]) == (0, 0, 0)


async def _assert_each_article_once(r: Rig) -> None:
    async with r.engine.connect() as conn:
        guids = Counter((await conn.execute(select(articles.c.guid))).scalars())
        unstored = await conn.scalar(select(func.count()).where(entries.c.article_id.is_(None)))
    expected = {f"urn:test:{f}:{i}" for f in range(r.feeds.count) for i in range(r.feeds.items[f])}
    assert set(guids) == expected
    assert max(guids.values()) == 1
    assert unstored == 0  # no entry was dropped as a duplicate of another


async def _alert_ids(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(select(alerts.c.id))).scalars())


async def _scrape(ports: list[int]) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every sample of every worker's /metrics, summed over the workers."""
    total: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        for port in ports:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    total[(sample.name, tuple(sorted(sample.labels.items())))] += sample.value
    return total


async def _assert_metrics_match_the_work(r: Rig, polls: int) -> None:
    seen = await _scrape(r.cluster.status_ports)
    by_name: Counter[str] = Counter()
    for (name, _), value in seen.items():
        by_name[name] += value
    assert by_name["monitor_polls_total"] == polls
    assert by_name["monitor_articles_stored_total"] == r.feeds.articles
    assert seen[("monitor_http_responses_total", (("kind", "page"), ("status", "200")))] == (
        r.feeds.articles
    )
    assert seen[("monitor_alerts_total", (("watchlist", "isis-k"),))] == r.feeds.alerts
    sent = seen[("monitor_deliveries_total", (("channel", "soc"), ("outcome", "sent")))]
    assert sent == r.feeds.alerts
    assert by_name["monitor_published_to_delivered_seconds_count"] == r.feeds.alerts
    assert by_name["monitor_published_to_fetched_seconds_count"] == r.feeds.articles
    assert by_name["monitor_extraction_seconds_count"] == r.feeds.articles


async def _three_workers_round_trip(tmp_path: Path, n_feeds: int) -> None:
    async with rig(tmp_path, n_feeds) as r:
        r.cluster.status_ports = [free_port() for _ in range(3)]
        start = _now()
        for _ in range(3):
            r.cluster.start()
        await r.wait_round(start)
        paths = [r.feeds.path(f) for f in range(n_feeds)]
        assert [r.server.count(p) for p in paths] == [1] * n_feeds
        pages = [f"/a/{f}/{i}" for f in range(n_feeds) for i in range(2)]
        assert [r.server.count(p) for p in pages] == [1] * len(pages)

        r.feeds.add_items(1)
        second = _now()
        await make_all_due(r.engine, second)
        await r.wait_round(second)
        assert [r.server.count(p) for p in paths] == [2] * n_feeds

        await _assert_each_article_once(r)
        delivered = r.delivered()
        assert set(delivered) == await _alert_ids(r.engine)
        assert set(delivered.values()) == {1}  # no crash here, so exactly once
        assert all(received.verified for received in r.receiver.accepted())
        await _assert_metrics_match_the_work(r, polls=2 * n_feeds)
        await _assert_stopped_cleanly(r)


async def test_three_workers_poll_each_feed_once_per_round_and_alert_once(tmp_path: Path) -> None:
    await _three_workers_round_trip(tmp_path, 30)


@pytest.mark.slow
async def test_three_workers_at_full_size(tmp_path: Path) -> None:
    await _three_workers_round_trip(tmp_path, 300)


async def _chaos(tmp_path: Path, n_feeds: int, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    # The default 5 min lease: a killed worker's feeds, outbox rows and jobs come back because
    # its heartbeat stops (`polling.worker_timeout`, 20 s), not because the lease runs out.
    # Slow pages so kills land while polls, extractions and deliveries are in flight.
    async with rig(tmp_path, n_feeds, lease="5m", page_delay=0.05) as r:
        start = _now()
        for _ in range(3):
            r.cluster.start()
        for kill in range(kills):
            if kill:
                r.feeds.add_items(1)
                start = _now()
                await make_all_due(r.engine, start)
            await asyncio.sleep(rng.uniform(0.2, 2.0))  # a random moment of the round
            victim = rng.randrange(3)
            await _kill_and_restart(r, victim)
            if rng.random() < 0.4:  # and again within its first seconds of start-up
                await asyncio.sleep(rng.uniform(0.3, 3.0))
                await _kill_and_restart(r, victim)
            # Every feed, the dead worker's too, polled well before its 5 min lease ends
            # (the target is 30 s after the restart; the bound leaves room for a busy machine).
            await wait_until(
                lambda since=start: _all_polled_since(r.engine, since),
                timeout=POLLED_AFTER_RESTART,
                cluster=r.cluster,
                what="every feed polled after the restart",
            )
            await r.wait_round(start, timeout=120)

        await _assert_each_article_once(r)
        delivered = r.delivered()
        assert set(delivered) == await _alert_ids(r.engine)
        # At-least-once: a kill between a receiver's 200 and `mark_sent` resends, with the
        # same webhook-id; never more than the rows a killed worker had in flight.
        repeats = sum(n - 1 for n in delivered.values())
        assert repeats <= kills * 16
        await _assert_stopped_cleanly(r)


async def _kill_and_restart(r: Rig, index: int) -> None:
    """SIGKILL worker `index`, check its extraction pool dies with it, start it again."""
    pid = r.cluster.workers[index].pid
    r.cluster.kill(index)
    await wait_until(
        lambda: _no_pool_of(pid), timeout=20, cluster=r.cluster, what=f"the pool of {pid} gone"
    )
    r.cluster.start(index)


async def _no_pool_of(pid: int) -> bool:
    """No live process was started by the extraction pool of worker `pid` (its forkserver
    names `pid` as its parent in the environment, `monitor.lifetime`)."""
    mark = f"MONITOR_POOL_PARENT={pid}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().split(") ", 1)[1][0]
                if state != "Z":
                    return False
        except (FileNotFoundError, PermissionError, ProcessLookupError, IndexError):
            continue
    return True


async def _all_polled_since(engine: AsyncEngine, since: datetime) -> bool:
    unpolled = await scalar(
        engine,
        select(func.count()).where(
            (feeds.c.last_poll_at.is_(None)) | (feeds.c.last_poll_at < since)
        ),
    )
    return unpolled == 0


async def test_sigkilled_workers_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    await _chaos(tmp_path, 24, kills=3, seed=8)


@pytest.mark.slow
async def test_ten_sigkills_at_full_size(tmp_path: Path) -> None:
    await _chaos(tmp_path, 300, kills=10, seed=80)


async def test_sigterm_mid_round_finishes_in_time_and_releases_every_lease(
    tmp_path: Path,
) -> None:
    # Pages answer slowly so the stop lands with polls in flight.
    async with rig(tmp_path, 12, page_delay=4.0) as r:
        for _ in range(2):
            r.cluster.start()
        await wait_until(lambda: _all_serving(r), timeout=60, cluster=r.cluster, what="workers")
        await wait_until(
            lambda: _leased(r.engine), timeout=60, cluster=r.cluster, what="claimed feeds"
        )
        await _assert_stopped_cleanly(r)


async def _leased(engine: AsyncEngine) -> bool:
    return (await counts(engine))["feed_leases"] > 0


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


@contextlib.contextmanager
def _supervisor(config: Path, log: Path, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        process = subprocess.Popen(
            monitor_argv(config, "run", "--workers", str(workers)),
            cwd=ROOT,
            env={**os.environ, "MONITOR_WEBHOOK_SECRET": WEBHOOK_SECRET},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


async def _healthy(port: int) -> bool:
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
            return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_run_workers_restarts_a_killed_worker_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    async with rig(tmp_path, 6, server_port=port) as r:
        config = r.cluster.config
        with _supervisor(config, tmp_path / "logs" / "supervisor.log", 2) as supervisor:
            await wait_until(
                lambda: _both_ready(port), timeout=60, cluster=r.cluster, what="two ready workers"
            )
            first, second = sorted(_children(supervisor.pid))
            os.kill(second, signal.SIGKILL)
            await wait_until(
                lambda: _replaced(supervisor.pid, second, port),
                timeout=60,
                cluster=r.cluster,
                what="the killed worker's replacement",
            )
            assert first in _children(supervisor.pid)
            started = time.monotonic()
            supervisor.send_signal(signal.SIGTERM)
            assert supervisor.wait(SHUTDOWN_TIMEOUT + STOP_MARGIN + 5) == 0
            assert time.monotonic() - started <= SHUTDOWN_TIMEOUT + STOP_MARGIN
        log = (tmp_path / "logs" / "supervisor.log").read_text()
        assert "worker exited unexpectedly; restarting" in log
        # Only the SIGKILLed worker may still hold leases (they expire); the stopped ones not.
        async with r.engine.connect() as conn:
            owners = set(
                (
                    await conn.execute(
                        select(feeds.c.lease_owner).where(feeds.c.lease_owner.is_not(None))
                    )
                ).scalars()
            )
        assert {owner.rsplit(":", 1)[1] for owner in owners} <= {str(second)}


async def _both_ready(port: int) -> bool:
    return await _healthy(port) and await _healthy(port + 1)


async def _replaced(supervisor: int, killed: int, port: int) -> bool:
    children = _children(supervisor)
    return len(children) == 2 and killed not in children and await _both_ready(port)
