"""Alert ids, the alert payload, outbox rows, digests and highlighting — all pure."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from monitor.config import ChannelConfig, settings_from_dict
from monitor.models import AlertContext, EvidenceRef, TermCount, WatchlistMatch
from monitor.notify.digest import HeldRow, Rollup
from monitor.notify.payload import (
    alert_id,
    alert_rows,
    channel_test_payload,
    derive_id,
    highlight,
    rollup_row,
)
from tests.support.notify import make_context as support_context

INSTALLATION = "5f0c2a7e9b1d4c3a8e6f0b2d4a6c8e0f"
NOW = datetime(2026, 11, 27, 16, 30, 5, 123456, tzinfo=UTC)
ID_PATTERN = re.compile(r"^alt_[0-9a-hjkmnp-tv-z]{16}$")


def make_context(story_id: int = 45, article_id: int = 123) -> AlertContext:
    return support_context(story_id, article_id, NOW)


def make_match(channels: tuple[str, ...] = ("desk", "hook")) -> WatchlistMatch:
    return WatchlistMatch(
        watchlist="isis-k",
        severity="high",
        channels=channels,
        matches=(TermCount("ISIS-K", "ISIS-Khorasan", 4), TermCount("suicide bombing", None, 1)),
        snippets=("…aiding the expansion of ISIS-K. Without…",),
    )


def make_channels() -> dict[str, ChannelConfig]:
    raw = {
        "channels": {
            "desk": {"type": "log"},
            "hook": {"type": "webhook", "url": "https://h.example/x", "secret_env": "X"},
            "daily": {"type": "log", "digest": "1d", "digest_timezone": "Europe/Berlin"},
        }
    }
    return dict(settings_from_dict(raw, base=Path("."), check_secrets=False).channels)


def test_alert_id_is_derived_from_installation_watchlist_and_story() -> None:
    first = alert_id(INSTALLATION, "isis-k", 45)
    assert ID_PATTERN.match(first)
    assert first == alert_id(INSTALLATION, "isis-k", 45)
    others = {
        alert_id(INSTALLATION, "isis-k", 46),
        alert_id(INSTALLATION, "isis-k2", 45),
        alert_id(INSTALLATION, "isis-k4", 5),
        alert_id("0" * 32, "isis-k", 45),
    }
    assert len({first} | others) == 5


@given(
    installation=st.text(min_size=1),
    watchlist=st.text(min_size=1),
    story=st.integers(min_value=1, max_value=2**62),
)
def test_alert_ids_always_have_the_documented_shape(
    installation: str, watchlist: str, story: int
) -> None:
    assert ID_PATTERN.match(alert_id(installation, watchlist, story))


def test_two_databases_never_share_an_alert_id_for_the_same_watchlist_and_story() -> None:
    mine = {alert_id(INSTALLATION, "isis-k", story) for story in range(1, 2001)}
    theirs = {alert_id("f" * 32, "isis-k", story) for story in range(1, 2001)}
    assert mine.isdisjoint(theirs)


def test_payload_has_exactly_the_documented_keys() -> None:
    alert, rows = alert_rows(make_match(), make_context(), make_channels(), NOW)
    payload = json.loads(rows[0]["body"])
    assert list(payload) == [
        "id", "type", "created_at", "watchlist", "severity", "matches", "snippets", "article",
        "story", "evidence",
    ]  # fmt: skip
    assert payload["id"] == alert["id"] == alert_id(INSTALLATION, "isis-k", 45)
    assert payload["type"] == "alert.created"
    assert payload["created_at"] == "2026-11-27T16:30:05Z"
    assert payload["matches"] == [
        {"term": "ISIS-K", "actor": "ISIS-Khorasan", "count": 4},
        {"term": "suicide bombing", "actor": None, "count": 1},
    ]
    assert payload["snippets"] == ["…aiding the expansion of ISIS-K. Without…"]
    assert payload["article"] == {
        "id": 123,
        "url": "https://news.example/a/1",
        "title": "Pakistan accuses neighbours of aiding ISIS-K",
        "published_at": "2026-11-27T15:00:00Z",
        "language": "en",
        "feed": {"url": "https://news.example/rss", "name": "Example News"},
    }
    assert payload["story"] == {"id": 45, "articles": 3}


def test_alert_row_matches_the_alerts_table() -> None:
    alert, _ = alert_rows(make_match(), make_context(), make_channels(), NOW)
    assert alert == {
        "id": alert_id(INSTALLATION, "isis-k", 45),
        "watchlist": "isis-k",
        "story_id": 45,
        "article_id": 123,
        "severity": "high",
        "matches": [
            {"term": "ISIS-K", "actor": "ISIS-Khorasan", "count": 4},
            {"term": "suicide bombing", "actor": None, "count": 1},
        ],
        "snippets": ["…aiding the expansion of ISIS-K. Without…"],
        "created_at": NOW,
        "article_snapshot": {
            "url": "https://news.example/a/1",
            "title": "Pakistan accuses neighbours of aiding ISIS-K",
            "published_at": "2026-11-27T15:00:00Z",
            "language": "en",
            "feed_url": "https://news.example/rss",
            "feed_name": "Example News",
        },
        "watchlist_version": None,
    }


def test_evidence_names_each_kept_page_the_version_and_the_export_command() -> None:
    kept = EvidenceRef(
        article_id=123,
        url="https://news.example/a/1",
        final_url="https://news.example/a/1?amp=0",
        status=200,
        fetched_at=NOW,
        response_sha256="ab" * 32,
        text_sha256="cd" * 32,
        truncated=False,
    )
    context = replace(make_context(), evidence=(kept,))
    alert, rows = alert_rows(replace(make_match(), version=2), context, make_channels(), NOW)
    assert alert["watchlist_version"] == 2
    assert json.loads(rows[0]["body"])["evidence"] == {
        "watchlist_version": 2,
        "articles": [
            {
                "article_id": 123,
                "url": "https://news.example/a/1",
                "final_url": "https://news.example/a/1?amp=0",
                "status": 200,
                "fetched_at": "2026-11-27T16:30:05Z",
                "response_sha256": "ab" * 32,
                "text_sha256": "cd" * 32,
                "truncated": False,
            }
        ],
        "export": f"monitor evidence export {alert['id']} -o {alert['id']}.warc.gz",
        "api": f"/api/v1/alerts/{alert['id']}/evidence",
    }


def test_one_outbox_row_per_channel_with_the_body_rendered_once() -> None:
    match = make_match(("desk", "hook", "desk", "daily", "nowhere"))
    alert, rows = alert_rows(match, make_context(), make_channels(), NOW)
    assert [r["channel"] for r in rows] == ["desk", "hook", "daily"]
    assert len({r["message_id"] for r in rows}) == 3
    assert all(r["message_id"].startswith(alert["id"] + ".") for r in rows)
    assert len({r["body"] for r in rows}) == 1
    assert {r["alert_id"] for r in rows} == {alert["id"]}
    assert [r["status"] for r in rows] == ["pending", "pending", "held"]
    assert rows[0]["next_attempt_at"] == NOW
    # The daily digest of Berlin's 27 November goes out at local midnight.
    assert rows[2]["next_attempt_at"] == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    assert alert_rows(match, make_context(), make_channels(), NOW) == (alert, rows)


def test_rollup_row_lists_the_held_alerts_with_its_own_id() -> None:
    bodies = [
        json.loads(
            alert_rows(make_match(), make_context(story_id=s), make_channels(), NOW)[1][0]["body"]
        )
        for s in (1, 2)
    ]
    end = datetime(2026, 11, 27, 17, tzinfo=UTC)
    rollup = Rollup(
        channel="hook",
        summary=False,
        period=(datetime(2026, 11, 27, 16, tzinfo=UTC), end),
        timezone="UTC",
        limit=0,
        rows=(
            HeldRow(10, "hook", end, json.dumps(bodies[0])),
            HeldRow(11, "hook", end, json.dumps(bodies[1])),
        ),
    )
    row = rollup_row(rollup, end)
    payload = json.loads(row["body"])
    assert row["kind"] == "digest"
    assert row["status"] == "pending"
    assert row["alert_id"] is None
    assert payload["id"] == row["message_id"]
    assert payload["id"].startswith("dig_")
    assert payload["type"] == "alert.digest"
    assert payload["count"] == 2
    assert [a["id"] for a in payload["alerts"]] == [b["id"] for b in bodies]
    assert payload["period"] == {
        "start": "2026-11-27T16:00:00Z",
        "end": "2026-11-27T17:00:00Z",
        "timezone": "UTC",
    }
    assert rollup_row(rollup, end) == row  # same rollup, same id: a second write collides

    summary = rollup_row(Rollup("hook", True, rollup.period, "UTC", 5, rollup.rows), end)
    payload = json.loads(summary["body"])
    assert summary["kind"] == "summary"
    assert payload["id"].startswith("sum_")
    assert (payload["type"], payload["rolled_up"], payload["max_per_hour"]) == (
        "alert.summary",
        2,
        5,
    )


def test_channel_test_payload() -> None:
    payload = channel_test_payload("hook", NOW)
    assert list(payload) == ["id", "type", "created_at"]
    assert payload["id"].startswith("tst_")
    assert payload["type"] == "channel.test"
    assert payload["id"] != channel_test_payload("desk", NOW)["id"]


def test_derive_id_length() -> None:
    assert len(derive_id("", "x", length=8)) == 8


def test_highlight_marks_terms_in_their_written_variants() -> None:
    text = "ISIS‑K, #ISISK and isis k claimed it; ISKP’s men; crisis in Kabul; ISIS-Khorasan"
    marked = [piece for piece, hit in highlight(text, ["ISIS-K", "ISKP", "ISIS-Khorasan"]) if hit]
    # `isis k` is no hit of ISIS-K: a dash read as a space needs the term's exact case
    assert marked == ["ISIS‑K", "ISISK", "ISKP’s", "ISIS-Khorasan"]


def test_highlight_without_terms_is_the_text() -> None:
    assert highlight("plain", []) == [("plain", False)]
    assert highlight("", ["x"]) == []


@given(text=st.text(), terms=st.lists(st.text(min_size=1), max_size=4))
def test_highlight_segments_rebuild_the_text(text: str, terms: list[str]) -> None:
    segments = highlight(text, terms)
    assert "".join(piece for piece, _ in segments) == text
    assert all(piece for piece, _ in segments)
