"""The pure silent-feed decision and its system message."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.notify.system import silence_row
from monitor.silence import (
    FeedActivity,
    SilencePolicy,
    SilentFeed,
    is_silent,
    silent_after,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = SilencePolicy(factor=4.0, fallback_gap=timedelta(hours=6))


def _feed(**kw: object) -> FeedActivity:
    values: dict[str, object] = {"state": "ok", "created_at": NOW - timedelta(days=30)}
    values.update(kw)
    return FeedActivity(**values)  # type: ignore[arg-type]


def test_the_default_is_the_factor_times_the_usual_gap_but_at_least_a_day() -> None:
    assert silent_after(POLICY, _feed(mean_gap_seconds=3600)) == timedelta(days=1)
    assert silent_after(POLICY, _feed(mean_gap_seconds=12 * 3600)) == timedelta(days=2)
    assert silent_after(POLICY, _feed()) == timedelta(days=1)  # no history: 4 × 6h


def test_a_feeds_own_silent_after_wins_even_below_a_day() -> None:
    assert silent_after(POLICY, _feed(silent_after_seconds=2.0, mean_gap_seconds=9e9)) == timedelta(
        seconds=2
    )


def test_silence_counts_from_the_last_new_entry_or_from_creation() -> None:
    assert is_silent(POLICY, _feed(last_new_at=NOW - timedelta(hours=25)), NOW)
    assert not is_silent(POLICY, _feed(last_new_at=NOW - timedelta(hours=23)), NOW)
    assert is_silent(POLICY, _feed(created_at=NOW - timedelta(days=2)), NOW)
    assert not is_silent(POLICY, _feed(created_at=NOW - timedelta(hours=2)), NOW)


def test_only_active_feeds_are_silent() -> None:
    quiet = {"last_new_at": NOW - timedelta(days=9)}
    assert is_silent(POLICY, _feed(state="erroring", **quiet), NOW)
    assert not is_silent(POLICY, _feed(state="disabled", **quiet), NOW)
    assert not is_silent(POLICY, _feed(state="retired", **quiet), NOW)


def test_the_system_message_has_one_id_per_silence() -> None:
    feed = SilentFeed(
        id=7,
        url="http://127.0.0.1/rss",
        name="Kabul Daily",
        state="ok",
        last_error=None,
        last_poll_at=NOW,
        quiet_since=NOW - timedelta(days=2),
        silent_after=timedelta(days=1),
    )
    row = silence_row(feed, "ops", NOW)
    again = silence_row(feed, "ops", NOW + timedelta(hours=1))
    next_silence = silence_row(replace(feed, quiet_since=NOW - timedelta(hours=1)), "ops", NOW)
    body = json.loads(row["body"])
    assert row["kind"] == "system"
    assert row["channel"] == "ops"
    assert row["status"] == "pending"
    assert body["type"] == "feed.silent"
    assert body["id"] == row["message_id"] == again["message_id"]
    assert next_silence["message_id"] != row["message_id"]
    assert body["id"].startswith("sys_")
    assert body["feed"] == {"id": 7, "url": "http://127.0.0.1/rss", "name": "Kabul Daily"}
    assert body["silent_since"] == "2026-11-25T12:00:00Z"
    assert "Kabul Daily" in body["message"]
