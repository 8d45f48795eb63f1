"""Worker-side jobs that run the real service: one `run --once --all` round (what
`monitor run --once --all` does, timed around `run_round` alone), optionally after a priming
round, with the service's own logging; and the extraction baselines.

Start-up (migrations, the config feeds upsert, starting the extraction pool) is not timed:
a running service pays it once. Both the service's pool and the baseline pool are warmed
with one page per worker before the clock starts, so both are measured in steady state.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import corpus, watchlists
from bench.databases import database, service_logging, settings
from bench.site import Site, SiteSpec
from bench.worker import finish_now, profiled, tree_cpu_seconds
from monitor.app import Runtime, open_runtime
from monitor.pipeline.extractor import Extractor
from monitor.scheduler import RoundReport, Service, run_round
from monitor.storage.tables import articles


def _summary(report: RoundReport, seconds: float) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "polls": len(report.polls),
        "stored": report.stored,
        "errors": report.errors,
        "duplicates": sum(p.duplicates for p in report.polls),
        "not_modified": sum(p.not_modified for p in report.polls),
        "alerts": report.alerts,
        "first_error": next((p.error for p in report.polls if p.error), None),
    }


async def _warm(runtime: Runtime, workers: int) -> None:
    page = corpus.pages()[0]
    extractor = runtime.ingestor.extractor
    await asyncio.gather(
        *(extractor.extract(page.html, url="http://127.0.0.1/warm") for _ in range(workers))
    )


STALL_SECONDS = 5.0


def without_worker_recycling() -> None:
    """Turn the Extractor's worker recycling off (its `max_tasks_per_child` default to a
    billion tasks). Used only after a round stalled: CPython gh-115634 (3.11 to 3.14) makes
    a ProcessPoolExecutor with `max_tasks_per_child` stop replacing workers that retire while
    a backlog is queued, leaving the pool with no process and its work pending forever."""
    defaults = Extractor.__init__.__kwdefaults__
    assert defaults is not None
    assert "max_tasks_per_child" in defaults
    defaults["max_tasks_per_child"] = 10**9


async def _stalled(runtime: Runtime, round_: asyncio.Task[RoundReport]) -> bool:
    """Wait for the round; True if the extraction pool sat with no process for
    STALL_SECONDS while the round still waited on it (the gh-115634 deadlock)."""
    idle_since: float | None = None
    while not round_.done():
        await asyncio.wait([round_], timeout=0.5)
        pool = runtime.ingestor.extractor._pool
        empty = pool is not None and not pool._processes and bool(pool._pending_work_items)
        idle_since = (idle_since or time.monotonic()) if empty else None
        if idle_since is not None and time.monotonic() - idle_since > STALL_SECONDS:
            return True
    return False


async def _stored(runtime: Runtime) -> int:
    async with runtime.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(articles)) or 0)


async def _timed_round(runtime: Runtime) -> dict[str, Any]:
    me = os.getpid()
    cpu, pool_cpu = time.process_time(), tree_cpu_seconds(me)
    started = time.perf_counter()
    with profiled("round"):
        round_ = asyncio.create_task(run_round(runtime, all_feeds=True))
        if await _stalled(runtime, round_):
            stored = await _stored(runtime)
            finish_now(
                {"stalled": True, "stored": stored, "seconds": time.perf_counter() - started}
            )
        report = round_.result()
    summary = _summary(report, time.perf_counter() - started)
    summary["main_cpu"] = time.process_time() - cpu
    summary["pool_cpu"] = tree_cpu_seconds(me) - pool_cpu
    return summary


async def service_round(params: dict[str, Any]) -> dict[str, Any]:
    """Rounds over `feeds` on a fresh database; params: backend, feeds, folder, workers,
    rounds (1, or 2 to time a second round after a priming one), watchlists, polling."""
    service_logging()
    folder = Path(params["folder"])
    lists = watchlists.generate() if params.get("watchlists") else []
    workers = int(params.get("workers", 2))
    if params.get("no_recycling"):
        without_worker_recycling()
    async with database(params["backend"], folder) as url:
        config = settings(
            url, params["feeds"], folder, watchlists=lists, **params.get("polling", {})
        )
        async with open_runtime(config, extract_workers=workers) as runtime:
            if params.get("warm", True):
                await _warm(runtime, workers)
            results = [await _timed_round(runtime) for _ in range(int(params.get("rounds", 1)))]
            texts = await _stored_texts(runtime) if params.get("texts") else {}
    return {"rounds": results, "texts": texts}


async def _stored_texts(runtime: Runtime) -> dict[str, str]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(select(articles.c.guid, articles.c.text))
        return {row.guid: row.text or "" for row in rows}


class ShiftedClock:
    """The system clock moved by `offset` (to make every feed due again without waiting)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _served_304(stats_url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(stats_url, timeout=30) as reply:
        return int(json.loads(reply.read())["counts"].get("feed_304", 0))


async def service_drain(params: dict[str, Any]) -> dict[str, Any]:
    """`monitor run` (the Service) with every feed due and answering 304: a priming round
    first (ETags stored), then the clock moves past max_interval and the service runs until
    the server has answered every feed with a 304, or `cap` seconds."""
    service_logging()
    folder, feeds = Path(params["folder"]), params["feeds"]
    clock = ShiftedClock()
    async with database(params["backend"], folder) as url:
        config = settings(url, feeds, folder, **params.get("polling", {}))
        async with open_runtime(config, clock=clock, extract_workers=1) as runtime:
            prime = await _timed_round(runtime)
            clock.offset = timedelta(hours=7)
            before = await asyncio.to_thread(_served_304, params["stats"])
            service = Service(runtime)
            running = asyncio.create_task(service.run())
            started = time.perf_counter()
            polled = 0
            while polled < len(feeds) and time.perf_counter() - started < float(params["cap"]):
                await asyncio.sleep(0.1)
                polled = await asyncio.to_thread(_served_304, params["stats"]) - before
            seconds = time.perf_counter() - started
            service.stop()
            await running
    return {"prime": prime, "polled": polled, "seconds": seconds}


# --- extraction baselines ---------------------------------------------------------------


def _trafilatura_alone(html: str) -> str:
    """trafilatura with the options monitor.pipeline.extract passes it, nothing else.
    Imported in the pool, not with this module: the worker measured as the service must not
    carry trafilatura the service itself never imports."""
    import trafilatura

    from monitor.pipeline.extract import _DATE_PARAMS

    document = trafilatura.bare_extraction(
        html,
        fast=True,
        include_comments=False,
        with_metadata=True,
        date_extraction_params=_DATE_PARAMS,
    )
    return "" if document is None else str(getattr(document, "text", "") or "")


def _ours_alone(html: str) -> str:
    from monitor.pipeline.extract import extract_article

    try:
        return extract_article(html.encode("utf-8"), url="http://127.0.0.1/x", charset="utf-8").text
    except Exception:
        return ""


def _pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["trafilatura", "monitor.pipeline.extract"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def extraction_pool(params: dict[str, Any]) -> dict[str, Any]:
    """The same page bodies the server served, through a pool of `workers` processes:
    trafilatura alone (the baseline) and, with `ours`, monitor's extract_article alone."""
    site = Site(SiteSpec(**params["spec"]), (0,))
    spec = site.spec
    pages = [
        site.page_body(i, j).decode("utf-8") for i in range(spec.feeds) for j in range(spec.items)
    ]
    func = _ours_alone if params.get("ours") else _trafilatura_alone
    workers = int(params["workers"])
    with _pool(workers) as pool:
        list(pool.map(func, [corpus.pages()[0].html.decode("utf-8")] * workers))  # warm
        pool_cpu = tree_cpu_seconds(os.getpid())
        started = time.perf_counter()
        texts = list(pool.map(func, pages, chunksize=1))
        seconds = time.perf_counter() - started
        pool_cpu = tree_cpu_seconds(os.getpid()) - pool_cpu
    return {
        "seconds": seconds,
        "pages": len(pages),
        "empty": sum(1 for t in texts if not t),
        "pool_cpu": pool_cpu,
    }


def extraction_quality(params: dict[str, Any]) -> dict[str, Any]:
    """trafilatura alone over the original corpus pages: its text per page id."""
    return {p.page_id: _trafilatura_alone(p.html.decode("utf-8")) for p in corpus.pages()}
