"""Scenario 8 (scale-out): a 304-only round over the unchanged feeds on one PostgreSQL
database with 1, 2 and 4 `monitor run` worker processes (the curve), each count timed from
"go" until the server has answered every feed with a 304; and the latency of one claim
(`claim_due` of 16 feeds, SKIP LOCKED) while every feed is due.

The workers and the feed server share this machine's cores: past the core count, more
workers only add contention, and the curve shows where that begins.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from typing import Any

from bench.cluster import make_all_due
from bench.context import Context
from bench.databases import pg_database
from bench.report import Row, at_least
from bench.server import SiteServer
from bench.site import SiteSpec
from bench.worker import JobResult

NAME = "8 scale-out"
WORKER_COUNTS = (1, 2, 4)
ROUND_BUDGET = 20.0  # seconds for 10,000 feeds with one worker
ROUND_FEEDS = 10_000


class _PgDatabase:
    """A fresh PostgreSQL database held open across jobs (created and dropped here)."""

    def __enter__(self) -> str:
        self._loop = asyncio.new_event_loop()
        self._context = pg_database()
        url: str = self._loop.run_until_complete(self._context.__aenter__())
        return url

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._context.__aexit__(None, None, None))
        self._loop.close()


def _served_304(server: SiteServer) -> int:
    return int(server.stats()["counts"].get("feed_304", 0))


def _round(
    ctx: Context, server: SiteServer, base: dict[str, Any], workers: int, cap: float
) -> dict[str, Any]:
    """All feeds due, `workers` service processes started together: seconds until every
    feed has been answered with a 304 (or `cap`)."""
    control = ctx.folder(f"control-{workers}")
    shutil.rmtree(control)
    control.mkdir()
    results: list[JobResult | BaseException] = []

    def run(index: int) -> None:
        params = {**base, "control": str(control), "index": index}
        try:
            results.append(ctx.job("bench.cluster:service_worker", params))
        except BaseException as e:  # reported below
            results.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    ready = [control / f"ready-{i}" for i in range(workers)]
    while not all(p.exists() for p in ready):
        if len(results) == workers or not any(t.is_alive() for t in threads):
            break
        time.sleep(0.05)
    asyncio.run(make_all_due(base["url"]))
    before = _served_304(server)
    feeds = len(base["feeds"])
    (control / "go").touch()
    started = time.perf_counter()
    polled = 0
    while polled < feeds and time.perf_counter() - started < cap:
        time.sleep(0.05)
        polled = _served_304(server) - before
    seconds = time.perf_counter() - started
    (control / "stop").touch()
    for thread in threads:
        thread.join()
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise RuntimeError(f"a worker of {workers} failed: {failures[0]}")
    return {"workers": workers, "polled": polled, "seconds": seconds}


def run(ctx: Context) -> list[Row]:
    if ctx.pg_url is None:
        return []
    spec = SiteSpec(feeds=ctx.sizes.unchanged_feeds, items=0, pages=False, ports=16)
    with SiteServer(spec) as server, _PgDatabase() as url:
        base = {"url": url, "feeds": server.site.feed_urls(), "folder": str(ctx.folder("scale"))}
        prime = ctx.job("bench.cluster:prime", base).data
        claims = ctx.job("bench.cluster:claim_latency", base).data
        cap = max(60.0, spec.feeds / 50)
        curve = [_round(ctx, server, base, n, cap) for n in WORKER_COUNTS]
    return _rows(spec.feeds, prime, claims, curve)


def _rows(
    feeds: int, prime: dict[str, Any], claims: dict[str, Any], curve: list[dict[str, Any]]
) -> list[Row]:
    one = curve[0]
    one_rate = one["polled"] / one["seconds"]
    rows = []
    for point in curve:
        rate = point["polled"] / point["seconds"]
        workers = point["workers"]
        rows.append(
            Row(
                NAME,
                f"304 round on PostgreSQL, {workers} worker{'s' if workers > 1 else ''}",
                rate,
                "polls/s",
                one_rate if workers > 1 else None,
                "polls/s with 1 worker" if workers > 1 else "",
                at_least(ROUND_FEEDS / ROUND_BUDGET, "polls/s") if workers == 1 else None,
                f"{point['polled']}/{feeds} answered 304 in {point['seconds']:.1f} s; "
                f"10,000 feeds at this rate: {ROUND_FEEDS / rate:.1f} s"
                + (f"; priming round {prime['seconds']:.1f} s" if workers == 1 else ""),
            )
        )
    rows += [
        Row(
            NAME,
            f"claim latency, median ({feeds} feeds due)",
            claims["median_ms"],
            "ms",
            note=f"claim_due of {claims['claimed']} feeds (SELECT … FOR UPDATE SKIP LOCKED, "
            f"then UPDATE … RETURNING), {claims['samples']} samples",
            higher_is_better=False,
        ),
        Row(
            NAME,
            f"claim latency, p95 ({feeds} feeds due)",
            claims["p95_ms"],
            "ms",
            higher_is_better=False,
        ),
    ]
    return rows
