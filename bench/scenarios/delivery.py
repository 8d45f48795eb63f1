"""Alert delivery (issue 5): deliveries/s of signed webhooks to a local receiver with 100
alerts queued in the outbox, and the latency the service adds from an article stored
(with its alert and outbox row) to the webhook received, while `monitor run` is running."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.context import Context
from bench.databases import database, settings
from bench.report import Row
from bench.scenarios.storage import NOW, pick
from bench.server import SiteServer
from bench.site import SiteSpec
from monitor.app import Runtime, open_runtime
from monitor.scheduler import Service
from monitor.storage.store import store_article

NAME = "5b alert delivery"
MARKER = "Khorasanwatch"  # a word every generated article carries, so each one alerts
SECRET_ENV = "BENCH_WEBHOOK_SECRET"


async def _store_alerting(runtime: Runtime, number: int) -> tuple[str, ...]:
    body = synthetic.text(f"alert {number}", 200) + f"\n{MARKER} reports on the region."
    article = synthetic.article(number, body, 1, NOW)
    found = runtime.ingestor.matcher.match(article.title, article.text)
    result = await store_article(
        runtime.engine,
        article,
        found,
        pick=pick,
        build=runtime.ingestor.build_alert,
        window=timedelta(hours=72),
    )
    return result.alert_ids


def _hooks(stats_url: str) -> list[tuple[float, str]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(stats_url, timeout=30) as reply:
        return [(float(t), str(i)) for t, i in json.loads(reply.read())["hooks"]]


async def _latencies(runtime: Runtime, count: int, spacing: float, stats_url: str) -> list[float]:
    """Run the service; store `count` alerting articles `spacing` s apart; seconds from each
    commit to its webhook's arrival."""
    service = Service(runtime)
    running = asyncio.create_task(service.run())
    stored: dict[str, float] = {}
    try:
        for i in range(count):
            for alert_id in await _store_alerting(runtime, 100_000 + i):
                stored[alert_id] = time.time()
            await asyncio.sleep(spacing)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            arrived = {i: t for t, i in await asyncio.to_thread(_hooks, stats_url) if i in stored}
            if len(arrived) == len(stored):
                break
            await asyncio.sleep(0.2)
    finally:
        service.stop()
        await running
    return [arrived[i] - stored[i] for i in stored if i in arrived]


async def delivery_job(params: dict[str, Any]) -> dict[str, Any]:
    os.environ[SECRET_ENV] = (
        "whsec_" + base64.b64encode(b"feed-monitor bench secret 32 b!!").decode()
    )
    folder, count = Path(params["folder"]), int(params["alerts"])
    channels = {"hook": {"type": "webhook", "url": params["hook"], "secret_env": SECRET_ENV}}
    lists = [{"name": "bench-all", "severity": "high", "terms": [MARKER], "channels": ["hook"]}]
    async with database("sqlite", folder) as url:
        config = settings(url, [params["feed"]], folder, watchlists=lists, channels=channels)
        async with open_runtime(config, extract_workers=1) as runtime:
            queued = [a for i in range(count) for a in await _store_alerting(runtime, i)]
            started = time.perf_counter()
            delivered = await runtime.delivery.run_once(runtime.clock.now())
            seconds = time.perf_counter() - started
            latencies = await _latencies(
                runtime, int(params["latency_alerts"]), 0.1, params["stats"]
            )
    return {
        "queued": len(queued),
        "delivered": delivered,
        "seconds": seconds,
        "latencies": latencies,
        "latency_expected": int(params["latency_alerts"]),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")
    )


def run(ctx: Context) -> list[Row]:
    count = ctx.sizes.delivery_alerts
    with SiteServer(SiteSpec(feeds=1, items=0, pages=False)) as server:
        base = server.site.base(0)
        params = {
            "folder": str(ctx.folder("delivery")),
            "alerts": count,
            "latency_alerts": max(5, count // 4),
            "hook": base + "/hook",
            "feed": server.site.feed_url(0),
            "stats": base + "/__stats",
        }
        data = ctx.job("bench.scenarios.delivery:delivery_job", params).data
        received = server.stats()["counts"].get("hook", 0)
    latencies = data["latencies"]
    note = (
        f"{data['delivered']}/{data['queued']} delivered in {data['seconds']:.2f} s; receiver got {received} "
        f"webhooks in all; latency over {len(latencies)}/{data['latency_expected']} alerts, "
        "the service's delivery tick is every 2 s"
    )
    return [
        Row(
            NAME,
            f"webhook deliveries/s ({data['queued']} queued)",
            data["delivered"] / data["seconds"],
            "msg/s",
            note=note,
        ),
        Row(
            NAME,
            "stored → received, median",
            statistics.median(latencies) if latencies else float("nan"),
            "s",
            higher_is_better=False,
        ),
        Row(
            NAME,
            "stored → received, p95",
            _percentile(latencies, 0.95),
            "s",
            higher_is_better=False,
        ),
    ]
