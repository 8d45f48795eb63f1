"""The pure surge/quiet detector: the exact Poisson tail, expectations from history, the
episode state machine, quiet decisions, counting stories not articles, and the seeded
simulator's figures at CI size (the large runs are `-m slow` in tests/unit/test_trends_sim.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from monitor.trends import (
    HOUR,
    Activity,
    MatchedArticle,
    QuietPolicy,
    SurgePolicy,
    aggregate_counts,
    assess_surge,
    episode_step,
    expected_series,
    hour_floor,
    is_quiet,
    learn_baseline,
    poisson_band,
    poisson_sf,
)

START = datetime(2026, 1, 5, tzinfo=UTC)


def _exact_sf(k: int, mu: Fraction) -> float:
    """P(X ≥ k): the upper sum of mu^i/i! in exact rationals (300 terms past k: the rest is
    far below double precision for these mu), times e^-mu."""
    term = Fraction(1)
    for i in range(k):
        term = term * mu / (i + 1)
    upper = Fraction(0)
    for i in range(k, k + 300):
        upper += term
        term = term * mu / (i + 1)
    return float(upper * Fraction(math.exp(-float(mu))))


@pytest.mark.parametrize(
    ("k", "mu"), [(0, 2.0), (1, 0.5), (3, 3.0), (5, 0.5), (12, 2.5), (30, 6.0), (60, 10.0)]
)
def test_the_poisson_tail_is_exact_even_far_out(k: int, mu: float) -> None:
    expected = _exact_sf(k, Fraction(mu))
    assert poisson_sf(k, mu) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_the_poisson_tail_has_no_cancellation_where_the_lower_sum_is_one() -> None:
    # 1 - lower tail would round to 0.0 here; the direct upper sum keeps the value
    assert 0 < poisson_sf(60, 1.0) < 1e-80
    assert poisson_sf(0, 0.0) == 1.0
    assert poisson_sf(3, 0.0) == 0.0


def _flat(rate_per_hour: int, days: int) -> dict[datetime, int]:
    return {START + HOUR * i: rate_per_hour for i in range(days * 24)}


def test_no_expectation_without_a_day_of_history() -> None:
    counts = _flat(1, 1)
    now = START + timedelta(hours=20)
    assert assess_surge(counts, now, SurgePolicy(), START) is None
    assert assess_surge(counts, now, SurgePolicy(), None) is None


def test_a_flat_baseline_counts_one_extra_story_so_nothing_expected_is_never_zero() -> None:
    baseline = learn_baseline({}, START + timedelta(days=3), timedelta(days=14), START)
    assert baseline is not None
    assert baseline.seasonal is None
    assert baseline.flat == pytest.approx(1 / 72)


def test_with_two_weeks_the_busy_hour_of_the_week_expects_more_never_less() -> None:
    counts = _flat(1, 14)
    monday_nine = [START + timedelta(days=d, hours=9) for d in (0, 7)]
    for hour in monday_nine:
        counts[hour] = 11
    baseline = learn_baseline(counts, START + timedelta(days=14), timedelta(days=14), START)
    assert baseline is not None
    assert baseline.seasonal is not None
    assert baseline.rate(START + timedelta(days=14, hours=9)) > 5 * baseline.flat
    counts[START + timedelta(days=1, hours=3)] = 0  # a quiet slot: still the flat rate
    counts[START + timedelta(days=8, hours=3)] = 0
    quiet = learn_baseline(counts, START + timedelta(days=14), timedelta(days=14), START)
    assert quiet is not None
    assert quiet.rate(START + timedelta(days=15, hours=3)) == quiet.flat


def test_a_burst_opens_an_episode_that_stays_open_until_counts_fall_back() -> None:
    counts = _flat(0, 14)
    for i in range(0, 14 * 24, 12):  # two stories a day
        counts[START + HOUR * i] = 1
    now = START + timedelta(days=14, hours=2, minutes=30)
    counts[hour_floor(now)] = 8
    test = assess_surge(counts, now, SurgePolicy(), START)
    assert test is not None
    assert test.surging
    assert test.observed == 8
    assert test.p_value <= 0.001
    assert test.factor >= 3
    assert episode_step(False, test) == "open"
    assert episode_step(True, test) is None  # cool-down: no second alert
    later = now + timedelta(hours=3)
    still = assess_surge(counts, later, SurgePolicy(), START)
    assert still is not None
    assert still.above
    assert episode_step(True, still) is None
    gone = assess_surge(counts, now + timedelta(hours=7), SurgePolicy(), START)
    assert gone is not None
    assert not gone.above
    assert episode_step(True, gone) == "close"


def test_min_stories_factor_and_p_value_each_hold_a_surge_back() -> None:
    counts = {START + HOUR * i: 1 for i in range(0, 14 * 24, 24)}  # one story a day
    now = START + timedelta(days=14, hours=1)
    counts[hour_floor(now)] = 4  # 4 < min_stories
    test = assess_surge(counts, now, SurgePolicy(), START)
    assert test is not None
    assert not test.surging
    busy = _flat(4, 14)  # 4 an hour: 24 expected in 6 h
    busy[hour_floor(now)] = 12  # 3× in the last hour, but 12 in an hour at 4/h is p ≈ 6e-4 · 6
    test = assess_surge(busy, now, SurgePolicy(), START)
    assert test is not None
    assert not test.surging
    assert not assess_surge(busy, now, SurgePolicy(factor=4), START).surging  # type: ignore[union-attr]


def test_expected_series_is_none_before_history_and_a_rate_after() -> None:
    counts = _flat(2, 10)
    hours = [START + timedelta(hours=12), START + timedelta(days=5)]
    series = expected_series(counts, hours, timedelta(days=14), START)
    assert series[0] is None
    assert series[1] == pytest.approx((2 * 24 * 5 + 1) / (24 * 5))


def test_quiet_needs_a_usually_busy_subject_and_the_whole_after() -> None:
    policy = QuietPolicy(after=timedelta(hours=24), min_daily=3)
    now = START + timedelta(days=20)
    busy = Activity(now - timedelta(hours=25), 14 * 5, START)
    assert is_quiet(busy, policy, now)
    assert not is_quiet(Activity(now - timedelta(hours=23), 70, START), policy, now)
    assert not is_quiet(Activity(now - timedelta(hours=25), 14 * 2, START), policy, now)
    assert not is_quiet(Activity(None, 0, None), policy, now)


def test_twenty_syndicated_copies_count_as_one_story_and_twenty_outlets() -> None:
    at = START + timedelta(hours=3, minutes=10)
    rows = [
        MatchedArticle("isis-k", "ISIS-Khorasan", 7, feed, at + timedelta(minutes=feed))
        for feed in range(20)
    ]
    rows.append(MatchedArticle("isis-k", "", 8, 1, at))
    buckets = aggregate_counts(rows, set())
    hour = hour_floor(at)
    assert buckets[("isis-k", "", hour)] == (2, 20)
    assert buckets[("isis-k", "ISIS-Khorasan", hour)] == (1, 20)


def test_a_story_counts_in_the_hour_it_first_matched_only() -> None:
    first = START + timedelta(hours=1, minutes=5)
    rows = [
        MatchedArticle("w", "", 1, 1, first + timedelta(hours=2)),
        MatchedArticle("w", "", 1, 2, first),
    ]
    buckets = aggregate_counts(rows, set())
    assert buckets[("w", "", hour_floor(first))] == (1, 1)
    assert buckets[("w", "", hour_floor(first) + 2 * HOUR)] == (0, 1)
    earlier = aggregate_counts(rows[:1], {("w", "", 1)})
    assert earlier[("w", "", hour_floor(first) + 2 * HOUR)] == (0, 1)


def test_an_article_counts_when_published_unless_the_date_is_implausible() -> None:
    fetched = START + timedelta(days=3)

    def seen(published: datetime | None) -> datetime | None:
        return MatchedArticle("w", "", 1, 1, fetched, published).seen_at

    assert seen(None) == fetched
    assert seen(fetched - timedelta(hours=5)) == fetched - timedelta(hours=5)  # a backlog
    assert seen(fetched + timedelta(hours=5)) == fetched  # a date in the future
    assert seen(fetched - timedelta(days=3)) is None  # a new feed's back catalogue
    assert aggregate_counts([MatchedArticle("w", "", 1, 1, fetched, START)], set()) == {}


@pytest.mark.parametrize("mu", [0.05, 0.7, 3.0, 12.5, 80.0])
def test_the_band_holds_all_but_the_tails(mu: float) -> None:
    low, high = poisson_band(mu)
    assert 1 - poisson_sf(low, mu) < 0.025 <= 1 - poisson_sf(low + 1, mu)  # P(X < low)
    assert poisson_sf(high + 1, mu) <= 0.025 < poisson_sf(high, mu)  # P(X > high)
