"""Story assignment (issue 6): the cost per article of finding its story with many articles
already in the window, and what the candidate index costs in memory.

The window is filled with generated articles through the raw driver (their real band
rows included), then each sample article is fingerprinted and assigned exactly as
the write path does for a batch of one (`storage.assign.assign_stories`: candidate lookup
in `story_bands`, pick, story row written, the joined story locked) inside a transaction that is rolled back, so every sample sees the same window.
Half the samples are syndicated copies of stored articles (they must join their story),
half are new stories.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import synthetic
from bench.context import Context
from bench.databases import database
from bench.report import Row, at_most
from bench.scenarios.storage import NOW, WINDOW, migrated, pick
from monitor.models import Article
from monitor.pipeline import dedupe
from monitor.storage.assign import Pending, assign_stories

NAME = "6b story assignment"
WORDS = 250  # a short news item; only its bands and signature matter to the index


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _index_mb(conn: Any, backend: str) -> float:
    if backend == "sqlite":
        query = (
            "SELECT SUM(pgsize) FROM dbstat WHERE name = 'story_bands' OR name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name = 'story_bands' AND type = 'index')"
        )
    else:
        query = "SELECT pg_total_relation_size('story_bands')"
    return float((await conn.execute(text(query))).scalar() or 0) / 2**20


def _samples(window: list[Article], count: int) -> list[Article]:
    rng = random.Random(6)
    samples = []
    for i in range(count):
        number = len(window) + 1 + i
        if i % 2:
            body = synthetic.text(f"new {i}", WORDS)
        else:
            body = synthetic.near_copy(rng.choice(window).text, f"copy {i}")
        samples.append(synthetic.article(number, body, 1, NOW + timedelta(minutes=1)))
    return samples


async def stories_job(params: dict[str, Any]) -> dict[str, Any]:
    backend, folder = params["backend"], Path(params["folder"])
    size, count = int(params["window"]), int(params["samples"])
    window = synthetic.articles(size, words=WORDS, feed_id=1, now=NOW, seed=6, workers=2)
    async with database(backend, folder) as url:
        engine, _ = await migrated(url)
        if backend == "sqlite":
            synthetic.insert_sqlite(synthetic.sqlite_file(url), window)
        else:
            await synthetic.insert_postgres(synthetic.dsn(url), window, copy=True)
            async with engine.begin() as conn:  # what autovacuum does after a bulk change
                await conn.execute(text("ANALYZE story_bands"))
                await conn.execute(text("ANALYZE articles"))
        samples = _samples(window, count)
        del window
        rss_before = _rss_mb()
        fingerprint_ms, assign_ms, joined = [], [], 0
        async with engine.connect() as conn:
            index_mb = await _index_mb(conn, backend)
            await conn.rollback()
            for sample in samples:
                started = time.perf_counter()
                dedupe.fingerprint(sample.text)
                fingerprinted = time.perf_counter()
                transaction = await conn.begin()
                assigned = Pending(0, sample, ())
                await assign_stories(conn, [assigned], pick, WINDOW)
                new_story = assigned.new_story
                await transaction.rollback()
                done = time.perf_counter()
                fingerprint_ms.append((fingerprinted - started) * 1000)
                assign_ms.append((done - fingerprinted) * 1000)
                joined += not new_story
        rss_after = _rss_mb()
        await engine.dispose()
    totals = [f + a for f, a in zip(fingerprint_ms, assign_ms, strict=True)]
    return {
        "window": size,
        "samples": count,
        "joined": joined,
        "copies": (count + 1) // 2,
        "median_ms": statistics.median(totals),
        "p99_ms": _percentile(totals, 0.99),
        "lookup_median_ms": statistics.median(assign_ms),
        "fingerprint_median_ms": statistics.median(fingerprint_ms),
        "index_mb": index_mb,
        "rss_added_mb": rss_after - rss_before,
        "pid": os.getpid(),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(ctx: Context) -> list[Row]:
    backends = ["sqlite"] + (["postgresql"] if ctx.pg_url and ctx.pg_e2e else [])
    rows = []
    for backend in backends:
        params = {
            "backend": backend,
            "folder": str(ctx.folder("stories")),
            "window": ctx.sizes.story_window,
            "samples": ctx.sizes.story_samples,
        }
        data = ctx.job("bench.scenarios.stories:stories_job", params).data
        note = (
            f"{data['window']:,} articles in the window; {data['samples']} samples, "
            f"{data['joined']}/{data['copies']} copies joined their story; "
            f"median fingerprint {data['fingerprint_median_ms']:.2f} ms + lookup {data['lookup_median_ms']:.2f} ms"
        )
        rows += [
            Row(
                NAME,
                f"median ms per article, {backend}",
                data["median_ms"],
                "ms",
                target=at_most(5, "ms"),
                note=note,
                higher_is_better=False,
            ),
            Row(
                NAME, f"p99 ms per article, {backend}", data["p99_ms"], "ms", higher_is_better=False
            ),
            Row(
                NAME,
                f"worker memory added by the index, {backend}",
                max(0.0, data["rss_added_mb"]),
                "MB",
                target=at_most(100, "MB"),
                higher_is_better=False,
                note=f"the index lives in the database: story_bands with its indexes is {data['index_mb']:.0f} MB there",
            ),
        ]
    return rows
