"""Scenario 11: what keeping evidence costs an alerting store. The 60 corpus pages are stored
as alerting articles through the service's write path (`store_article`, one transaction per
article with its alert and outbox row) with their snapshot, against the same articles
without one; and the bytes each alerted article's evidence takes in the database (body and
text blobs, compressed), median and p95, for pages served gzip-encoded and uncompressed."""

from __future__ import annotations

import gzip
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import corpus, synthetic
from bench.context import Context
from bench.databases import database
from bench.report import Row, at_most
from bench.scenarios.storage import migrated, pick
from monitor.clock import FrozenClock
from monitor.config import settings_from_dict
from monitor.models import Article, Capture, Exchange, TermCount, WatchlistMatch
from monitor.notify.outbox import alert_builder
from monitor.pipeline.evidence import snapshot_of
from monitor.storage.evidence import stored_bytes
from monitor.storage.store import store_article
from monitor.storage.tables import evidence_snapshots

NAME = "11 evidence"
NOW = datetime(2026, 12, 6, 7, tzinfo=UTC)
WINDOW = timedelta(hours=72)
MATCH = WatchlistMatch("bench", "high", ("desk",), (TermCount("the", None, 1),), ("…the…",))
SETTINGS = settings_from_dict(
    {"channels": {"desk": {"type": "log"}}}, base=Path("."), check_secrets=False
)


def _capture(url: str, body: bytes, encoding: str) -> Capture:
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    hop = Exchange(
        url, "GET", (("Accept", "text/html"),), "HTTP/1.1", 200, "OK", tuple(headers),
        "127.0.0.1", NOW,
    )  # fmt: skip
    return Capture((hop,), body, NOW)


def _articles(encoding: str, keep: bool) -> list[Article]:
    items = []
    for number, page in enumerate(corpus.pages()):
        article = synthetic.article(number, page.truth, 1, NOW)
        raw = gzip.compress(page.html, 6) if encoding == "gzip" else page.html
        capture = _capture(article.url, raw, encoding)
        snapshot = snapshot_of(article.text, capture, 2_000_000) if keep else None
        items.append(replace(article, snapshot=snapshot))
    return items


async def _paired(backend: str, folder: Path, repeat: int) -> dict[str, list[float]]:
    """Each article stored without its snapshot in one database and with it in another, back
    to back (order alternating), so the machine's load falls on both alike: the seconds of
    each store on each side."""
    build = alert_builder(SETTINGS, FrozenClock(NOW))
    times: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(repeat):
        bare, kept = _articles("gzip", keep=False), _articles("gzip", keep=True)
        async with database(backend, folder) as plain_url, database(backend, folder) as kept_url:
            plain, _ = await migrated(plain_url)
            keeping, _ = await migrated(kept_url)
            for index, pair in enumerate(zip(bare, kept, strict=True)):
                sides = [("without", plain, pair[0]), ("with", keeping, pair[1])]
                for side, engine, item in sides if index % 2 else reversed(sides):
                    started = time.perf_counter()
                    await store_article(
                        engine, item, [MATCH], pick=pick, build=build, window=WINDOW
                    )
                    times[side].append(time.perf_counter() - started)
            await plain.dispose()
            await keeping.dispose()
    return times


async def _kept_bytes(backend: str, folder: Path, encoding: str) -> list[int]:
    """The bytes each alerted article's evidence takes, pages served with `encoding`."""
    build = alert_builder(SETTINGS, FrozenClock(NOW))
    async with database(backend, folder) as url:
        engine, _ = await migrated(url)
        for item in _articles(encoding, keep=True):
            await store_article(engine, item, [MATCH], pick=pick, build=build, window=WINDOW)
        async with engine.connect() as conn:
            ids = list((await conn.execute(select(evidence_snapshots.c.story_id))).scalars())
            sizes = sorted((await stored_bytes(conn, ids)).values())
        await engine.dispose()
    return sizes


async def evidence_job(params: dict[str, Any]) -> dict[str, Any]:
    backend, folder, repeat = params["backend"], Path(params["folder"]), int(params["repeat"])
    result: dict[str, Any] = await _paired(backend, folder, repeat)
    result["gzip_bytes"] = await _kept_bytes(backend, folder, "gzip")
    result["identity_bytes"] = await _kept_bytes(backend, folder, "")
    result["raw_gzip"] = sorted(len(gzip.compress(p.html, 6)) for p in corpus.pages())
    result["raw_identity"] = sorted(len(p.html) for p in corpus.pages())
    return result


def _p95(values: list[int]) -> float:
    return float(statistics.quantiles(values, n=20)[-1]) if len(values) > 1 else float(values[0])


def _bytes_rows(backend: str, data: dict[str, Any]) -> list[Row]:
    rows = []
    for label, kept, raw in (
        ("gzip-encoded", data["gzip_bytes"], data["raw_gzip"]),
        ("uncompressed", data["identity_bytes"], data["raw_identity"]),
    ):
        for stat, pick_ in (("median", statistics.median), ("p95", _p95)):
            rows.append(
                Row(
                    NAME,
                    f"bytes stored per alerted article, {stat}, pages served {label}, {backend}",
                    float(pick_(kept)) / 1000,
                    "kB",
                    float(pick_(raw)) / 1000,
                    f"kB page {stat} as received",
                    None,
                    "body (as received) + text blobs, zlib-compressed",
                    higher_is_better=False,
                )
            )
    return rows


def run(ctx: Context) -> list[Row]:
    backends = ["sqlite"] + (["postgresql"] if ctx.pg_url else [])
    rows = []
    for backend in backends:
        repeat = 1 if ctx.profile == "tiny" else 3
        params = {"backend": backend, "folder": str(ctx.folder("evidence")), "repeat": repeat}
        data = ctx.job("bench.scenarios.evidence:evidence_job", params).data
        stores = len(data["with"])
        kept = statistics.median(data["with"]) * 1000
        bare = statistics.median(data["without"]) * 1000
        added = statistics.median(
            (w - o) * 1000 for w, o in zip(data["with"], data["without"], strict=True)
        )
        rows.append(
            Row(
                NAME,
                f"ms per alerting store with its snapshot (median), {backend}",
                kept,
                "ms",
                bare,
                "ms without a snapshot",
                at_most(bare * 1.5 + 5, "ms"),
                f"added {added:.1f} ms per store (median of {stores} back-to-back pairs)",
                higher_is_better=False,
            )
        )
        rows += _bytes_rows(backend, data)
    return rows
