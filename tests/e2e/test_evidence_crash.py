"""SIGKILL between fetch and commit, on both backends: `monitor run --once` is killed while
its article transactions cannot commit, and the database holds no snapshot without its
alert and no alert without its snapshot, then or after a second run completes the work.

PostgreSQL: the test holds an EXCLUSIVE lock on evidence_snapshots, so each transaction
writes its article, alert and outbox rows and then waits at the snapshot insert; the kill
lands there. SQLite: the first page request takes the database's write lock, so every
transaction after the fetch waits for it; the kill lands there.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import sqlite_path
from monitor.storage.tables import alerts, articles, evidence_snapshots
from tests.conftest import engine_for
from tests.support.evidence_site import ALIASES, WATCHLIST, serve_site
from tests.support.feedserver import FeedServer

WAIT = 120.0  # generous: the machine is shared


def _config(tmp_path: Path, database_url: str, feed_url: str) -> Path:
    aliases = ", ".join(f'"{a}"' for a in ALIASES)
    path = tmp_path / "monitor.toml"
    path.write_text(
        f"""
[database]
url = "{database_url}"

[polling]
allow_networks = ["127.0.0.0/8"]
timeout = "10s"
lease = "2s"

[[feeds]]
url = "{feed_url}"
name = "Outlet"

[[watchlists]]
name = "{WATCHLIST}"
severity = "high"

[[watchlists.actors]]
name = "ISIS-Khorasan"
aliases = [{aliases}]
""",
        encoding="utf-8",
    )
    return path


def _run_once(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run", "--once", "--all"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )


async def _wait(check: Callable[[], Awaitable[bool]], what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.1)


async def _scalar(engine: AsyncEngine, query: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(query)


async def _state(engine: AsyncEngine) -> tuple[int, int, int, int, int]:
    """(articles, alerts, snapshots, alerted stories without a snapshot, snapshots of
    stories without an alert)."""
    kept = select(evidence_snapshots.c.story_id)
    alerted = select(alerts.c.story_id)
    count = select(func.count())
    return (
        await _scalar(engine, count.select_from(articles)),
        await _scalar(engine, count.select_from(alerts)),
        await _scalar(engine, count.select_from(evidence_snapshots)),
        await _scalar(engine, count.select_from(alerts).where(alerts.c.story_id.not_in(kept))),
        await _scalar(
            engine,
            count.select_from(evidence_snapshots).where(
                evidence_snapshots.c.story_id.not_in(alerted)
            ),
        ),
    )


async def _blocked_on_snapshots(engine: AsyncEngine) -> bool:
    waiting = await _scalar(
        engine,
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE '%evidence_snapshots%'"
        ),
    )
    return bool(waiting)


async def test_sigkill_between_fetch_and_commit_leaves_no_orphan_snapshot_or_bare_alert(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    engine = engine_for(database_url)
    log = tmp_path / "run.log"
    held: list[sqlite3.Connection] = []
    lock_conn = None
    try:
        with FeedServer() as server:
            site = serve_site(server)
            config = _config(tmp_path, database_url, site.feed_url)
            if backend == "postgresql":
                lock_conn = await engine.connect()
                await lock_conn.execute(text("LOCK TABLE evidence_snapshots IN EXCLUSIVE MODE"))
            else:
                path = sqlite_path(database_url)

                route = server.routes["/gzip"]

                def take_write_lock() -> None:  # once: the second run must not be blocked
                    route.before = None
                    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                    conn.execute("BEGIN IMMEDIATE")
                    held.append(conn)

                route.before = take_write_lock
            process = _run_once(config, log)
            if backend == "postgresql":
                await _wait(lambda: _blocked_on_snapshots(engine), "a blocked snapshot insert", log)
            else:
                await _wait(lambda: asyncio.sleep(0, bool(held)), "the page fetch", log)
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=WAIT) == -signal.SIGKILL
            if lock_conn is not None:
                await lock_conn.rollback()
                await lock_conn.close()
                lock_conn = None
            for conn in held:
                conn.rollback()
                conn.close()
            held.clear()
            assert await _state(engine) == (0, 0, 0, 0, 0)

            async def finished() -> bool:
                if (await _state(engine))[1] >= 3:
                    return True
                again = _run_once(config, log)  # the killed run's lease must expire first
                again.wait(timeout=WAIT)
                return False

            await _wait(finished, "the second run to store the three alerts", log)
            assert await _state(engine) == (3, 3, 3, 0, 0)
    finally:
        for conn in held:
            conn.close()
        if lock_conn is not None:
            await lock_conn.close()
        await engine.dispose()
