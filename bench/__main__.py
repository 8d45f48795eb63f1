"""`python -m bench` (or `bench/run`): run the scenarios, print one table, write
bench/results/latest.json and latest.png. See bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bench.context import PROFILES, Context
from bench.databases import PG_URL, pg_reachable
from bench.report import Row, Run, print_table, rows_from_json, write_chart, write_json
from bench.scenarios import (
    api,
    console,
    delivery,
    e2e,
    evidence,
    ingest,
    matching,
    memory,
    storage,
    stories,
    workers,
)

RESULTS = Path(__file__).resolve().parent / "results"
# name -> (what it measures, function, scenarios it needs first)
SCENARIOS: dict[str, tuple[str, Callable[[Context], list[Row]], tuple[str, ...]]] = {
    "end-to-end": ("1: articles/s of one run --once round vs extraction alone", e2e.run, ()),
    "quality": ("2: F1 of stored text vs ground truth, and trafilatura alone", e2e.quality, ()),
    "ingest": ("3: feeds/s without page fetch vs reader, and the fetch floor", ingest.ingest, ()),
    "unchanged": ("4: a round of 304s, one worker, vs reader's re-poll", ingest.unchanged, ()),
    "scale-out": (
        "8: a round of 304s on PostgreSQL with 1, 2 and 4 workers; claim latency",
        workers.run,
        (),
    ),
    "memory": (
        "7: peak memory of one worker over 1 and 4",
        memory.run,
        ("end-to-end", "unchanged"),
    ),
    "matching": ("5: normalise + match MB/s vs a regex alternation", matching.run, ()),
    "delivery": ("5b: webhook deliveries/s and stored-to-received latency", delivery.run, ()),
    "storage": (
        "6: store_articles (batches of 20) vs raw executemany, SQLite and PostgreSQL",
        storage.run,
        (),
    ),
    "stories": ("6b: story assignment ms with a full window, index memory", stories.run, ()),
    "api": (
        "9: REST API p95 over 100,000 alerts beside /healthz, SQLite and PostgreSQL",
        api.run,
        (),
    ),
    "console": (
        "10: console pages p95 (inbox, alert, search) over 100,000 alerts beside /healthz",
        console.run,
        (),
    ),
    "evidence": (
        "11: ms per alerting store with its snapshot vs without; bytes kept per alerted article",
        evidence.run,
        (),
    ),
}


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="feed-monitor benchmarks; every figure beside a baseline measured in the same run.",
        epilog="scenarios: " + "; ".join(f"{k} ({v[0]})" for k, v in SCENARIOS.items()),
    )
    parser.add_argument(
        "--full", action="store_true", help="the issue's sizes (takes several minutes)"
    )
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), help="sizes: tiny, small (default), full"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this scenario (repeat or comma-separate for several)",
    )
    parser.add_argument(
        "--pg",
        action="store_true",
        help="also run the end-to-end round and story assignment on PostgreSQL",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results JSON (default: bench/results/latest.json "
        "for a run of every scenario; none with --only)",
    )
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    parser.add_argument(
        "--chart-from",
        type=Path,
        metavar="JSON",
        help="only redraw the chart of a results file (beside it, .png)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (databases, logs)"
    )
    return parser.parse_args(argv)


def _selected(only: list[str]) -> list[str]:
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(
            f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    if not names:
        return list(SCENARIOS)
    wanted: list[str] = []
    for name in names:
        wanted += [n for n in (*SCENARIOS[name][2], name) if n not in wanted]
    return [n for n in SCENARIOS if n in wanted]


def _load_note(console: Console) -> float:
    load = os.getloadavg()[0]
    if load > 0.5:
        console.print(
            f"[yellow]load average {load:.1f}: other work on this machine will add noise[/]"
        )
    return load


def main(argv: list[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    if args.chart_from:
        profile = json.loads(args.chart_from.read_text(encoding="utf-8"))["profile"]
        chart = args.chart_from.with_suffix(".png")
        write_chart(rows_from_json(args.chart_from), chart, f"feed-monitor bench ({profile})")
        print(f"wrote {chart}")
        return 0
    profile = "full" if args.full else args.profile or "small"
    names = _selected(args.only)
    console = Console(width=None if sys.stdout.isatty() else 170)
    pg_url = PG_URL if asyncio.run(pg_reachable()) else None
    if pg_url is None:
        console.print(f"[yellow]PostgreSQL not reachable at {PG_URL}: its rows are skipped[/]")
    workdir = Path(tempfile.mkdtemp(prefix="feed-monitor-bench-"))
    ctx = Context(
        profile, PROFILES[profile], workdir, pg_url, pg_e2e=args.pg and pg_url is not None
    )
    run = Run(
        profile=profile,
        command="python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv),
    )
    started = time.perf_counter()
    run.load_average = _load_note(console)
    failed = False
    for name in names:
        console.print(f"[bold]{name}[/] [dim]{SCENARIOS[name][0]}[/]")
        try:
            rows = SCENARIOS[name][1](ctx)
        except Exception as e:  # one scenario's failure is reported, the others still run
            failed = True
            run.errors[name] = "".join(traceback.format_exception_only(e)).strip()
            console.print(f"[red]{name} failed[/]: {run.errors[name][:2000]}")
            continue
        run.rows += rows
        for row in rows:
            console.print(f"  {row.figure}: {row.value:.4g} {row.unit}", highlight=False)
    run.seconds = time.perf_counter() - started
    print_table(run, console)
    out = args.out or (RESULTS / "latest.json" if not args.only else None)
    if out is not None:
        write_json(run, out)
        if not args.no_chart:
            write_chart(
                run.rows,
                out.with_suffix(".png"),
                f"feed-monitor bench ({profile}), {time.strftime('%Y-%m-%d')}",
            )
        console.print(f"wrote {out}" + ("" if args.no_chart else f" and {out.with_suffix('.png')}"))
    if args.keep or failed:
        console.print(f"work folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
