"""When to poll a feed next (pure: `now` and every input are passed in).

The adaptive rule
-----------------
Each feed carries `mean_gap`: a smoothed estimate, in seconds, of the time between its
new entries. After every successful poll `update_mean_gap` folds in what was seen:

- k new entries after t seconds since the last poll that found new ones: the observed
  gap is t / k, blended into the estimate with weight 0.3 (an exponentially weighted
  mean, so a burst or a quiet spell moves the estimate without erasing the history);
- no new entries, t seconds of silence: the gap is at least t, so when t exceeds the
  estimate the estimate moves toward t with the same weight (a feed that went quiet is
  polled less and less often, never faster than before);
- the first poll of a feed tells nothing about its rhythm (its entries are the
  backlog): callers pass `previous=None` results through until a second poll.

`next_poll` turns it into an interval:

    interval = per-feed `interval` override, if set (the operator's word wins)
             else clamp(mean_gap / 2, min_interval, max_interval), if mean_gap is known
             else clamp(default_interval, min_interval, max_interval)
    interval = max(interval, min(Cache-Control max-age, max_interval))

Half the mean gap means a new entry waits on average about a quarter of the feed's
rhythm before it is seen: a feed posting every 10 minutes is polled every 5 (never below
`min_interval`), one posting twice a day about every 6 hours (`max_interval`). The
publisher's max-age is a floor: we never ask again before the answer could change,
but a huge max-age cannot push a feed past `max_interval`.

Errors use `error_backoff` instead: exponential from `base`, doubled per consecutive
error, with equal jitter (half fixed, half random, `rand` injected), then clamped to
[`min_interval`, `max_interval`] — polling stays between min and max for an erroring feed
too, so a broken feed is never asked more often than a healthy one may be; a server's
Retry-After is honoured when longer, up to `MAX_RETRY_AFTER`.

The outcome rules
-----------------
`after_success` and `after_failure` decide what one poll changes in a feed's schedule:

- success: the next poll by the adaptive rule (the first poll's entries are a backlog, not a
  posting rate, so it leaves `mean_gap` alone);
- 410 Gone: the feed is retired at once;
- 404: retired once it has answered 404 for `retire_after_404` (a site being rebuilt gets
  its week); any other error clears the 404 streak;
- any error: `error_backoff` from `default_interval / 8` (never below `min_interval`), and a
  Retry-After window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import PollingConfig
from monitor.models import FeedSchedule

SMOOTHING = 0.3
MAX_RETRY_AFTER = timedelta(days=7)


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(high, value))


def poll_interval(
    *,
    interval_override: timedelta | None,
    default_interval: timedelta,
    min_interval: timedelta,
    max_interval: timedelta,
    mean_gap: float | None,
    max_age: float | None,
) -> timedelta:
    """The interval `next_poll` adds to `now` (see the module docstring)."""
    if interval_override is not None:
        interval = interval_override
    elif mean_gap is not None:
        interval = _clamp(timedelta(seconds=mean_gap / 2), min_interval, max_interval)
    else:
        interval = _clamp(default_interval, min_interval, max_interval)
    if max_age is not None and max_age > 0:
        interval = max(interval, min(timedelta(seconds=max_age), max_interval))
    return interval


def next_poll(
    *,
    now: datetime,
    interval_override: timedelta | None,
    default_interval: timedelta,
    min_interval: timedelta,
    max_interval: timedelta,
    mean_gap: float | None,
    max_age: float | None,
) -> datetime:
    """When to poll a feed that just answered successfully."""
    return now + poll_interval(
        interval_override=interval_override,
        default_interval=default_interval,
        min_interval=min_interval,
        max_interval=max_interval,
        mean_gap=mean_gap,
        max_age=max_age,
    )


def update_mean_gap(
    previous: float | None, new_entries: int, since_last_new: float
) -> float | None:
    """Fold one poll into the smoothed gap between new entries (seconds)."""
    if since_last_new <= 0:
        return previous
    if new_entries > 0:
        observed = since_last_new / new_entries
        if previous is None:
            return observed
        return SMOOTHING * observed + (1 - SMOOTHING) * previous
    if previous is None or since_last_new <= previous:
        return previous
    return SMOOTHING * since_last_new + (1 - SMOOTHING) * previous


def backoff(
    failures: int,
    *,
    base: timedelta,
    cap: timedelta,
    rand: float,
    retry_after: float | None = None,
    retry_after_cap: timedelta = MAX_RETRY_AFTER,
) -> timedelta:
    """The wait after `failures` consecutive failures (1 = the first): `base` doubled per
    failure up to `cap`, with equal jitter (half fixed, half `rand` in [0, 1)), and never
    shorter than the server's Retry-After (itself at most `retry_after_cap`). Feeds and
    deliveries both back off by it."""
    exponent = min(max(failures, 1) - 1, 40)
    delay = min(base * (1 << exponent), cap)
    delay = delay / 2 + delay / 2 * min(max(rand, 0.0), 1.0)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(timedelta(seconds=retry_after), retry_after_cap))
    return delay


def error_backoff(
    *,
    now: datetime,
    error_count: int,
    base: timedelta,
    min_interval: timedelta,
    max_interval: timedelta,
    retry_after: float | None,
    rand: float,
) -> datetime:
    """When to poll a feed again after `error_count` consecutive errors (1 = the first):
    the backoff within [min_interval, max_interval], or later when Retry-After says so."""
    delay = backoff(error_count, base=base, cap=max_interval, rand=rand, retry_after=retry_after)
    return now + max(delay, min_interval)


@dataclass(frozen=True, slots=True)
class Success:
    """What a successful poll changes: when to poll next and the new smoothed gap."""

    next_poll_at: datetime
    mean_gap_seconds: float | None


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failed poll changes: state, when to try again, the 404 streak, Retry-After."""

    next_poll_at: datetime
    state: str  # erroring | retired
    first_404_at: datetime | None
    retry_after_until: datetime | None


