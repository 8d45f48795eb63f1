"""The surge detector over seeded simulated timelines (tests/support/trend_sim.py): false surges per
watchlist-month on stationary Poisson streams, the delay to detect a 5× burst, and the share
of 3× bursts detected. CI runs a few seeds; `pytest -m slow` runs the full measurement and
prints the table quoted in the README."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.trends import SurgePolicy
from tests.support.trend_sim import burst_trials, false_surges_per_month

POLICY = SurgePolicy()  # the documented defaults
FIVE_FOLD = timedelta(hours=6)
THREE_FOLD = timedelta(hours=24)


def test_stationary_streams_raise_few_false_surges() -> None:
    rates = false_surges_per_month((6.0, 24.0), 60, range(2), POLICY)
    assert max(rates.values()) <= 0.5, rates


def test_a_five_fold_burst_is_detected_within_two_hours() -> None:
    result = burst_trials(96.0, 5.0, FIVE_FOLD, range(4), POLICY)
    assert result.rate == 1.0
    assert result.worst_delay <= timedelta(hours=2), result.delays


def test_three_fold_bursts_are_detected() -> None:
    result = burst_trials(96.0, 3.0, THREE_FOLD, range(4), POLICY)
    assert result.rate == 1.0, result


@pytest.mark.slow
def test_measure_the_detector_on_sixty_simulated_days() -> None:
    rates = (2.0, 6.0, 24.0, 96.0)
    false = false_surges_per_month(rates, 60, range(20), POLICY)
    print("\nstories/day  false surges per watchlist-month")
    for rate, value in false.items():
        print(f"{rate:10.0f}  {value:.3f}")
    print("stories/day  burst  detected  median delay  worst delay")
    results = {}
    for rate in (6.0, 24.0, 96.0):
        for multiplier, duration in ((5.0, FIVE_FOLD), (3.0, THREE_FOLD)):
            result = burst_trials(rate, multiplier, duration, range(40), POLICY)
            results[(rate, multiplier)] = result
            delays = (result.median_delay, result.worst_delay) if result.delays else ("-", "-")
            print(
                f"{rate:10.0f}  {multiplier:.0f}× {duration}  {result.rate:6.0%}"
                f"  {delays[0]}  {delays[1]}"
            )
    assert max(false.values()) <= 0.5
    assert results[(24.0, 5.0)].median_delay <= timedelta(hours=2)
    assert results[(96.0, 5.0)].worst_delay <= timedelta(hours=2)
    assert results[(96.0, 3.0)].rate >= 0.9
