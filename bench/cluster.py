"""Worker-side jobs of the scale-out scenario: prime a PostgreSQL database (one round that
stores every feed's ETag), time `claim_due` with every feed due, and run one `monitor run`
worker (the Service) that starts polling when the parent says go and stops when it says
stop, so N of them start together and start-up is not timed.

The parent talks to the workers through files in a control folder: each worker writes
`ready-<i>` once its runtime is open, waits for `go`, and runs until `stop` appears.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bench.databases import service_logging, settings
from monitor.app import open_runtime
from monitor.scheduler import Service, run_round
from monitor.storage import feeds as feed_store
from monitor.storage.engine import create_engine
from monitor.storage.tables import feeds

CLAIM_BATCH = 16  # what one worker claims at a time (half of polling.concurrency)


def _settings(params: dict[str, Any]) -> Any:
    polling = {"fetch_articles": False, **params.get("polling", {})}
    return settings(params["url"], params["feeds"], Path(params["folder"]), **polling)


async def make_all_due(url: str) -> None:
    """Every feed due now, no lease held (as after a long pause)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(feeds).values(
                    next_poll_at=datetime.now(UTC) - timedelta(seconds=1),
                    lease_owner=None,
                    lease_until=None,
                )
            )
    finally:
        await engine.dispose()


async def prime(params: dict[str, Any]) -> dict[str, Any]:
    """One `run --once --all` round over the feeds: their ETags are stored."""
    service_logging()
    async with open_runtime(_settings(params), extract_workers=1) as runtime:
        started = time.perf_counter()
        report = await run_round(runtime, all_feeds=True)
    return {"seconds": time.perf_counter() - started, "polls": len(report.polls)}


async def claim_latency(params: dict[str, Any]) -> dict[str, Any]:
    """Milliseconds per `claim_due` of CLAIM_BATCH feeds while every feed is due; each claim
    is released at once, so every sample sees the same due set."""
    await make_all_due(params["url"])
    engine = create_engine(params["url"])
    samples: list[float] = []
    try:
        for _ in range(int(params.get("samples", 200))):
            started = time.perf_counter()
            rows = await feed_store.claim_due(
                engine,
                now=datetime.now(UTC),
                owner="bench",
                lease=timedelta(minutes=5),
                limit=CLAIM_BATCH,
            )
            samples.append((time.perf_counter() - started) * 1000)
            await feed_store.release(engine, [row.id for row in rows], "bench")
    finally:
        await engine.dispose()
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1],
        "samples": len(ordered),
        "claimed": CLAIM_BATCH,
    }


async def _wait_for(path: Path) -> None:
    while not path.exists():  # noqa: ASYNC110 - another process writes the file
        await asyncio.sleep(0.01)


async def service_worker(params: dict[str, Any]) -> dict[str, Any]:
    """One `monitor run` worker: open, say ready, wait for go, poll until stop."""
    service_logging()
    control = Path(params["control"])
    async with open_runtime(_settings(params), extract_workers=1) as runtime:
        (control / f"ready-{params['index']}").touch()
        await _wait_for(control / "go")
        service = Service(runtime)
        running = asyncio.create_task(service.run())
        await _wait_for(control / "stop")
        service.stop()
        await running
    return {}
