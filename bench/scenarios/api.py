"""Scenario 9: the REST API over a large store (100,000 alerts, 300,000 articles at full
size), on SQLite and PostgreSQL: requests/s and p50/p95 latency of `GET /api/v1/alerts` (the
first page, pages 2 to 10, and pages deep down the cursor chain), `GET /api/v1/alerts/{id}` and
`GET /api/v1/articles/search`, beside `/healthz` on the same server in the same run.

The store is filled with rows written directly (the write path has its own scenario): one
story per article, an alert with one sent delivery on the first articles' stories, and a
rare phrase in one article of fifty for the search. The server runs in the job's process
(uvicorn in its event loop, as `monitor run` serves it); the load comes from another process
(`bench.apiload`), four requests in flight."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import synthetic
from bench.context import Context
from bench.databases import database, settings
from bench.report import Row, Target, at_most
from monitor.clock import SystemClock
from monitor.metrics import Metrics
from monitor.server import StatusServer
from monitor.services import Monitor
from monitor.services.alerts import encode_cursor
from monitor.services.context import Context as UseCases
from monitor.storage.engine import create_engine, upgrade
from monitor.storage.tables import alerts, articles, feeds, outbox, stories

NAME = "9 api"
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
SIZES = {"tiny": (500, 1_500), "small": (10_000, 30_000), "full": (100_000, 300_000)}
PHRASE = "Islamic State Khorasan"
BATCH = 5_000


def _article(number: int) -> dict[str, Any]:
    body = synthetic.text(f"api {number}", 60)
    if number % 50 == 0:
        body = f"{body}\nOfficials blamed the {PHRASE} for the attack."
    at = NOW - timedelta(minutes=number)
    return {
        "id": number,
        "feed_id": 1 + number % 10,
        "guid": f"g{number}",
        "url": f"http://outlet.test/{number}",
        "canonical_url": f"http://outlet.test/{number}",
        "title": f"Report {number}",
        "author": "",
        "published_at": at,
        "fetched_at": at,
        "summary": "",
        "text": body,
        "language": "en",
        "content_hash": f"{number:032x}",
        "story_id": number,
    }


def _alert(number: int) -> dict[str, Any]:
    return {
        "id": f"alt_{number:016d}",
        "watchlist": "isis-k",
        "story_id": number,
        "article_id": number,
        "severity": "high",
        "matches": [{"term": "ISKP", "actor": "ISIS-Khorasan", "count": 2}],
        "snippets": ["…the ISKP claimed the attack in a statement…"],
        "created_at": NOW - timedelta(minutes=number),
    }


def _delivery(number: int) -> dict[str, Any]:
    at = NOW - timedelta(minutes=number)
    return {
        "message_id": f"alt_{number:016d}.log",
        "alert_id": f"alt_{number:016d}",
        "channel": "desk-log",
        "kind": "alert",
        "body": "{}",
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": at,
        "created_at": at,
        "sent_at": at,
    }


async def fill(engine: AsyncEngine, alert_count: int, article_count: int) -> None:
    """Feeds, stories, articles, alerts and their deliveries, in batches."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(feeds),
            [
                {
                    "url": f"http://outlet-{i}.test/rss",
                    "name": f"Outlet {i}",
                    "created_at": NOW,
                    "next_poll_at": NOW,
                }
                for i in range(1, 11)
            ],
        )
    for start in range(1, article_count + 1, BATCH):
        numbers = range(start, min(start + BATCH, article_count + 1))
        async with engine.begin() as conn:
            await conn.execute(
                insert(stories),
                [
                    {
                        "id": n,
                        "title": f"Report {n}",
                        "first_seen": NOW - timedelta(minutes=n),
                        "last_seen": NOW - timedelta(minutes=n),
                        "article_count": 1,
                    }
                    for n in numbers
                ],
            )
            await conn.execute(insert(articles), [_article(n) for n in numbers])
            alerting = [n for n in numbers if n <= alert_count]
            if alerting:
                await conn.execute(insert(alerts), [_alert(n) for n in alerting])
                await conn.execute(insert(outbox), [_delivery(n) for n in alerting])


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


@contextlib.asynccontextmanager
async def served_store(params: dict[str, Any]) -> AsyncIterator[tuple[int, str, dict[str, Any]]]:
    """A store filled with `params["alerts"]` alerts and `params["articles"]` articles, served
    by the app on 127.0.0.1: yields its port, a viewer's token and the result being built."""
    backend, folder = params["backend"], Path(params["folder"])
    alert_count, article_count = int(params["alerts"]), int(params["articles"])
    result: dict[str, Any] = {"alerts": alert_count, "articles": article_count}
    async with database(backend, folder) as url:
        engine = create_engine(url)
        await upgrade(engine)
        started = time.perf_counter()
        await fill(engine, alert_count, article_count)
        result["fill_seconds"] = time.perf_counter() - started
        config = settings(url, [], folder)
        monitor = Monitor.build(UseCases(config, engine, SystemClock()))
        await monitor.users.add("bench", "viewer", "bench password", actor="bench")
        token = (await monitor.tokens.create("bench", expires=None, actor="bench")).secret
        server = StatusServer(
            engine=engine,
            metrics=Metrics(),
            clock=SystemClock(),
            host="127.0.0.1",
            port=0,
            max_tick_age=timedelta(seconds=30),
            monitor=monitor,
        )
        await server.start()
        try:
            yield server.port, token, result
        finally:
            await server.stop()
            await engine.dispose()


