"""Scenario 10: the analyst console's pages over a large store (100,000 alerts, 300,000
articles at full size), on SQLite and PostgreSQL: server time p50/p95 of the alerts inbox
(first page, and filtered by triage state, language and age), one alert's page (story
timeline, deliveries, triage, audit trail) and a search page, beside `/healthz` on the same
server in the same run.

The store is scenario 9's (`bench.scenarios.api.fill`). The server runs in the job's process
(uvicorn in its event loop, as `monitor run` serves it); the load comes from another process
(`bench.apiload`, reading pages with an API token), four requests in flight. Time is measured
at the client over loopback: the server's time plus one local round trip, which `/healthz`
shows."""

from __future__ import annotations

import random
from typing import Any

from bench.context import Context
from bench.report import Row, Target, at_most
from bench.scenarios.api import SIZES, _percentile, run_load, served_store

NAME = "10 console"
TARGETS: dict[str, Target] = {
    "inbox": at_most(150, "ms"),
    "inbox filtered": at_most(150, "ms"),
    "alert page": at_most(150, "ms"),
    "search page": at_most(300, "ms"),
}


async def console_job(params: dict[str, Any]) -> dict[str, Any]:
    async with served_store(params) as (port, token, result):
        result["load"] = await _load(port, token, result["alerts"], params)
    return result


async def _load(port: int, token: str, alert_count: int, params: dict[str, Any]) -> Any:
    shown = random.Random(10).sample(range(1, alert_count + 1), 200)
    paths = {
        "healthz": ["/healthz"],
        "inbox": ["/"],
        "inbox filtered": ["/?state=new&language=en&since=3650d"],
        "alert page": [f"/alerts/alt_{n:016d}" for n in shown],
        "search page": ['/search?q="Islamic State Khorasan"', "/search?q=Khorasan AND attack"],
    }
    return await run_load(port, token, paths, params)


def _rows(backend: str, data: dict[str, Any]) -> list[Row]:
    load = data["load"]
    health = load["healthz"]
    health_p95 = _percentile(health["ms"], 0.95)
    size = f"{data['alerts']:,} alerts, {data['articles']:,} articles, {backend}"
    rows = [
        Row(NAME, f"/healthz p95, {backend}", health_p95, "ms", None, "", None,
            f"{health['rps']:.0f} req/s; p50 {_percentile(health['ms'], 0.5):.1f} ms"),
    ]  # fmt: skip
    for name, target in TARGETS.items():
        figure = load[name]
        p95 = _percentile(figure["ms"], 0.95)
        note = (
            f"{figure['rps']:.0f} req/s; p50 {_percentile(figure['ms'], 0.5):.1f} ms; "
            f"{p95 / health_p95:.1f}× /healthz p95; {size}"
        )
        if figure["failures"]:
            note += f"; failures {figure['failures']}"
        rows.append(Row(NAME, f"{name} p95, {backend}", p95, "ms", None, "", target, note))
    return rows


def run(ctx: Context) -> list[Row]:
    alert_count, article_count = SIZES.get(ctx.profile, SIZES["small"])
    rows = []
    for backend in ["sqlite"] + (["postgresql"] if ctx.pg_url else []):
        params = {
            "backend": backend,
            "folder": str(ctx.folder("console")),
            "alerts": alert_count,
            "articles": article_count,
            "requests": 40 if ctx.profile == "tiny" else 400,
        }
        rows += _rows(backend, ctx.job("bench.scenarios.console:console_job", params).data)
    return rows
