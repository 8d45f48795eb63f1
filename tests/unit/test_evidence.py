"""Evidence, the pure parts: snapshots cut at the cap with their digests, the canonical form
of a watchlist (same meaning, same sha256), the diff between versions, and the evidence
lines of an alert mail."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from monitor.config import WatchlistConfig
from monitor.models import Capture, Exchange
from monitor.notify.email import alert_html, alert_text
from monitor.pipeline.evidence import snapshot_of
from monitor.services.watchlist_history import definition_diff

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def capture(body: bytes) -> Capture:
    hop = Exchange(
        url="https://news.example/a",
        method="GET",
        request_headers=(("Accept", "text/html"),),
        http_version="HTTP/1.1",
        status=200,
        reason="OK",
        response_headers=(("Content-Type", "text/html"),),
        peer_ip="203.0.113.5",
        started_at=NOW,
    )
    return Capture((hop,), body, NOW)


@given(body=st.binary(max_size=300), cap=st.integers(min_value=1, max_value=300))
def test_a_snapshot_keeps_at_most_the_cap_and_the_digest_of_the_whole_body(
    body: bytes, cap: int
) -> None:
    snapshot = snapshot_of("text", capture(body), cap)
    assert snapshot.body == body[:cap]
    assert snapshot.body_sha256 == hashlib.sha256(body[:cap]).hexdigest()
    assert snapshot.received_sha256 == hashlib.sha256(body).hexdigest()
    assert snapshot.received_bytes == len(body)
    assert bool(snapshot.cut_note) == (len(body) > cap)
    assert snapshot.text_sha256 == hashlib.sha256(b"text").hexdigest()


def test_a_cut_note_says_where_and_of_how_much() -> None:
    snapshot = snapshot_of("t", capture(b"x" * 2500), 1000)
    assert snapshot.cut_note.startswith("body cut at 1 kB ([evidence] max_bytes) of 2500 bytes")


def test_a_snapshot_without_a_fetch_keeps_the_text_digest_only() -> None:
    snapshot = snapshot_of("feed summary", None, 1000)
    assert (snapshot.capture, snapshot.body, snapshot.received_sha256) == (None, b"", None)
    assert snapshot.text_sha256 == hashlib.sha256(b"feed summary").hexdigest()


def test_the_canonical_form_is_the_same_for_the_same_meaning() -> None:
    short = WatchlistConfig.model_validate({"name": "w", "terms": ["ISKP"]})
    spelled = WatchlistConfig.model_validate(
        {"name": "w", "severity": "medium", "terms": [{"text": "ISKP"}], "exclude": []}
    )
    other = WatchlistConfig.model_validate({"name": "w", "terms": ["ISKP", "IS-K"]})
    assert short.canonical_json() == spelled.canonical_json()
    assert short.canonical_json() != other.canonical_json()


def test_the_diff_shows_what_changed_between_versions() -> None:
    old = WatchlistConfig.model_validate({"name": "w", "terms": ["ISKP"]}).canonical_json()
    new = WatchlistConfig.model_validate(
        {"name": "w", "severity": "high", "terms": ["ISKP", "IS-K"]}
    ).canonical_json()
    diff = definition_diff("w", (1, old), (2, new))
    assert diff[:2] == ("--- w v1", "+++ w v2")
    assert '-  "severity": "medium",' in diff
    assert '+  "severity": "high",' in diff
    assert '+      "text": "IS-K"' in diff
    assert not any(line.startswith("-") and "ISKP" in line for line in diff)


def test_an_alert_mail_names_its_evidence_and_how_to_export_it() -> None:
    payload = {
        "id": "alt_x",
        "severity": "high",
        "watchlist": "isis-k",
        "matches": [{"term": "ISKP", "actor": None, "count": 1}],
        "snippets": [],
        "article": {"url": "https://news.example/a", "title": "T", "feed": {}},
        "story": {"id": 1, "articles": 1},
        "evidence": {
            "watchlist_version": 3,
            "articles": [
                {
                    "url": "https://news.example/a",
                    "final_url": "https://news.example/a?x=<1>",
                    "fetched_at": "2026-12-06T07:00:00Z",
                    "response_sha256": "ab" * 32,
                    "truncated": True,
                }
            ],
            "export": "monitor evidence export alt_x -o alt_x.warc.gz",
        },
    }
    text = alert_text(payload, ZoneInfo("UTC"))
    assert "Evidence (watchlist version 3):" in text
    assert f"sha256 {'ab' * 32}, cut at the size cap" in text
    assert "Export: monitor evidence export alt_x -o alt_x.warc.gz" in text
    html = alert_html(payload, ZoneInfo("UTC"))
    assert "a?x=&lt;1&gt;" in html
    assert "<1>" not in html
