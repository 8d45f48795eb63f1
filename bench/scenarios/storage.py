"""Scenario 6: articles/s through the service's write path (`store_articles`: dedupe checks,
story assignment, the articles, their entries, their LSH band rows, in one transaction per
batch of a poll's new entries, as the pipeline stores them) against the raw driver's
executemany of the same rows, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench import synthetic
from bench.context import Context
from bench.databases import database
from bench.report import Row, ratio_at_least
from monitor.config import FeedConfig
from monitor.models import AlertContext, Article, WatchlistMatch
from monitor.pipeline import dedupe
from monitor.storage.engine import create_engine, upgrade
from monitor.storage.feeds import sync_config_feeds
from monitor.storage.store import StoreResult, store_articles

NAME = "6 storage"
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
WINDOW = timedelta(hours=72)
BATCH = 20  # a poll's new entries (scenario 3's feeds have 20 items)


# Comparing fingerprints needs no band keys; newer dedupe modules can skip recomputing them.
_UNPACK: dict[str, Any] = (
    {"with_bands": False}
    if "with_bands" in inspect.signature(dedupe.unpack_fingerprint).parameters
    else {}
)


def pick(candidates: Sequence[tuple[int, bytes]], new: Article) -> int | None:
    """The pipeline's story picker (as monitor.services.ingest builds it)."""
    mine = dedupe.unpack_fingerprint(new.signature, **_UNPACK)
    options = [
        (story, dedupe.unpack_fingerprint(packed, **_UNPACK)) for story, packed in candidates
    ]
    return dedupe.pick_story(options, mine, dedupe.DEFAULT_THRESHOLD)


def no_alerts(
    match: WatchlistMatch, context: AlertContext
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    raise AssertionError("no watchlist in the storage benchmark")


async def migrated(url: str) -> tuple[AsyncEngine, int]:
    """An engine on a migrated database with one feed; the feed's id."""
    engine = create_engine(url)
    await upgrade(engine)
    async with engine.begin() as conn:
        await sync_config_feeds(conn, [FeedConfig(url="http://127.0.0.1/feed", name="bench")], NOW)
    return engine, 1


async def store(engine: AsyncEngine, items: Sequence[Article]) -> list[StoreResult]:
    stored: list[StoreResult] = []
    for start in range(0, len(items), BATCH):
        batch = [(a, []) for a in items[start : start + BATCH]]
        stored += await store_articles(engine, batch, pick=pick, build=no_alerts, window=WINDOW)
    return stored


async def storage_job(params: dict[str, Any]) -> dict[str, Any]:
    backend, folder, count = params["backend"], Path(params["folder"]), int(params["articles"])
    items = synthetic.articles(count, words=450, feed_id=1, now=NOW, workers=2)
    result: dict[str, Any] = {"articles": count}
    async with database(backend, folder) as url:
        engine, _ = await migrated(url)
        started = time.perf_counter()
        stored = await store(engine, items)
        result["ours"] = time.perf_counter() - started
        result["stored"] = sum(1 for r in stored if r.article_id is not None)
        await engine.dispose()
    if backend == "postgresql":
        result["concurrent"] = await _concurrent(folder, items, int(params.get("tasks", 8)))
    async with database(backend, folder) as url:
        engine, _ = await migrated(url)
        await engine.dispose()
        started = time.perf_counter()
        if backend == "sqlite":
            await asyncio.to_thread(synthetic.insert_sqlite, synthetic.sqlite_file(url), items)
        else:
            await synthetic.insert_postgres(synthetic.dsn(url), items)
        result["raw"] = time.perf_counter() - started
    return result


async def _concurrent(folder: Path, items: Sequence[Article], tasks: int) -> float:
    """PostgreSQL with `tasks` feeds storing at once, as a round with many feeds does."""
    async with database("postgresql", folder) as url:
        engine, _ = await migrated(url)
        started = time.perf_counter()
        await asyncio.gather(*(store(engine, items[i::tasks]) for i in range(tasks)))
        seconds = time.perf_counter() - started
        await engine.dispose()
    return seconds


def run(ctx: Context) -> list[Row]:
    backends = ["sqlite"] + (["postgresql"] if ctx.pg_url else [])
    rows = []
    for backend in backends:
        params = {
            "backend": backend,
            "folder": str(ctx.folder("storage")),
            # PostgreSQL stores fewer articles/s than SQLite here: cap its share.
            "articles": ctx.sizes.storage_articles
            if backend == "sqlite"
            else min(1000, ctx.sizes.storage_articles),
        }
        data = ctx.job("bench.scenarios.storage:storage_job", params).data
        count = data["articles"]
        note = f"{data['stored']}/{count} stored; one transaction per {BATCH} (a poll's batch)"
        rows.append(
            Row(
                NAME,
                f"articles/s, {backend}",
                count / data["ours"],
                "art/s",
                count / data["raw"],
                "art/s raw executemany",
                ratio_at_least(0.5),
                note,
            )
        )
        if "concurrent" in data:
            rows.append(
                Row(
                    NAME,
                    f"articles/s, {backend}, 8 feeds at once",
                    count / data["concurrent"],
                    "art/s",
                    count / data["raw"],
                    "art/s raw executemany",
                    ratio_at_least(0.5),
                )
            )
    return rows
