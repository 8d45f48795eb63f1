"""Surge and quiet payloads: they explain themselves, go out once per channel under the
episode's id (the webhook-id), and make a mail whose subject says what happened."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.notify.base import OutboxMessage
from monitor.notify.email import compose
from monitor.notify.trends import (
    COVERAGE_QUIET_TYPE,
    Drivers,
    Silence,
    quiet_payload,
    surge_id,
    surge_payload,
    trend_rows,
)
from monitor.trends import SurgeAssessment

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
TEST = SurgeAssessment(
    window_start=NOW.replace(minute=0) - timedelta(hours=1),
    observed=12,
    expected=0.8,
    threshold=5.0,
    p_value=3.2e-9,
    surging=True,
    above=True,
)
DRIVERS = Drivers(
    stories=[(45, "Attack claimed <b>by</b> ISKP", 6), (46, "Second story", 2)],
    outlets=[(3, "Khyber Post", 7), (4, "Kabul Daily", 5)],
)


def _surge() -> dict[str, object]:
    episode = surge_id("isis-k", NOW.replace(minute=0))
    return surge_payload(episode, "isis-k", "high", TEST, DRIVERS, NOW)


def test_a_surge_payload_explains_itself() -> None:
    payload = _surge()
    assert str(payload["id"]).startswith("srg_")
    assert payload["type"] == "watchlist.surge"
    assert (payload["observed"], payload["expected"], payload["factor"]) == (12, 0.8, 15.0)
    assert payload["p_value"] == 3.2e-9
    assert payload["window"] == {"start": "2026-11-27T11:00:00Z", "end": "2026-11-27T12:30:00Z"}
    assert payload["top_stories"] == [
        {"id": 45, "title": "Attack claimed <b>by</b> ISKP", "outlets": 6},
        {"id": 46, "title": "Second story", "outlets": 2},
    ]
    assert payload["top_outlets"][0] == {"id": 3, "name": "Khyber Post", "stories": 7}
    assert payload["link"] == "/watchlists/isis-k"
    assert payload["message"] == (
        "Surge on watchlist isis-k: 12 stories in the last 2h, 0.8 expected (15.0×, p=3.2e-09)"
    )


def test_the_surge_id_is_the_same_for_the_same_episode_only() -> None:
    hour = NOW.replace(minute=0)
    assert surge_id("isis-k", hour) == surge_id("isis-k", hour)
    assert surge_id("isis-k", hour) != surge_id("isis-k", hour + timedelta(hours=1))
    assert surge_id("isis-k", hour) != surge_id("kabul", hour)


def test_one_row_per_channel_all_carrying_the_episode_id() -> None:
    payload = _surge()
    rows = trend_rows(payload, ["desk", "hook", "desk"], NOW)
    assert [r["channel"] for r in rows] == ["desk", "hook"]
    assert len({r["message_id"] for r in rows}) == 2
    for row in rows:
        assert (row["kind"], row["status"], row["alert_id"]) == ("trend", "pending", None)
        message = OutboxMessage(row["message_id"], row["channel"], "trend", row["body"])
        assert message.event_id == payload["id"]  # the webhook-id receivers de-duplicate on
        assert json.loads(row["body"]) == payload


def test_the_mail_subject_says_surge_and_the_body_names_what_drove_it() -> None:
    payload = _surge()
    [row] = trend_rows(payload, ["mail"], NOW)
    message = OutboxMessage(row["message_id"], "mail", "trend", row["body"])
    mail = compose(
        message, sender="m@example.org", recipients=["d@example.org"], zone=ZoneInfo("UTC")
    )
    assert str(mail["Subject"]).startswith("[feed-monitor] Surge on watchlist isis-k: 12 stories")
    assert mail["Message-ID"] == f"<{row['message_id']}@feed-monitor>"
    assert mail["X-Feed-Monitor-Id"] == payload["id"]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Story 45: Attack claimed <b>by</b> ISKP (6 outlets)" in text
    assert "Outlet: Khyber Post (7 stories)" in text
    assert "Console: /watchlists/isis-k" in text
    assert "&lt;b&gt;by&lt;/b&gt;" in html
    assert "<b>by</b>" not in html


def test_a_coverage_quiet_payload_names_the_tag_and_its_feeds() -> None:
    last = NOW - timedelta(hours=30)
    silence = Silence(COVERAGE_QUIET_TYPE, "af", last, timedelta(hours=24), 60.0, feeds=20)
    payload = quiet_payload(silence, "", NOW)
    again = quiet_payload(silence, "", NOW + timedelta(hours=5))
    assert payload["id"] == again["id"]  # one silence, one id
    assert str(payload["id"]).startswith("qui_")
    assert (payload["type"], payload["tag"], payload["feeds"]) == ("coverage.quiet", "af", 20)
    assert payload["quiet_seconds"] == 30 * 3600
    assert payload["after_seconds"] == 86400
    assert payload["link"] == "/feeds?tag=af"
    assert "watchlist" not in payload
    assert payload["message"].startswith("Quiet feed tag af: no story since 2026-11-26T06:30:00Z")
