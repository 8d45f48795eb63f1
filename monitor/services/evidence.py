"""Evidence use cases: the alert payloads with their `evidence`, and exporting an alert's
evidence as a WARC 1.1 file (and optionally a zip bundle for readers without WARC tools).

Everything exported comes from the evidence tables, never from the articles table, so an
export reads the same after the source page changed or vanished and after retention pruned
or deleted the article.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.app import open_engine
from monitor.config import Settings
from monitor.errors import MonitorError
from monitor.models import EvidenceRef
from monitor.notify.payload import ArticleRef, alert_payload, iso_z
from monitor.services.bundle import write_bundle
from monitor.services.warc import KeptPage, write_warc
from monitor.storage.alerts import get_alert
from monitor.storage.evidence import read_blobs, story_evidence, story_snapshots
from monitor.storage.watchlist_versions import list_versions


class AlertNotFound(MonitorError):
    """No alert has this id."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote."""

    alert_id: str
    warc: Path
    records: int
    pages: int
    bundle: Path | None = None
    bundle_files: int = 0


def live_payload(row: Mapping[str, Any], evidence: Sequence[EvidenceRef]) -> dict[str, Any]:
    """The §4 payload of an alert row read back, with the story's live article count and
    the evidence kept for it so far."""
    article = ArticleRef(
        id=row["article_id"],
        url=row["article_url"] or "",
        title=row["article_title"] or "",
        published_at=row["article_published_at"],
        language=row["article_language"] or "",
        feed_url=row["feed_url"] or "",
        feed_name=row["feed_name"] or "",
    )
    return alert_payload(row, article, int(row["story_articles"] or 1), evidence)


async def alert_payloads(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The payloads of alert rows read back (one evidence query for all of them)."""
    kept = await story_evidence(conn, [row["story_id"] for row in rows])
    return [live_payload(row, kept[row["story_id"]]) for row in rows]


async def _pages(conn: AsyncConnection, story_id: int) -> list[KeptPage]:
    snapshots = await story_snapshots(conn, story_id)
    shas = [s["body_sha256"] for s in snapshots] + [s["text_sha256"] for s in snapshots]
    blobs = await read_blobs(conn, shas)
    return [
        KeptPage(
            snapshot_id=s["id"],
            meta=s["meta"],
            exchanges=s["exchanges"],
            body=blobs.get(s["body_sha256"], b""),
            body_sha256=s["body_sha256"],
            received_sha256=s["received_sha256"],
            received_bytes=s["received_bytes"],
            cut_note=s["cut_note"],
            text=blobs.get(s["text_sha256"], b"").decode("utf-8"),
            text_sha256=s["text_sha256"],
            fetched_at=s["fetched_at"],
        )
        for s in snapshots
    ]


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


async def export_alert(
    engine: AsyncEngine,
    alert_id: str,
    warc: Path,
    *,
    bundle: Path | None = None,
    now: datetime,
) -> ExportReport:
    """Write the evidence of `alert_id` to `warc` (and `bundle`); AlertNotFound if unknown."""
    async with engine.connect() as conn:
        row = await get_alert(conn, alert_id)
        if row is None:
            raise AlertNotFound(f"no alert {alert_id!r} (see `monitor alerts list`)")
        payload = (await alert_payloads(conn, [row]))[0]
        watchlist = await _watchlist_version(conn, row["watchlist"], row["watchlist_version"])
        pages = await _pages(conn, row["story_id"])
    records = write_warc(warc, alert=payload, watchlist=watchlist, pages=pages, now=now)
    report = ExportReport(alert_id, warc, records, len(pages))
    if bundle is None:
        return report
    files = write_bundle(
        bundle, warc=warc, alert=payload, watchlist=watchlist, pages=pages, now=now
    )
    return ExportReport(alert_id, warc, records, len(pages), bundle, files)


async def export(
    settings: Settings,
    alert_id: str,
    warc: Path,
    *,
    bundle: Path | None = None,
    now: datetime,
) -> ExportReport:
    """`monitor evidence export`: open the database and export one alert's evidence."""
    async with open_engine(settings) as engine:
        return await export_alert(engine, alert_id, warc, bundle=bundle, now=now)
