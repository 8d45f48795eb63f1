"""The status server against a real PostgreSQL reached through a proxy the test can cut:
/healthz, /readyz (database, migrations, scheduler tick) and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import STDOUT, Popen

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.clock import FrozenClock
from monitor.metrics import ClusterState, Metrics
from monitor.server import StatusServer
from monitor.storage.engine import create_engine, upgrade
from tests.support.databases import pg_database
from tests.support.notify import free_port
from tests.support.tcpproxy import TcpProxy

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Running:
    def __init__(self, server: StatusServer, proxy: TcpProxy, clock: FrozenClock) -> None:
        self.server, self.proxy, self.clock = server, proxy, clock
        self.metrics = server.metrics

    async def get(self, path: str) -> httpx.Response:
        url = f"http://127.0.0.1:{self.server.port}{path}"
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            return await client.get(url)


@contextlib.asynccontextmanager
async def _running(url: str, *, migrate: bool) -> AsyncIterator[Running]:
    if migrate:
        setup = create_engine(url)
        await upgrade(setup)
        await setup.dispose()
    proxy = TcpProxy("127.0.0.1", 5432)
    await proxy.start()
    engine = create_engine(url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    clock = FrozenClock(NOW)
    server = StatusServer(
        engine=engine,
        metrics=Metrics(),
        clock=clock,
        host="127.0.0.1",
        port=0,
        max_tick_age=timedelta(seconds=30),
    )
    await server.start()
    try:
        yield Running(server, proxy, clock)
    finally:
        await server.stop()
        await proxy.cut()
        await engine.dispose()


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    async with pg_database() as url, _running(url, migrate=True) as item:
        yield item


async def test_readyz_is_unready_while_the_database_is_unreachable_and_ready_after(
    running: Running,
) -> None:
    running.metrics.ticked(NOW)
    assert (await running.get("/readyz")).status_code == 200

    await running.proxy.cut()
    unready = await running.get("/readyz")
    assert unready.status_code == 503
    assert unready.text.startswith("database unreachable")
    assert len(unready.text.strip().splitlines()) == 1
    assert (await running.get("/healthz")).status_code == 200  # the process is alive

    await running.proxy.restore()
    assert (await running.get("/readyz")).status_code == 200


async def test_readyz_wants_a_recent_scheduler_tick(running: Running) -> None:
    first = await running.get("/readyz")
    assert (first.status_code, first.text) == (503, "scheduler has not ticked yet\n")
    running.metrics.ticked(NOW)
    running.clock.advance(timedelta(seconds=29))
    assert (await running.get("/readyz")).status_code == 200
    running.clock.advance(timedelta(seconds=2))
    stale = await running.get("/readyz")
    assert (stale.status_code, stale.text) == (503, "scheduler has not ticked for 31s\n")


async def test_readyz_wants_current_migrations() -> None:
    async with pg_database() as url, _running(url, migrate=False) as item:
        item.metrics.ticked(NOW)
        response = await item.get("/readyz")
        assert response.status_code == 503
        assert response.text.startswith("migrations not current (database at none")


async def test_metrics_parse_and_show_what_was_counted(running: Running) -> None:
    m = running.metrics
    for outcome in ("new", "new", "not_modified", "error"):
        m.poll_finished(outcome)
    m.http_response("feed", 200, 1500)
    m.http_response("feed", 304)
    m.http_response("page", None)
    m.article_stored(
        published_at=NOW - timedelta(minutes=10),
        fetched_at=NOW,
        stored_at=NOW + timedelta(seconds=1),
    )
    m.duplicate_dropped("hash")
    m.alert_raised("isis-k")
    m.delivered(
        "soc",
        "sent",
        now=NOW + timedelta(seconds=3),
        created_at=NOW,
        published_at=NOW - timedelta(minutes=10),
    )
    m.leases_stolen("feed", 2)
    m.cluster_state(ClusterState({"ok": 5, "erroring": 1}, 3, 2, {"pending": 4}, 12.5), NOW)

    response = await running.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert samples[("monitor_polls_total", (("outcome", "new"),))] == 2
    assert samples[("monitor_polls_total", (("outcome", "error"),))] == 1
    assert samples[("monitor_http_responses_total", (("kind", "feed"), ("status", "304")))] == 1
    assert samples[("monitor_http_responses_total", (("kind", "page"), ("status", "error")))] == 1
    assert samples[("monitor_fetched_bytes_total", (("kind", "feed"),))] == 1500
    assert samples[("monitor_articles_stored_total", ())] == 1
    assert samples[("monitor_duplicates_dropped_total", (("kind", "hash"),))] == 1
    assert samples[("monitor_alerts_total", (("watchlist", "isis-k"),))] == 1
    assert samples[("monitor_deliveries_total", (("channel", "soc"), ("outcome", "sent")))] == 1
    assert samples[("monitor_published_to_delivered_seconds_sum", ())] == 603
    assert samples[("monitor_published_to_fetched_seconds_count", ())] == 1
    assert samples[("monitor_lease_steals_total", (("kind", "feed"),))] == 2
    assert samples[("monitor_feeds", (("state", "erroring"),))] == 1
    assert samples[("monitor_feeds", (("state", "retired"),))] == 0
    assert samples[("monitor_feeds_due", ())] == 3
    assert samples[("monitor_outbox_backlog", (("status", "pending"),))] == 4
    assert samples[("monitor_outbox_oldest_pending_seconds", ())] == 12.5


async def test_unknown_paths_and_methods_are_refused(running: Running) -> None:
    assert (await running.get("/nope")).status_code == 404
    url = f"http://127.0.0.1:{running.server.port}/metrics"
    async with httpx.AsyncClient(trust_env=False) as client:
        assert (await client.post(url)).status_code == 405


async def _status(port: int, path: str) -> tuple[int, str]:
    try:
        async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
            response = await client.get(f"http://127.0.0.1:{port}{path}")
            return response.status_code, response.text
    except httpx.HTTPError:
        return 0, ""


async def _until_status(port: int, path: str, status: int, process: Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the service exited"
        code, text = await _status(port, path)
        if code == status:
            return text
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never answered {status}")


def _start_service(config: Path, log: Path) -> Popen[bytes]:
    argv = [sys.executable, "-m", "monitor", "--config", str(config), "--log-format", "json"]
    with open(log, "wb") as out:
        return Popen([*argv, "run"], stdout=out, stderr=STDOUT)


async def test_a_running_service_is_unready_while_its_database_is_unreachable(
    tmp_path: Path,
) -> None:
    async with pg_database() as url:
        setup = create_engine(url)
        await upgrade(setup)
        await setup.dispose()
        proxy = TcpProxy("127.0.0.1", 5432)
        await proxy.start()
        port = free_port()
        config = tmp_path / "monitor.toml"
        proxied = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        config.write_text(
            f'[database]\nurl = "{proxied}"\n[polling]\ntick = "1s"\n'
            f"[server]\nenabled = true\nport = {port}\n"
        )
        process = _start_service(config, tmp_path / "service.log")
        try:
            await _until_status(port, "/readyz", 200, process)
            await proxy.cut()
            reason = await _until_status(port, "/readyz", 503, process)
            assert reason.startswith("database unreachable"), reason
            assert (await _status(port, "/healthz"))[0] == 200
            await proxy.restore()
            await _until_status(port, "/readyz", 200, process)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(process.wait, 20) == 0
        finally:
            if process.poll() is None:
                process.kill()
            await proxy.cut()
