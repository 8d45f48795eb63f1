"""A seeded simulator of a watchlist's story timeline, and the detector run over it hour by
hour as the service runs it: stationary Poisson streams, bursts of known onset and size,
and the figures the surge issue asks for (false surges per watchlist-month, detection delay,
detection rate)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.trends import HOUR, SurgePolicy, assess_surge, episode_step

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC
MONTH_DAYS = 30.0


def poisson(rng: random.Random, mu: float) -> int:
    """One Poisson(mu) draw (Knuth's product method; fine for the per-hour rates used here)."""
    limit, product, k = math.exp(-mu), rng.random(), 0
    while product > limit:
        product *= rng.random()
        k += 1
    return k


@dataclass(frozen=True)
class Burst:
    onset: datetime
    duration: timedelta
    multiplier: float


def timeline(
    rate_per_day: float,
    days: int,
    seed: int,
    bursts: tuple[Burst, ...] = (),
    start: datetime = START,
) -> dict[datetime, int]:
    """Stories per hour: Poisson at `rate_per_day`, times each burst's multiplier inside it."""
    rng = random.Random(seed)
    counts: dict[datetime, int] = {}
    for index in range(days * 24):
        hour = start + HOUR * index
        mu = rate_per_day / 24
        for burst in bursts:
            if burst.onset <= hour < burst.onset + burst.duration:
                mu *= burst.multiplier
        drawn = poisson(rng, mu)
        if drawn:
            counts[hour] = drawn
    return counts


def detect(
    counts: dict[datetime, int],
    policy: SurgePolicy,
    first: datetime,
    end: datetime,
    history_start: datetime = START,
) -> list[datetime]:
    """The evaluation times (end of each hour) at which a surge episode opened."""
    opened: list[datetime] = []
    episode = False
    hour = first
    while hour < end:
        now = hour + HOUR - timedelta(seconds=1)  # the last evaluation inside the hour
        step = episode_step(episode, assess_surge(counts, now, policy, history_start))
        if step == "open":
            episode = True
            opened.append(hour + HOUR)
        elif step == "close":
            episode = False
        hour += HOUR
    return opened


def false_surges_per_month(
    rates: tuple[float, ...], days: int, seeds: range, policy: SurgePolicy
) -> dict[float, float]:
    """Surge episodes per watchlist-month on stationary streams, per rate (stories/day)."""
    result = {}
    first = START + policy.baseline  # evaluate once a full baseline exists
    end = START + timedelta(days=days)
    months = (end - first) / timedelta(days=MONTH_DAYS)
    for rate in rates:
        total = sum(len(detect(timeline(rate, days, seed), policy, first, end)) for seed in seeds)
        result[rate] = total / (months * len(seeds))
    return result


@dataclass(frozen=True)
class BurstResult:
    detected: int
    trials: int
    delays: tuple[timedelta, ...]

    @property
    def rate(self) -> float:
        return self.detected / self.trials

    @property
    def worst_delay(self) -> timedelta:
        return max(self.delays)

    @property
    def median_delay(self) -> timedelta:
        ordered = sorted(self.delays)
        return ordered[len(ordered) // 2]


def burst_trials(
    rate_per_day: float,
    multiplier: float,
    duration: timedelta,
    seeds: range,
    policy: SurgePolicy,
    days: int = 60,
) -> BurstResult:
    """Inject one burst per seeded timeline at a seeded onset after the baseline; count the
    bursts detected while they lasted and the delay from onset to the surge alert."""
    delays = []
    for seed in seeds:
        rng = random.Random(seed * 7919)
        onset_hour = rng.randrange(int(policy.baseline / HOUR) + 24, days * 24 - 48)
        onset = START + HOUR * onset_hour
        counts = timeline(rate_per_day, days, seed, (Burst(onset, duration, multiplier),))
        opened = detect(counts, policy, onset, onset + duration)
        if opened:
            delays.append(opened[0] - onset)
    return BurstResult(len(delays), len(seeds), tuple(delays))
