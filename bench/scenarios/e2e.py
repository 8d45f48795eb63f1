"""Scenarios 1 and 2: end-to-end articles/s of one `run --once --all` round on a fresh
database, against extraction alone in a pool of the same size; and the extraction quality
of the stored text against the corpus ground truth, against trafilatura alone."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from bench import corpus
from bench.context import Context
from bench.report import Row, at_least, ratio_at_least
from bench.server import SiteServer
from bench.site import SiteSpec
from bench.worker import cpu_seconds

NAME = "1 end-to-end"
QUALITY = "2 extraction quality"


def workers() -> int:
    """The extraction pool size the service picks by default: one per core."""
    return len(os.sched_getaffinity(0))


def _round(
    ctx: Context, server: SiteServer, backend: str, *, remember: bool = True, **extra: Any
) -> dict[str, Any]:
    """One timed round in a fresh worker; {"stalled": True, ...} if its pool deadlocked."""
    params = {
        "backend": backend,
        "feeds": server.site.feed_urls(),
        "folder": str(ctx.folder("e2e")),
        "workers": workers(),
        "watchlists": True,
        **extra,
    }
    server_cpu = cpu_seconds(server.pid)
    result = ctx.job("bench.rounds:service_round", params)
    if result.data.get("stalled"):
        return result.data
    if remember:
        ctx.memory.setdefault(NAME, result)
    data: dict[str, Any] = result.data["rounds"][0]
    data["texts"] = result.data["texts"]
    data["server_cpu"] = cpu_seconds(server.pid) - server_cpu
    return data


@dataclass(frozen=True, slots=True)
class _Baseline:
    """Extraction alone over the same page bodies, in a pool of the same size."""

    rate: float  # pages/s
    cpu_ms: float  # pool CPU per page
    label: str


def _cpu_note(data: dict[str, Any], alone: _Baseline) -> str:
    per = 1000 / max(1, data["stored"])
    return (
        f"CPU per article: pool {data['pool_cpu'] * per:.0f} ms (alone: {alone.cpu_ms:.0f}), "
        f"service process {data['main_cpu'] * per:.0f} ms, HTTP server {data['server_cpu'] * per:.1f} ms"
    )


def _rate_row(
    backend: str, data: dict[str, Any], expected: int, alone: _Baseline, suffix: str = ""
) -> Row:
    note = f"{data['stored']}/{expected} stored in {data['seconds']:.1f} s, {data['errors']} feed errors; "
    note += _cpu_note(data, alone)
    if data["first_error"]:
        note += f" (first: {data['first_error']})"
    rate = data["stored"] / data["seconds"]
    figure = f"articles/s, {backend}{suffix}"
    return Row(NAME, figure, rate, "art/s", alone.rate, alone.label, ratio_at_least(0.75), note)


def _rounds(
    ctx: Context, server: SiteServer, backend: str, expected: int, alone: _Baseline
) -> list[Row]:
    """The round as shipped; if its extraction pool deadlocks, say so and measure again with
    worker recycling off (the gh-115634 workaround), so the throughput is still known."""
    data = _round(ctx, server, backend)
    if not data.get("stalled"):
        return [_rate_row(backend, data, expected, alone)]
    stalled = Row(
        NAME,
        f"run --once as shipped, {backend}: articles stored",
        data["stored"],
        "articles",
        target=at_least(expected, "articles"),
        note=f"the extraction pool deadlocked after {data['stored']} of {expected} articles "
        f"({data['seconds']:.0f} s): no worker left, work pending. CPython gh-115634 "
        "(3.11-3.14): ProcessPoolExecutor(max_tasks_per_child=200) stops replacing retired "
        "workers while a backlog is queued. Measured again with recycling off.",
    )
    retry = _round(ctx, server, backend, no_recycling=True)
    return [stalled, _rate_row(backend, retry, expected, alone, " (pool recycling off)")]


def run(ctx: Context) -> list[Row]:
    sizes = ctx.sizes
    spec = SiteSpec(feeds=sizes.e2e_feeds, items=sizes.e2e_items, ports=min(8, sizes.e2e_feeds))
    expected = spec.feeds * spec.items
    pool = {"spec": asdict(spec), "workers": workers()}
    data = ctx.job("bench.rounds:extraction_pool", pool).data
    label = f"pages/s trafilatura alone, pool of {workers()}"
    alone = _Baseline(
        data["pages"] / data["seconds"], data["pool_cpu"] * 1000 / data["pages"], label
    )
    stage = ctx.job("bench.rounds:extraction_pool", {**pool, "ours": True}).data
    rows = []
    with SiteServer(spec) as server:
        for backend in ["sqlite"] + (["postgresql"] if ctx.pg_e2e else []):
            rows += _rounds(ctx, server, backend, expected, alone)
    note = (
        "monitor's extract_article in the same pool: decode, trafilatura, language, canonical URL"
    )
    rate = stage["pages"] / stage["seconds"]
    rows.append(
        Row(
            NAME,
            "extraction stage alone (extract_article)",
            rate,
            "pages/s",
            alone.rate,
            label,
            note=note,
        )
    )
    return rows


def quality(ctx: Context) -> list[Row]:
    spec = SiteSpec(feeds=1, items=len(corpus.pages()), originals=True)
    with SiteServer(spec) as server:
        data = _round(ctx, server, "sqlite", remember=False, watchlists=False, texts=True)
    pages = corpus.pages()
    ours = [data["texts"].get(f"bench-0-{j}", "") for j in range(len(pages))]
    plain_by_id = ctx.job("bench.rounds:extraction_quality", {}).data
    plain = [plain_by_id[p.page_id] for p in pages]
    truths = [p.truth for p in pages]
    return [
        Row(
            QUALITY,
            "F1 of stored text (benchmark's 4-gram scoring)",
            corpus.benchmark_f1(truths, ours),
            "",
            corpus.benchmark_f1(truths, plain),
            "trafilatura alone",
            at_least(0.95),
            f"{sum(1 for t in ours if t)}/{len(pages)} pages stored with text",
        ),
        Row(
            QUALITY,
            "F1 of stored text (bag of words, mean)",
            corpus.mean_bag_f1(truths, ours),
            "",
            corpus.mean_bag_f1(truths, plain),
            "trafilatura alone",
            at_least(0.95),
        ),
    ]
