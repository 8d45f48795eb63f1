"""`monitor run --workers 2` on PostgreSQL with real worker processes: SIGHUP reaches the
workers and the supervisor lives on; a SIGKILLed supervisor leaves no worker behind; a
worker that cannot listen on its port stops everything with one line (exit 2) instead of
restarting forever."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.storage.engine import create_engine, upgrade
from monitor.storage.tables import heartbeats
from tests.support.databases import pg_database
from tests.support.notify import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2


@pytest.fixture
async def database_url_pg() -> AsyncIterator[str]:
    async with pg_database() as url:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url


def _config(tmp_path: Path, url: str, port: int) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        f'[database]\nurl = "{url}"\n\n[polling]\ntick = "1s"\n\n'
        f'[delivery]\nshutdown_timeout = "3s"\n\n[server]\nenabled = true\nport = {port}\n',
        encoding="utf-8",
    )
    return path


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run", "--workers",
             str(WORKERS)],
            cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its new parent) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


async def _until(check: Callable[[], object], what: str, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}\n{log.read_text(errors='replace')[-3000:]}")
        await asyncio.sleep(0.2)


async def _worker_pids(url: str) -> set[int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set((await conn.execute(select(heartbeats.c.pid))).scalars())
    finally:
        await engine.dispose()


async def test_sighup_reaches_the_workers_and_the_supervisor_lives_on(
    database_url_pg: str, tmp_path: Path
) -> None:
    log = tmp_path / "run.log"
    process = _start(_config(tmp_path, database_url_pg, free_port()), log)
    try:
        pids: set[int] = set()

        async def serving() -> bool:
            pids.update(await _worker_pids(database_url_pg))
            return len(pids) >= WORKERS

        await _until(serving, "both workers serving", log)
        process.send_signal(signal.SIGHUP)
        await _until(
            lambda: log.read_text(errors="replace").count("watchlists reloaded") >= WORKERS,
            "both workers reloaded",
            log,
        )
        assert process.poll() is None  # the supervisor did not die of the SIGHUP
        assert all(_alive(pid) for pid in pids)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


async def test_a_sigkilled_supervisor_leaves_no_worker_behind(
    database_url_pg: str, tmp_path: Path
) -> None:
    log = tmp_path / "run.log"
    process = _start(_config(tmp_path, database_url_pg, free_port()), log)
    pids: set[int] = set()

    async def serving() -> bool:
        pids.update(await _worker_pids(database_url_pg))
        return len(pids) >= WORKERS

    try:
        await _until(serving, "both workers serving", log)
    finally:
        process.kill()
        process.wait(10)
    await _until(lambda: not any(_alive(pid) for pid in pids), "workers gone", log, timeout=30)


async def test_a_worker_that_cannot_listen_stops_everything_with_one_line(
    database_url_pg: str, tmp_path: Path
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    log = tmp_path / "run.log"
    try:
        process = _start(_config(tmp_path, database_url_pg, port), log)
        code = await asyncio.to_thread(process.wait, 90)
    finally:
        taken.close()

    text = log.read_text(errors="replace")
    assert code == 2, text[-3000:]
    assert f"cannot listen on 127.0.0.1:{port}" in text
    assert "Traceback" not in text
    assert text.count("restarting") == 0  # not a crash loop
