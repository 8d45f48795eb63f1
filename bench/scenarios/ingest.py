"""Scenarios 3 and 4: feed ingest without article pages (new entries stored from the feed's
own text) and the unchanged round (every feed answers 304), against `reader` polling the
same server in the same run, with a fetch-only floor (plain httpx GETs) as the ceiling."""

from __future__ import annotations

from typing import Any

from bench.context import Context
from bench.report import Row, at_least, ratio_at_least
from bench.server import SiteServer
from bench.site import SiteSpec

INGEST = "3 feed ingest"
UNCHANGED = "4 unchanged round"
ROUND_BUDGET = 20.0  # seconds for 10,000 feeds
ROUND_FEEDS = 10_000


def _ours(ctx: Context, server: SiteServer, rounds: int, remember: str = "", **extra: Any) -> Any:
    params = {
        "backend": extra.pop("backend", "sqlite"),
        "feeds": server.site.feed_urls(),
        "folder": str(ctx.folder("ingest")),
        "workers": 1,
        "warm": False,
        "rounds": rounds,
        "polling": {"fetch_articles": False, **extra},
    }
    result = ctx.job("bench.rounds:service_round", params)
    if remember:
        ctx.memory.setdefault(remember, result)
    return result.data["rounds"]


def _reader(ctx: Context, urls: list[str], rounds: int, workers: int) -> dict[str, Any]:
    params = {
        "feeds": urls,
        "folder": str(ctx.folder("reader")),
        "rounds": rounds,
        "workers": workers,
    }
    result: dict[str, Any] = ctx.job("bench.peers:reader_rounds", params).data["rounds"][-1]
    result["workers"] = workers
    result["feeds"] = len(urls)
    return result


def _best_reader(ctx: Context, urls: list[str], rounds: int) -> dict[str, Any]:
    """reader with its default (1 fetch thread) and with 8 threads; the faster is the baseline."""
    runs = [_reader(ctx, urls, rounds, workers) for workers in (1, 8)]
    return min(runs, key=lambda r: r["seconds"] / r["feeds"])


def _floor(ctx: Context, server: SiteServer, etags: bool) -> dict[str, Any]:
    params = {"feeds": server.site.feed_urls(), "concurrency": 32, "etags": etags}
    data: dict[str, Any] = ctx.job("bench.peers:fetch_floor", params).data
    return data


def ingest(ctx: Context) -> list[Row]:
    sizes = ctx.sizes
    spec = SiteSpec(feeds=sizes.ingest_feeds, items=sizes.ingest_items, pages=False, ports=8)
    with SiteServer(spec) as server:
        ours = _ours(ctx, server, 1)[0]
        peer = _best_reader(ctx, server.site.feed_urls(), 1)
        floor = _floor(ctx, server, etags=False)
    feeds, entries = spec.feeds, spec.feeds * spec.items
    label = f"reader ({peer['workers']} thread{'s' if peer['workers'] > 1 else ''})"
    note = (
        f"ours: {ours['stored']}/{entries} entries stored in {ours['seconds']:.1f} s; "
        f"reader: {peer['new']} new in {peer['seconds']:.1f} s"
    )
    return [
        Row(
            INGEST,
            f"feeds/s ({feeds} feeds × {spec.items} entries)",
            feeds / ours["seconds"],
            "feeds/s",
            feeds / peer["seconds"],
            label,
            ratio_at_least(3),
            note,
        ),
        Row(
            INGEST,
            "entries/s",
            ours["stored"] / ours["seconds"],
            "entries/s",
            peer["new"] / peer["seconds"],
            label,
            ratio_at_least(3),
        ),
        Row(
            INGEST,
            "against the fetch-only floor (httpx GETs)",
            feeds / ours["seconds"],
            "feeds/s",
            feeds / floor["seconds"],
            "feeds/s fetch only",
            note="ratio = our share of the ceiling; the floor fetches and does nothing else",
        ),
    ]


def _service(ctx: Context, server: SiteServer, cap: float) -> dict[str, Any]:
    params = {
        "backend": "sqlite",
        "feeds": server.site.feed_urls(),
        "folder": str(ctx.folder("ingest")),
        "stats": server.site.base(0) + "/__stats",
        "cap": cap,
        "polling": {"fetch_articles": False},
    }
    data: dict[str, Any] = ctx.job("bench.rounds:service_drain", params).data
    return data


def unchanged(ctx: Context) -> list[Row]:
    sizes = ctx.sizes
    spec = SiteSpec(feeds=sizes.unchanged_feeds, items=0, pages=False, ports=16)
    with SiteServer(spec) as server:
        prime, ours = _ours(ctx, server, 2, remember=UNCHANGED)
        served = server.stats()["counts"]
        service = _service(ctx, server, cap=max(30.0, spec.feeds / 100))
        peer = _best_reader(ctx, server.site.feed_urls()[: sizes.reader_repoll_feeds], 2)
        floor = _floor(ctx, server, etags=True)
    feeds = spec.feeds
    rate = feeds / ours["seconds"]
    service_rate = service["polled"] / service["seconds"]
    label = f"polls/s reader re-poll ({peer['feeds']} feeds, {peer['workers']} thread{'s' if peer['workers'] > 1 else ''})"
    note = (
        f"{ours['not_modified']}/{feeds} answered 304 in {ours['seconds']:.1f} s (one worker); "
        f"priming round {prime['seconds']:.1f} s; server saw {served.get('feed_304', 0)} 304s"
    )
    return [
        Row(
            UNCHANGED,
            f"run --once --all, {feeds} feeds → 304",
            rate,
            "polls/s",
            peer["feeds"] / peer["seconds"],
            label,
            ratio_at_least(5),
            note,
        ),
        Row(
            UNCHANGED,
            "10,000 feeds within 20 s",
            rate,
            "polls/s",
            target=at_least(ROUND_FEEDS / ROUND_BUDGET, "polls/s"),
            note=f"10,000 feeds at this rate: {ROUND_FEEDS / rate:.1f} s",
        ),
        Row(
            UNCHANGED,
            "monitor run (service), every feed due",
            service_rate,
            "polls/s",
            peer["feeds"] / peer["seconds"],
            label,
            ratio_at_least(5),
            note=f"{service['polled']}/{feeds} polled in {service['seconds']:.1f} s; "
            f"10,000 feeds at this rate: {ROUND_FEEDS / service_rate:.1f} s",
        ),
        Row(
            UNCHANGED,
            "against the 304 floor (httpx GETs)",
            rate,
            "polls/s",
            feeds / floor["seconds"],
            "polls/s fetch only",
            note="ratio = our share of the ceiling",
        ),
    ]
