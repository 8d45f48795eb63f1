"""A feed of many tiny items beside small feeds, under `monitor run` with the status server:
/healthz answers all along, the small feeds are polled while the big one is worked through,
and each poll takes at most `polling.max_entries_per_poll` new entries, the rest later.

The CI size runs in the normal suite; the review's size (100,000 items) is marked slow.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import create_engine
from monitor.storage.tables import articles, feeds
from tests.support.feedserver import FeedServer, rss
from tests.support.notify import free_port

ROOT = Path(__file__).resolve().parents[2]
SMALL_FEEDS = 5
HEALTH_TIMEOUT = (
    10.0  # seconds one /healthz may take on a loaded machine; a blocked loop takes minutes
)


def _big_feed(items: int) -> bytes:
    body = "".join(
        f"<item><guid>b{n}</guid><title>Item {n}</title><description>tiny {n}</description></item>"
        for n in range(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>big</title>'
        + body
        + "</channel></rss>"
    ).encode()


def _config(path: Path, database_url: str, server: FeedServer, port: int, cap: int) -> Path:
    small = "".join(
        f'[[feeds]]\nurl = "{server.url(f"/small/{n}")}"\nname = "small {n}"\n'
        for n in range(SMALL_FEEDS)
    )
    path.write_text(
        f"""
[database]
url = "{database_url}"

[polling]
allow_networks = ["127.0.0.0/8"]
tick = "1s"
timeout = "60s"
fetch_articles = false
max_entries_per_poll = {cap}

[server]
enabled = true
port = {port}

[[feeds]]
url = "{server.url("/big")}"
name = "big"

{small}
""",
        encoding="utf-8",
    )
    return path


def _start_service(config: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _feed_rows(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return {row.name: row for row in await conn.execute(select(feeds))}


async def _articles_of(engine: AsyncEngine, feed_id: int) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).where(articles.c.feed_id == feed_id)
        return int(await conn.scalar(query) or 0)


class HealthProbe:
    """Asks /healthz again and again; records how long each answer took, or that none came."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.latencies: list[float] = []
        self.failures: list[str] = []

    async def run(self) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=HEALTH_TIMEOUT) as client:
            while True:
                started = time.monotonic()
                try:
                    response = await client.get(self.url)
                except httpx.ConnectError:
                    await asyncio.sleep(0.2)  # not listening yet
                    continue
                except httpx.TimeoutException:
                    self.failures.append(f"no answer within {HEALTH_TIMEOUT}s")
                    continue
                self.latencies.append(time.monotonic() - started)
                if response.status_code != 200:
                    self.failures.append(f"HTTP {response.status_code}")
                await asyncio.sleep(0.2)


async def _run_big_feed(database_url: str, tmp_path: Path, items: int, cap: int) -> None:
    with FeedServer() as server:
        server.add("/big", _big_feed(items), "application/rss+xml")
        for n in range(SMALL_FEEDS):
            entries = [{"guid": f"s{n}-{i}", "title": f"Small {n}.{i}", "description": "x"}
                       for i in range(3)]  # fmt: skip
            server.add(f"/small/{n}", rss(f"small {n}", entries), "application/rss+xml")
        port = free_port()
        config = _config(tmp_path / "monitor.toml", database_url, server, port, cap)
        process = _start_service(config, tmp_path / "service.log")
        probe = HealthProbe(port)
        probing = asyncio.create_task(probe.run())
        engine = create_engine(database_url)
        try:
            rows = await _wait_for_two_big_polls(engine, process, tmp_path, timeout=600)
            big_id = rows["big"].id
            stored_big = await _articles_of(engine, big_id)
        finally:
            probing.cancel()
            process.terminate()
            process.wait(30)
            await engine.dispose()

    log_tail = (tmp_path / "service.log").read_text(errors="replace")[-3000:]
    assert probe.failures == [], log_tail
    assert len(probe.latencies) >= 3  # health was asked, and answered, while the feed was worked
    big = rows["big"]
    smalls = [rows[f"small {n}"] for n in range(SMALL_FEEDS)]
    # The small feeds were polled (all their entries stored) while the big one was in progress.
    assert all(row.last_success_at is not None for row in smalls)
    assert all(row.last_error is None for row in smalls)
    # Each poll of the big feed took at most `cap` new entries; the note says what is left.
    assert cap <= stored_big <= 3 * cap
    assert stored_big < items
    assert str(big.note).startswith(f"took {cap:,} of ")
    assert (big.etag, big.last_body_hash) == (None, None)


async def _wait_for_two_big_polls(
    engine: AsyncEngine, process: subprocess.Popen[bytes], tmp_path: Path, *, timeout: float
) -> dict[str, Any]:
    """Wait until the big feed has been polled twice (a capped first poll, then the next)."""
    deadline = time.monotonic() + timeout
    first_poll = None
    while True:
        if process.poll() is not None:
            raise AssertionError((tmp_path / "service.log").read_text(errors="replace")[-3000:])
        rows = await _feed_rows(engine)
        big = rows.get("big")
        polled = getattr(big, "last_poll_at", None)
        if polled is not None and first_poll is None:
            first_poll = polled
            # Make the big feed due again at once, as its shortened interval would in a while.
            async with engine.begin() as conn:
                await conn.execute(
                    feeds.update().where(feeds.c.name == "big").values(next_poll_at=polled)
                )
        elif polled is not None and polled != first_poll:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError("the big feed was not polled twice in time")
        await asyncio.sleep(0.5)


async def test_a_big_feed_is_taken_in_capped_polls_and_health_answers(
    database_url: str, tmp_path: Path
) -> None:
    await _run_big_feed(database_url, tmp_path, items=5_000, cap=200)


@pytest.mark.slow
async def test_a_feed_of_100000_items_beside_small_feeds(database_url: str, tmp_path: Path) -> None:
    await _run_big_feed(database_url, tmp_path, items=100_000, cap=500)
