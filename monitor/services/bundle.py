"""The evidence bundle: a zip for readers without WARC tools. It holds the WARC itself, per
page its HTML (content-encoding undone, bytes otherwise as served), the extracted text and
the hops, the alert payload, and `manifest.json` listing every file with its sha256."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from monitor.errors import FetchError
from monitor.pipeline.body import CappedBody
from monitor.services.warc import KeptPage

MANIFEST = "manifest.json"


def page_html(page: KeptPage) -> bytes:
    """The page's body with its Content-Encoding undone (as much as a cut body allows)."""
    headers = page.exchanges[-1]["response_headers"] if page.exchanges else []
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
    if not encoding:
        return page.body
    decoded = CappedBody(encoding, max(len(page.body) * 64, 1 << 20), truncate=True)
    try:
        decoded.feed(page.body)
        return decoded.finish()
    except FetchError:  # a corrupt or cut stream: the raw bytes are still in the WARC
        return page.body


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _files(
    warc: Path, alert: Mapping[str, Any], watchlist: Any, pages: Sequence[KeptPage]
) -> list[tuple[str, bytes]]:
    files = [
        (warc.name, warc.read_bytes()),
        ("alert.json", _json({"alert": dict(alert), "watchlist_version": watchlist})),
    ]
    for number, page in enumerate(pages, 1):
        folder = f"pages/{number:02d}-article-{page.meta.get('article_id') or 'deleted'}"
        if page.exchanges:
            files.append((f"{folder}/page.html", page_html(page)))
            files.append((f"{folder}/hops.json", _json(list(page.exchanges))))
        files.append((f"{folder}/text.txt", page.text.encode("utf-8")))
        files.append((f"{folder}/page.json", _json(page.summary())))
    return files


def write_bundle(
    stream: BinaryIO,
    *,
    warc: Path,
    alert: Mapping[str, Any],
    watchlist: Any,
    pages: Sequence[KeptPage],
    now: datetime,
) -> int:
    """Write the bundle zip to `stream`; return how many files it holds besides the manifest."""
    files = _files(warc, alert, watchlist, pages)
    manifest = {
        "alert": alert["id"],
        "created_at": now.isoformat(),
        "files": [
            {"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in files
        ],
    }
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
        archive.writestr(MANIFEST, _json(manifest))
    return len(files)
