"""Digest periods aligned to a zone's clock, the throttle budget, and rollup planning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import ChannelConfig, settings_from_dict
from monitor.notify.digest import (
    HeldRow,
    period_bounds,
    plan_rollups,
    split_throttled,
    summary_due,
    throttle_budget,
)

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
KABUL = ZoneInfo("Asia/Kabul")  # UTC+4:30, no DST


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "period", "zone", "start", "end"),
    [
        ("2026-11-27T16:30:00+00:00", "1h", UTC_ZONE, "2026-11-27T16:00Z", "2026-11-27T17:00Z"),
        ("2026-11-27T16:00:00+00:00", "1h", UTC_ZONE, "2026-11-27T16:00Z", "2026-11-27T17:00Z"),
        # Kabul's hours start at :30 UTC.
        ("2026-11-27T16:10:00+00:00", "1h", KABUL, "2026-11-27T15:30Z", "2026-11-27T16:30Z"),
        # A day in Kabul starts at 19:30 UTC the evening before.
        ("2026-11-27T10:00:00+00:00", "1d", KABUL, "2026-11-26T19:30Z", "2026-11-27T19:30Z"),
        # 90-minute periods from local midnight; the day's last one is cut at midnight.
        ("2026-11-27T23:50:00+00:00", "90m", UTC_ZONE, "2026-11-27T22:30Z", "2026-11-28T00:00Z"),
        # Week-long periods run Monday to Monday (2026-11-23 is a Monday).
        ("2026-11-27T16:30:00+00:00", "7d", UTC_ZONE, "2026-11-23T00:00Z", "2026-11-30T00:00Z"),
        # Spring forward in Berlin (29 March 2026): the local day is 23 hours long.
        ("2026-03-29T12:00:00+00:00", "1d", BERLIN, "2026-03-28T23:00Z", "2026-03-29T22:00Z"),
        # Fall back (25 October 2026): 25 hours.
        ("2026-10-25T12:00:00+00:00", "1d", BERLIN, "2026-10-24T22:00Z", "2026-10-25T23:00Z"),
        # The hour after the spring gap starts at 03:00 CEST = 01:00 UTC.
        ("2026-03-29T01:30:00+00:00", "1h", BERLIN, "2026-03-29T01:00Z", "2026-03-29T02:00Z"),
    ],
)
def test_period_bounds(now: str, period: str, zone: ZoneInfo, start: str, end: str) -> None:
    length = timedelta(minutes=90) if period == "90m" else _duration(period)
    assert period_bounds(at(now), length, zone) == (at(start), at(end))


def _duration(text: str) -> timedelta:
    unit = {"h": "hours", "d": "days"}[text[-1]]
    return timedelta(**{unit: int(text[:-1])})


@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    minutes=st.sampled_from([1, 15, 60, 90, 360, 1440, 2880, 10080]),
    zone=st.sampled_from(
        [UTC_ZONE, BERLIN, KABUL, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")]
    ),
)
def test_every_instant_lies_in_its_period(now: datetime, minutes: int, zone: ZoneInfo) -> None:
    period = timedelta(minutes=minutes)
    start, end = period_bounds(now, period, zone)
    assert start <= now < end
    assert end - start <= period + timedelta(hours=1)  # DST can stretch one period by an hour
    assert period_bounds(end, period, zone)[0] >= end - timedelta(hours=1)


def test_summary_is_due_at_the_next_local_hour() -> None:
    assert summary_due(at("2026-11-27T16:10:00+00:00"), KABUL) == at("2026-11-27T16:30Z")


@pytest.mark.parametrize(
    ("limit", "sent", "budget"), [(0, 100, None), (5, 0, 5), (5, 3, 2), (5, 5, 0), (5, 9, 0)]
)
def test_throttle_budget(limit: int, sent: int, budget: int | None) -> None:
    assert throttle_budget(limit, sent) == budget


def test_split_throttled_keeps_order() -> None:
    assert split_throttled([1, 2, 3, 4], 3) == ([1, 2, 3], [4])
    assert split_throttled([1, 2], None) == ([1, 2], [])
    assert split_throttled([1, 2], 0) == ([], [1, 2])


def _channels() -> dict[str, ChannelConfig]:
    raw = {
        "channels": {
            "daily": {"type": "log", "digest": "1d", "digest_timezone": "Asia/Kabul"},
            "hourly": {"type": "log", "digest": "1h"},
            "capped": {"type": "log", "max_per_hour": 5},
        }
    }
    return dict(settings_from_dict(raw, base=Path("."), check_secrets=False).channels)


def test_plan_rollups_groups_due_rows_per_channel_and_period() -> None:
    now = at("2026-11-27T17:00:00+00:00")
    h16, h17, h18 = at("2026-11-27T16:00Z"), at("2026-11-27T17:00Z"), at("2026-11-27T18:00Z")
    held = [
        HeldRow(1, "hourly", h16, "{}"),
        HeldRow(4, "hourly", h17, "{}"),
        HeldRow(2, "hourly", h17, "{}"),
        HeldRow(3, "hourly", h18, "{}"),  # its period has not ended
        HeldRow(5, "capped", h17, "{}"),
        HeldRow(6, "gone", h16, "{}"),  # channel removed from the config: stays held
    ]
    plans = plan_rollups(held, _channels(), now)
    assert [(p.channel, p.period[1], [r.row_id for r in p.rows]) for p in plans] == [
        ("hourly", h16, [1]),
        ("capped", h17, [5]),
        ("hourly", h17, [2, 4]),
    ]
    assert [p.summary for p in plans] == [False, True, False]
    assert plans[2].period == (h16, h17)
    assert plans[1].limit == 5


def test_daily_rollup_period_is_the_local_day() -> None:
    end = at("2026-11-27T19:30Z")
    [plan] = plan_rollups([HeldRow(1, "daily", end, "{}")], _channels(), end)
    assert plan.period == (at("2026-11-26T19:30Z"), end)
    assert plan.timezone == "Asia/Kabul"
