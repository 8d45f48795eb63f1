"""What an alert keeps of an article (pure): the snapshot of its fetch, cut at a size cap,
with the sha256 digests the alert payload cites and the WARC export verifies."""

from __future__ import annotations

import hashlib

from monitor.models import Capture, Snapshot
from monitor.pipeline.body import human_size


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_digest(text: str) -> str:
    """The sha256 of stored text (its UTF-8 bytes)."""
    return sha256_hex(text.encode("utf-8"))


def snapshot_of(text: str, capture: Capture | None, cap: int) -> Snapshot:
    """The snapshot of an article whose stored text is `text`, fetched as `capture` (None
    when no page was fetched: the feed's own text was stored). A body longer than `cap`
    bytes is kept up to `cap`, and the snapshot says so."""
    text_sha = text_digest(text)
    if capture is None:
        return Snapshot(None, b"", sha256_hex(b""), None, 0, "", text_sha)
    raw = capture.raw_body
    body = raw[:cap]
    note = ""
    if len(raw) > cap:
        note = (
            f"body cut at {human_size(cap)} ([evidence] max_bytes) of {len(raw)} bytes received;"
            " the digest of the whole body is kept"
        )
    whole = sha256_hex(raw)
    kept = whole if body is raw or len(body) == len(raw) else sha256_hex(body)
    return Snapshot(capture, body, kept, whole, len(raw), note, text_sha)
