"""Pure timing of digests and throttling: periods aligned to a time zone's clock, the hourly
budget of a throttled channel, and which held outbox rows roll up into which message.

A held row waits with `next_attempt_at` = the end of its period (the digest's send time, or
the next full hour for a throttled channel); `plan_rollups` groups the held rows that are due
by (channel, period end), one message each. Periods up to a day start at local midnight and
repeat through the day (the last one ends at midnight); longer periods count from Monday
2001-01-01 in local time, so "7d" runs Monday to Monday. On a DST day a period follows the
wall clock: a "1d" period is 23 or 25 hours long, and the repeated autumn hour shares one end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from monitor.config import ChannelConfig
from monitor.models import HeldRow

__all__ = ["HeldRow", "Rollup", "period_bounds", "plan_rollups"]

DAY = timedelta(days=1)
THROTTLE_WINDOW = timedelta(hours=1)
_LONG_PERIOD_EPOCH = datetime(2001, 1, 1)  # a Monday
_INSTANT = timedelta(microseconds=1)

T = TypeVar("T")


def _to_utc(wall: datetime, zone: tzinfo, fold: int) -> datetime:
    return wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)


def period_bounds(now: datetime, period: timedelta, zone: tzinfo) -> tuple[datetime, datetime]:
    """(start, end) in UTC of the period containing `now`, aligned to `zone`'s wall clock."""
    local = now.astimezone(zone)
    wall = local.replace(tzinfo=None)
    if period <= DAY:
        anchor = wall.replace(hour=0, minute=0, second=0, microsecond=0)
        limit = anchor + DAY
    else:
        anchor, limit = _LONG_PERIOD_EPOCH, None
    start_wall = anchor + ((wall - anchor) // period) * period
    end_wall = start_wall + period
    if limit is not None and end_wall > limit:
        end_wall = limit
    return _to_utc(start_wall, zone, local.fold), _to_utc(end_wall, zone, local.fold)


def summary_due(now: datetime, zone: tzinfo) -> datetime:
    """When alerts a throttled channel holds back now go out: the end of the current hour."""
    return period_bounds(now, THROTTLE_WINDOW, zone)[1]


def throttle_budget(max_per_hour: int, sent_last_hour: int) -> int | None:
    """How many more alerts may go out now; None when the channel has no limit."""
    if max_per_hour <= 0:
        return None
    return max(0, max_per_hour - sent_last_hour)


def split_throttled(messages: Sequence[T], budget: int | None) -> tuple[list[T], list[T]]:
    """(send now, hold for the summary): the first `budget` messages go, the rest wait."""
    if budget is None:
        return list(messages), []
    return list(messages[:budget]), list(messages[budget:])


@dataclass(frozen=True, slots=True)
class Rollup:
    """One digest or summary message to write, and the held rows it replaces."""

    channel: str
    summary: bool  # True: a throttle summary; False: a digest
    period: tuple[datetime, datetime]
    timezone: str
    limit: int  # the channel's max_per_hour, for a summary's wording
    rows: tuple[HeldRow, ...]


def _rollup(channel: str, config: ChannelConfig, due: datetime, rows: list[HeldRow]) -> Rollup:
    length = config.digest or THROTTLE_WINDOW
    period = period_bounds(due - _INSTANT, length, ZoneInfo(config.digest_timezone))
    return Rollup(
        channel=channel,
        summary=config.digest is None,
        period=(period[0], due),
        timezone=config.digest_timezone,
        limit=config.max_per_hour,
        rows=tuple(sorted(rows, key=lambda r: r.row_id)),
    )


def plan_rollups(
    held: Sequence[HeldRow], channels: Mapping[str, ChannelConfig], now: datetime
) -> list[Rollup]:
    """The messages to write now: held rows whose period has ended, per (channel, period end).

    Rows of a channel no longer in the config stay held.
    """
    groups: dict[tuple[str, datetime], list[HeldRow]] = {}
    for row in held:
        if row.due <= now and row.channel in channels:
            groups.setdefault((row.channel, row.due), []).append(row)
    return [
        _rollup(channel, channels[channel], due, rows)
        for (channel, due), rows in sorted(
            groups.items(), key=lambda item: (item[0][1], item[0][0])
        )
    ]
