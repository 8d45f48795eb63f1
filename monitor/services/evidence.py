"""Evidence use cases: the alert payloads with their `evidence`, and exporting an alert's
evidence as a WARC 1.1 file (and optionally a zip bundle for readers without WARC tools).

Everything exported comes from the evidence tables, never from the articles table, so an
export reads the same after the source page changed or vanished and after retention pruned
or deleted the article.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.services.alerts import Alerts
from monitor.services.bundle import write_bundle
from monitor.services.context import Context
from monitor.services.outfiles import check_output, write_whole
from monitor.services.shapes import alert_json
from monitor.services.warc import KeptPage, write_warc
from monitor.storage.evidence import read_blobs, story_snapshots
from monitor.storage.watchlist_versions import list_versions
from monitor.units import iso_z


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote."""

    alert_id: str
    warc: Path
    records: int
    pages: int
    bundle: Path | None = None
    bundle_files: int = 0


def kept_page(snapshot: Mapping[str, Any], blobs: Mapping[str, bytes]) -> KeptPage:
    """A snapshot row and its blobs as the page an export writes."""
    return KeptPage(
        snapshot_id=snapshot["id"],
        meta=snapshot["meta"],
        exchanges=snapshot["exchanges"],
        body=blobs.get(snapshot["body_sha256"], b""),
        body_sha256=snapshot["body_sha256"],
        received_sha256=snapshot["received_sha256"],
        received_bytes=snapshot["received_bytes"],
        cut_note=snapshot["cut_note"],
        text=blobs.get(snapshot["text_sha256"], b"").decode("utf-8"),
        text_sha256=snapshot["text_sha256"],
        fetched_at=snapshot["fetched_at"],
    )


async def _pages(conn: AsyncConnection, story_id: int) -> list[KeptPage]:
    snapshots = await story_snapshots(conn, story_id)
    shas: Sequence[str] = [s["body_sha256"] for s in snapshots] + [
        s["text_sha256"] for s in snapshots
    ]
    blobs = await read_blobs(conn, shas)
    return [kept_page(s, blobs) for s in snapshots]


async def _watchlist_version(
    conn: AsyncConnection, name: str, version: int | None
) -> dict[str, Any] | None:
    for row in await list_versions(conn, name):
        if row["version"] == version:
            return {
                "name": name,
                "version": version,
                "sha256": row["sha256"],
                "definition": row["definition"],
                "first_loaded_at": iso_z(row["first_loaded_at"]),
                "host": row["host"],
            }
    return None


class Evidence:
    """The evidence kept for alerts."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def export(
        self, alert_id: str, warc: Path, *, bundle: Path | None = None
    ) -> ExportReport:
        """Write the evidence of `alert_id` to `warc` (and `bundle`); NotFound if unknown,
        InvalidRequest (before any work) if a file cannot be written where asked."""
        check_output(warc, "WARC file")
        if bundle is not None:
            check_output(bundle, "bundle")
        alert = await Alerts(self.ctx).get(alert_id)
        payload = alert_json(alert)
        async with self.ctx.read() as conn:
            watchlist = await _watchlist_version(conn, alert.watchlist, alert.watchlist_version)
            pages = await _pages(conn, alert.story.id)
        now = self.ctx.clock.now()
        # File writing and compression off the event loop (the API serves meanwhile).
        records = await asyncio.to_thread(
            write_whole,
            warc,
            "WARC file",
            functools.partial(
                write_warc,
                filename=warc.name,
                alert=payload,
                watchlist=watchlist,
                pages=pages,
                now=now,
            ),
        )
        report = ExportReport(alert.id, warc, records, len(pages))  # the whole id, not a prefix
        if bundle is None:
            return report
        files = await asyncio.to_thread(
            write_whole,
            bundle,
            "bundle",
            functools.partial(
                write_bundle, warc=warc, alert=payload, watchlist=watchlist, pages=pages, now=now
            ),
        )
        return ExportReport(alert.id, warc, records, len(pages), bundle, files)