def after_success(
    feed: FeedSchedule,
    polling: PollingConfig,
    *,
    now: datetime,
    new_entries: int,
    max_age: float | None,
) -> Success:
    """The schedule after a successful poll that found `new_entries`."""
    if feed.last_new_at is None:
        mean_gap = feed.mean_gap_seconds  # the first poll's entries are a backlog
    else:
        since_new = (now - feed.last_new_at).total_seconds()
        mean_gap = update_mean_gap(feed.mean_gap_seconds, new_entries, since_new)
    override = timedelta(seconds=feed.interval_seconds) if feed.interval_seconds else None
    next_at = next_poll(
        now=now,
        interval_override=override,
        default_interval=polling.default_interval,
        min_interval=polling.min_interval,
        max_interval=polling.max_interval,
        mean_gap=mean_gap,
        max_age=max_age,
    )
    return Success(next_at, mean_gap)


def after_failure(
    feed: FeedSchedule,
    polling: PollingConfig,
    *,
    now: datetime,
    status: int | None,
    retry_after: float | None,
    rand: float,
) -> Failure:
    """The schedule after a failed poll (`status`: the HTTP status, None for no answer)."""
    state, first_404 = "erroring", feed.first_404_at
    if status == 410:
        state = "retired"
    elif status == 404:
        first_404 = first_404 or now
        if now - first_404 >= polling.retire_after_404:
            state = "retired"
    else:
        first_404 = None
    next_at = error_backoff(
        now=now,
        error_count=feed.error_count + 1,
        base=polling.default_interval / 8,
        min_interval=polling.min_interval,
        max_interval=polling.max_interval,
        retry_after=retry_after,
        rand=rand,
    )
    window = now + timedelta(seconds=retry_after) if retry_after else None
    return Failure(next_at, state, first_404, window)
