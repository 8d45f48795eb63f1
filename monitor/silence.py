"""Silent feeds, decided purely: a feed that has produced nothing new for its `silent_after`
has gone dark, and analysts need to know that coverage of a region is gone.

`silent_after` is the feed's own setting when it has one, else `polling.silent_factor` times
its usual gap between new entries (at least a day; a feed with no history yet is measured
against `polling.max_interval`). Silence counts from the feed's last new entry, or from
when it was added if it never produced one. Only active feeds (ok, erroring) are silent:
a disabled or retired feed is not expected to produce anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.config import PollingConfig

MIN_SILENT_AFTER = timedelta(days=1)
ACTIVE_STATES = ("ok", "erroring")


@dataclass(frozen=True, slots=True)
class SilencePolicy:
    """The cluster-wide defaults for `silent_after`."""

    factor: float = 4.0
    fallback_gap: timedelta = timedelta(hours=6)
    minimum: timedelta = MIN_SILENT_AFTER

    @classmethod
    def from_polling(cls, polling: PollingConfig) -> SilencePolicy:
        return cls(factor=polling.silent_factor, fallback_gap=polling.max_interval)


@dataclass(frozen=True, slots=True)
class FeedActivity:
    """The columns of a feed row silence is decided from."""

    state: str
    created_at: datetime
    last_new_at: datetime | None = None
    silent_after_seconds: float | None = None
    mean_gap_seconds: float | None = None

    @classmethod
    def of(cls, row: Any) -> FeedActivity:
        return cls(
            row.state,
            row.created_at,
            row.last_new_at,
            row.silent_after_seconds,
            row.mean_gap_seconds,
        )

    @property
    def quiet_since(self) -> datetime:
        return self.last_new_at or self.created_at


def silent_after(policy: SilencePolicy, feed: FeedActivity) -> timedelta:
    """How long this feed may produce nothing before it counts as silent."""
    if feed.silent_after_seconds:
        return timedelta(seconds=feed.silent_after_seconds)
    gap = feed.mean_gap_seconds or policy.fallback_gap.total_seconds()
    return max(policy.minimum, timedelta(seconds=policy.factor * gap))


def is_silent(policy: SilencePolicy, feed: FeedActivity, now: datetime) -> bool:
    """True when an active feed has produced nothing for its `silent_after`."""
    if feed.state not in ACTIVE_STATES:
        return False
    return now - feed.quiet_since >= silent_after(policy, feed)


@dataclass(frozen=True, slots=True)
class SilentFeed:
    """What the system message says about one silent feed."""

    id: int
    url: str
    name: str
    state: str
    last_error: str | None
    last_poll_at: datetime | None
    quiet_since: datetime
    silent_after: timedelta
