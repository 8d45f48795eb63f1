"""The adaptive poll interval, the mean-gap estimate and error backoff (pure, `now` injected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import PollingConfig
from monitor.models import FeedSchedule
from monitor.pipeline.schedule import (
    MAX_RETRY_AFTER,
    Failure,
    after_failure,
    after_success,
    error_backoff,
    next_poll,
    poll_interval,
    update_mean_gap,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MIN, DEFAULT, MAX = timedelta(minutes=2), timedelta(minutes=15), timedelta(hours=6)


def interval(
    mean_gap: float | None = None,
    max_age: float | None = None,
    override: timedelta | None = None,
    default: timedelta = DEFAULT,
) -> timedelta:
    return poll_interval(
        interval_override=override,
        default_interval=default,
        min_interval=MIN,
        max_interval=MAX,
        mean_gap=mean_gap,
        max_age=max_age,
    )


def test_a_feed_without_history_is_polled_at_the_default() -> None:
    assert interval() == DEFAULT
    assert interval(default=timedelta(seconds=10)) == MIN
    assert interval(default=timedelta(days=1)) == MAX


def test_interval_is_half_the_mean_gap_between_new_entries() -> None:
    assert interval(mean_gap=3600) == timedelta(minutes=30)  # hourly feed: every 30 min
    assert interval(mean_gap=60) == MIN  # breaking news: as often as allowed
    assert interval(mean_gap=86400) == MAX  # daily feed: as rarely as allowed


def test_the_per_feed_override_wins() -> None:
    assert interval(mean_gap=60, override=timedelta(minutes=10)) == timedelta(minutes=10)
    assert interval(override=timedelta(minutes=1)) == timedelta(minutes=1)


def test_cache_control_max_age_is_a_floor_capped_at_max_interval() -> None:
    assert interval(mean_gap=60, max_age=900) == timedelta(minutes=15)
    assert interval(mean_gap=7200, max_age=60) == timedelta(hours=1)  # floor below: no effect
    assert interval(mean_gap=60, max_age=10 * 86400) == MAX
    assert interval(mean_gap=60, max_age=0) == MIN
    assert interval(override=timedelta(minutes=1), max_age=600) == timedelta(minutes=10)


def test_next_poll_adds_the_interval_to_now() -> None:
    when = next_poll(
        now=NOW,
        interval_override=None,
        default_interval=DEFAULT,
        min_interval=MIN,
        max_interval=MAX,
        mean_gap=1200,
        max_age=None,
    )
    assert when == NOW + timedelta(minutes=10)


def test_mean_gap_starts_from_the_first_observation_and_smooths() -> None:
    assert update_mean_gap(None, 4, 3600) == 900
    assert update_mean_gap(900, 1, 1800) == pytest.approx(0.3 * 1800 + 0.7 * 900)


def test_silence_raises_the_gap_but_never_lowers_it() -> None:
    assert update_mean_gap(600, 0, 7200) == pytest.approx(0.3 * 7200 + 0.7 * 600)
    assert update_mean_gap(600, 0, 300) == 600  # shorter than usual: nothing learned
    assert update_mean_gap(None, 0, 7200) is None  # no rhythm known yet
    assert update_mean_gap(600, 3, 0) == 600  # no time passed


def simulate(gap_seconds: float, poll_rounds: int = 60) -> timedelta:
    """Poll a feed posting one entry every `gap_seconds`, adapting as we go."""
    mean_gap, clock, last_new, posted = None, 0.0, 0.0, 0
    for _ in range(poll_rounds):
        step = interval(mean_gap=mean_gap)
        clock += step.total_seconds()
        now_posted = int(clock // gap_seconds)
        new, posted = now_posted - posted, now_posted
        mean_gap = update_mean_gap(mean_gap, new, clock - last_new)
        if new:
            last_new = clock
    return interval(mean_gap=mean_gap)


def test_an_hourly_feed_is_not_polled_every_two_minutes() -> None:
    assert timedelta(minutes=20) <= simulate(3600) <= timedelta(minutes=45)


def test_a_breaking_news_feed_is_not_polled_every_six_hours() -> None:
    assert simulate(90) == MIN


def test_a_feed_that_goes_quiet_backs_off_to_max_interval() -> None:
    mean_gap = 600.0
    for hours in range(1, 40):
        mean_gap = update_mean_gap(mean_gap, 0, hours * 3600) or mean_gap
    assert interval(mean_gap=mean_gap) == MAX


@given(
    mean_gap=st.one_of(st.none(), st.floats(0, 10**8)),
    max_age=st.one_of(st.none(), st.floats(0, 10**8)),
)
def test_adaptive_interval_stays_within_bounds(
    mean_gap: float | None, max_age: float | None
) -> None:
    assert MIN <= interval(mean_gap=mean_gap, max_age=max_age) <= MAX


# --- error backoff --------------------------------------------------------------------------


def backoff(
    errors: int,
    rand: float = 0.0,
    retry_after: float | None = None,
    min_interval: timedelta = timedelta(seconds=1),
) -> timedelta:
    when = error_backoff(
        now=NOW,
        error_count=errors,
        base=timedelta(minutes=1),
        min_interval=min_interval,
        max_interval=MAX,
        retry_after=retry_after,
        rand=rand,
    )
    return when - NOW


def test_backoff_doubles_with_equal_jitter() -> None:
    assert backoff(1, rand=0.0) == timedelta(seconds=30)
    assert backoff(1, rand=1.0) == timedelta(minutes=1)
    assert backoff(3, rand=0.0) == timedelta(minutes=2)
    assert backoff(3, rand=0.5) == timedelta(minutes=3)


def test_backoff_is_capped_at_max_interval() -> None:
    assert backoff(50, rand=1.0) == MAX
    assert backoff(10_000, rand=0.99) <= MAX


def test_retry_after_is_honoured_when_longer_up_to_a_week() -> None:
    assert backoff(1, retry_after=3600) == timedelta(hours=1)
    assert backoff(10, rand=1.0, retry_after=5) == MAX
    assert backoff(1, retry_after=90 * 86400) == MAX_RETRY_AFTER


def test_backoff_is_never_shorter_than_min_interval() -> None:
    # "adaptive between min and max": an erroring feed is not polled more often than a
    # healthy one may be (seen: 97 s after a failure with min_interval = 2m)
    assert backoff(1, rand=0.0, min_interval=MIN) == MIN
    assert backoff(1, rand=1.0, min_interval=MIN) == MIN
    assert backoff(3, rand=0.5, min_interval=MIN) == timedelta(minutes=3)  # above it: as before
    assert backoff(1, retry_after=3600, min_interval=MIN) == timedelta(hours=1)


@given(
    errors=st.integers(1, 200),
    rand=st.floats(0, 1),
    minimum=st.timedeltas(timedelta(seconds=1), MAX),
    retry_after=st.one_of(st.none(), st.floats(0, 10**7)),
)
def test_error_backoff_stays_between_min_and_max_unless_retry_after_says_later(
    errors: int, rand: float, minimum: timedelta, retry_after: float | None
) -> None:
    waited = backoff(errors, rand, retry_after, min_interval=minimum)
    assert minimum <= waited
    assert waited <= max(MAX, timedelta(seconds=retry_after or 0))


@given(errors=st.integers(1, 200), rand=st.floats(0, 1))
def test_backoff_never_shrinks_as_errors_grow(errors: int, rand: float) -> None:
    assert timedelta(seconds=30) <= backoff(errors, rand) <= backoff(errors + 1, rand) <= MAX


# --- outcome rules: what one poll changes ---------------------------------------------------

POLLING = PollingConfig()  # default 15 min, min 2 min, max 6 h, 404s retired after 7 days


def failure(feed: FeedSchedule, status: int | None, retry_after: float | None = None) -> Failure:
    return after_failure(feed, POLLING, now=NOW, status=status, retry_after=retry_after, rand=0.0)


def test_410_retires_a_feed_at_once() -> None:
    assert failure(FeedSchedule(), 410).state == "retired"


def test_404_retires_a_feed_only_after_a_week_of_them() -> None:
    first = failure(FeedSchedule(), 404)
    assert (first.state, first.first_404_at) == ("erroring", NOW)
    six_days = failure(FeedSchedule(error_count=3, first_404_at=NOW - timedelta(days=6)), 404)
    assert (six_days.state, six_days.first_404_at) == ("erroring", NOW - timedelta(days=6))
    week = failure(FeedSchedule(error_count=9, first_404_at=NOW - timedelta(days=7)), 404)
    assert week.state == "retired"


def test_another_error_ends_the_404_streak() -> None:
    result = failure(FeedSchedule(error_count=2, first_404_at=NOW - timedelta(days=6)), 500)
    assert (result.state, result.first_404_at) == ("erroring", None)


def test_errors_back_off_from_an_eighth_of_the_default_interval_never_below_min() -> None:
    base = DEFAULT / 8
    assert failure(FeedSchedule(), None).next_poll_at == NOW + MIN  # base / 2 is under 2 min
    assert failure(FeedSchedule(error_count=2), None).next_poll_at == NOW + base * 4 / 2
    fast = PollingConfig.model_validate({"default_interval": "2s", "min_interval": "2s"})
    for errors in range(3):
        broken = FeedSchedule(error_count=errors)
        decided = after_failure(broken, fast, now=NOW, status=500, retry_after=None, rand=0.0)
        assert decided.next_poll_at == NOW + timedelta(seconds=2)  # not 0.125 s, 0.25 s …


def test_retry_after_opens_a_window_and_delays_the_next_poll() -> None:
    result = failure(FeedSchedule(), 429, retry_after=3600)
    assert result.retry_after_until == NOW + timedelta(hours=1)
    assert result.next_poll_at == NOW + timedelta(hours=1)
    assert failure(FeedSchedule(), 503).retry_after_until is None


def test_the_first_success_leaves_the_gap_alone_later_ones_adapt_it() -> None:
    first = after_success(FeedSchedule(), POLLING, now=NOW, new_entries=40, max_age=None)
    assert (first.mean_gap_seconds, first.next_poll_at) == (None, NOW + DEFAULT)
    known = FeedSchedule(last_new_at=NOW - timedelta(hours=2), mean_gap_seconds=3600.0)
    later = after_success(known, POLLING, now=NOW, new_entries=1, max_age=None)
    assert later.mean_gap_seconds == pytest.approx(0.3 * 7200 + 0.7 * 3600)
    assert later.next_poll_at == NOW + timedelta(seconds=later.mean_gap_seconds / 2)


def test_the_interval_override_and_max_age_hold_after_a_success() -> None:
    fixed = FeedSchedule(last_new_at=NOW, mean_gap_seconds=60.0, interval_seconds=3600.0)
    assert after_success(fixed, POLLING, now=NOW, new_entries=0, max_age=None).next_poll_at == (
        NOW + timedelta(hours=1)
    )
    cached = after_success(FeedSchedule(), POLLING, now=NOW, new_entries=0, max_age=1800)
    assert cached.next_poll_at == NOW + timedelta(minutes=30)