async def api_job(params: dict[str, Any]) -> dict[str, Any]:
    async with served_store(params) as (port, token, result):
        result["load"] = await _load(port, token, result["alerts"], params)
    return result


async def _load(port: int, token: str, alert_count: int, params: dict[str, Any]) -> Any:
    rng = random.Random(9)
    deep = rng.sample(range(alert_count * 8 // 10, alert_count - 50), 10)
    early = [50 * page for page in range(1, 10)]  # pages 2 to 10

    def cursor(n: int) -> str:
        return encode_cursor(
            SimpleNamespace(created_at=NOW - timedelta(minutes=n), id=f"alt_{n:016d}")  # type: ignore[arg-type]
        )

    shown = rng.sample(range(1, alert_count + 1), 200)
    paths = {
        "healthz": ["/healthz"],
        "alerts first page": ["/api/v1/alerts?limit=50"],
        "alerts early cursor page": [f"/api/v1/alerts?limit=50&cursor={cursor(n)}" for n in early],
        "alerts deep cursor page": [f"/api/v1/alerts?limit=50&cursor={cursor(n)}" for n in deep],
        "alert show": [f"/api/v1/alerts/alt_{n:016d}" for n in shown],
        "articles search": [
            '/api/v1/articles/search?q="Islamic State Khorasan"&limit=20',
            "/api/v1/articles/search?q=Khorasan AND attack&limit=20",
        ],
    }
    return await run_load(port, token, paths, params)


async def run_load(
    port: int, token: str, paths: dict[str, list[str]], params: dict[str, Any]
) -> Any:
    """Send `params["requests"]` requests per named path group, 4 in flight, from another
    process (`bench.apiload`), so the load generator does not share the server's loop."""
    load = {
        "base": f"http://127.0.0.1:{port}",
        "token": token,
        "paths": paths,
        "requests": int(params["requests"]),
        "concurrency": 4,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.apiload", json.dumps(load), stdout=subprocess.PIPE
    )
    output, _ = await process.communicate()
    return json.loads(output)


def _rows(backend: str, data: dict[str, Any]) -> list[Row]:
    load = data["load"]
    health = load["healthz"]
    health_p95 = _percentile(health["ms"], 0.95)
    size = f"{data['alerts']:,} alerts, {data['articles']:,} articles, {backend}"
    rows = [
        Row(NAME, f"/healthz p95, {backend}", health_p95, "ms", None, "", None,
            f"{health['rps']:.0f} req/s; p50 {_percentile(health['ms'], 0.5):.1f} ms"),
    ]  # fmt: skip
    limits: dict[str, Target] = {
        "alerts first page": at_most(100, "ms"),
        "alerts early cursor page": at_most(100, "ms"),
        "alerts deep cursor page": at_most(100, "ms"),
        "alert show": at_most(100, "ms"),
        "articles search": at_most(300, "ms"),
    }
    for name, target in limits.items():
        figure = load[name]
        p95 = _percentile(figure["ms"], 0.95)
        note = (
            f"{figure['rps']:.0f} req/s; p50 {_percentile(figure['ms'], 0.5):.1f} ms; "
            f"{p95 / health_p95:.1f}× /healthz p95; {size}"
        )
        if figure["failures"]:
            note += f"; failures {figure['failures']}"
        rows.append(Row(NAME, f"{name} p95, {backend}", p95, "ms", None, "", target, note))
        if name != "articles search":
            rows.append(
                Row(NAME, f"{name} p95 ÷ /healthz p95, {backend}", p95 / health_p95,
                    "× /healthz", None, "", at_most(10, "× /healthz"))
            )  # fmt: skip
    return rows


def run(ctx: Context) -> list[Row]:
    alert_count, article_count = SIZES.get(ctx.profile, SIZES["small"])
    rows = []
    for backend in ["sqlite"] + (["postgresql"] if ctx.pg_url else []):
        params = {
            "backend": backend,
            "folder": str(ctx.folder("api")),
            "alerts": alert_count,
            "articles": article_count,
            "requests": 40 if ctx.profile == "tiny" else 400,
        }
        rows += _rows(backend, ctx.job("bench.scenarios.api:api_job", params).data)
    return rows
