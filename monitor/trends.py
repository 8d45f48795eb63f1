"""Surges and silences of a watchlist's coverage, decided purely from hourly story counts.

**Expected count.** A watchlist's stories per hour over the trailing `baseline` (the hours
just before the observed window) give a flat rate, `(stories + 1) / hours` (the `+1` keeps
a watchlist that never matched from having an expectation of exactly zero). With at least
two weeks of history the rate follows the hour of the week, shrunk towards the flat rate by
`SHRINK_WEEKS` pseudo-weeks, `(stories at that hour of week + SHRINK_WEEKS · flat) / (weeks
+ SHRINK_WEEKS)`, and never below the flat rate: busy hours (the morning news) expect more,
but two quiet Sunday mornings do not make one story on a Sunday a surge.
With less than `MIN_HISTORY` of history there is no expectation and no decision.

**Surge.** Over the last `window` (whole hours, the current one included), `observed`
stories against `expected`: a surge starts when `observed ≥ max(min_stories, factor ·
expected)` and the Poisson upper tail `P(X ≥ observed | expected) ≤ p_value`. It lasts
(cool-down, one alert per episode) until `observed` falls below that threshold again —
the p-value is not re-tested, so an episode does not flap on a p-value hovering at the
limit.

**Quiet.** A watchlist or feed tag whose usual daily count is at least `min_daily` and that
got no story for `after` is quiet, once per silence: the silence is identified by the time
of its last story.

No I/O, no clock: every function takes `now` and counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)
WEEK_HOURS = 7 * 24
MIN_HISTORY = timedelta(days=1)
SEASONAL_HISTORY = timedelta(days=14)
SHRINK_WEEKS = 2.0

Counts = Mapping[datetime, int]  # hour start (UTC) -> stories; hours absent count zero


@dataclass(frozen=True, slots=True)
class SurgePolicy:
    """A watchlist's `surge = {…}` settings."""

    window: timedelta = timedelta(hours=6)
    baseline: timedelta = timedelta(days=14)
    factor: float = 3.0
    min_stories: int = 5
    p_value: float = 0.001


@dataclass(frozen=True, slots=True)
class QuietPolicy:
    """A watchlist's (or the coverage section's) `quiet = {…}` settings."""

    after: timedelta = timedelta(hours=24)
    min_daily: float = 3.0
    baseline: timedelta = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class SurgeAssessment:
    """The window's observation against its expectation, and what it means."""

    window_start: datetime
    observed: int
    expected: float
    threshold: float  # max(min_stories, factor · expected)
    p_value: float
    surging: bool  # opens an episode
    above: bool  # keeps an open episode open

    @property
    def factor(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf


def hour_floor(moment: datetime) -> datetime:
    """The start of the UTC hour holding `moment`."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Hour starts from hour_floor(start) up to, not including, `end`."""
    hour, hours = hour_floor(start), []
    while hour < end:
        hours.append(hour)
        hour += HOUR
    return hours


def poisson_sf(k: int, mu: float) -> float:
    """P(X ≥ k) for X ~ Poisson(mu), exact to double precision (no subtraction near 0)."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    if k <= mu:  # the upper tail is large: 1 - lower tail loses nothing that matters
        term, lower = math.exp(-mu), 0.0
        for i in range(k):
            lower += term
            term *= mu / (i + 1)
        return max(0.0, 1.0 - lower)
    term = math.exp(-mu + k * math.log(mu) - math.lgamma(k + 1))
    total, i = 0.0, k
    while term > total * 1e-17 and term > 0:
        total += term
        i += 1
        term *= mu / i
    return min(1.0, total)


def poisson_band(mu: float, tail: float = 0.025) -> tuple[int, int]:
    """The central interval [low, high] of Poisson(mu), as tight as possible with
    P(X < low) < tail and P(X > high) ≤ tail: the band a chart draws around the expected."""
    low = 0
    while poisson_sf(low + 1, mu) > 1 - tail:
        low += 1
    high = low
    while poisson_sf(high + 1, mu) > tail:
        high += 1
    return low, high


def _hour_of_week(hour: datetime) -> int:
    return hour.weekday() * 24 + hour.hour


@dataclass(frozen=True, slots=True)
class Baseline:
    """Expected stories per hour, learnt from the hours before a window."""

    flat: float
    seasonal: Mapping[int, float] | None  # hour of week -> rate, None when too little history

    def rate(self, hour: datetime) -> float:
        """The hour's expected stories. The seasonal rate only ever raises the flat one:
        two weeks give each hour of the week two samples, too few to trust a low one."""
        if self.seasonal is None:
            return self.flat
        return max(self.flat, self.seasonal[_hour_of_week(hour)])

    def expected(self, hours: Sequence[datetime]) -> float:
        return sum(self.rate(hour) for hour in hours)


def learn_baseline(
    counts: Counts, end: datetime, span: timedelta, history_start: datetime
) -> Baseline | None:
    """The baseline of the `span` before `end` (no earlier than `history_start`), or None
    with less than MIN_HISTORY of history."""
    start = max(end - span, hour_floor(history_start))
    hours = hours_between(start, end)
    if len(hours) * HOUR < MIN_HISTORY:
        return None
    total = sum(counts.get(hour, 0) for hour in hours)
    flat = (total + 1) / len(hours)
    if len(hours) * HOUR < SEASONAL_HISTORY:
        return Baseline(flat, None)
    sums = [0.0] * WEEK_HOURS
    seen = [0] * WEEK_HOURS
    for hour in hours:
        slot = _hour_of_week(hour)
        sums[slot] += counts.get(hour, 0)
        seen[slot] += 1
    seasonal = {
        slot: (sums[slot] + SHRINK_WEEKS * flat) / (seen[slot] + SHRINK_WEEKS)
        for slot in range(WEEK_HOURS)
    }
    return Baseline(flat, seasonal)


def whole_hours(span: timedelta) -> timedelta:
    """`span` rounded up to whole hours, at least one: the unit stories are counted in."""
    return HOUR * max(1, math.ceil(span / HOUR))


def window_hours(now: datetime, window: timedelta) -> list[datetime]:
    """The whole hours of the window ending with the hour holding `now`."""
    current = hour_floor(now)
    count = max(1, math.ceil(window / HOUR))
    return [current - HOUR * i for i in range(count - 1, -1, -1)]


def _test(
    counts: Counts,
    hours: Sequence[datetime],
    baseline: Baseline,
    policy: SurgePolicy,
    scanned: int,
) -> SurgeAssessment:
    observed = sum(counts.get(hour, 0) for hour in hours)
    expected = baseline.expected(hours)
    threshold = max(float(policy.min_stories), policy.factor * expected)
    p = min(1.0, poisson_sf(observed, expected) * scanned)
    above = observed >= threshold
    return SurgeAssessment(
        hours[0], observed, expected, threshold, p, above and p <= policy.p_value, above
    )


def assess_surge(
    counts: Counts, now: datetime, policy: SurgePolicy, history_start: datetime | None
) -> SurgeAssessment | None:
    """The surge test at `now`, or None while there is too little history to expect anything.

    Every trailing run of whole hours up to `window` is tested (the last hour, the last two
    … the whole window), so a sharp burst is seen within an hour or two and a slow one over
    the window; each p-value is multiplied by the number of runs tested (Bonferroni), so
    scanning does not raise the false-alarm rate above what `p_value` promises. The answer is the surging run with the smallest p-value, else the run
    furthest above its threshold (which keeps an episode open), else the whole window.
    """
    if history_start is None:
        return None
    hours = window_hours(now, policy.window)
    baseline = learn_baseline(counts, hours[0], policy.baseline, history_start)
    if baseline is None:
        return None
    scanned = len(hours)
    tests = [_test(counts, hours[i:], baseline, policy, scanned) for i in range(scanned)]
    surging = [t for t in tests if t.surging]
    if surging:
        return min(surging, key=lambda t: (t.p_value, t.window_start))
    above = [t for t in tests if t.above]
    if above:
        return max(above, key=lambda t: (t.observed / t.threshold, t.window_start))
    return tests[0]


def episode_step(open_episode: bool, assessment: SurgeAssessment | None) -> str | None:
    """What to do with a watchlist's surge episode: "open", "close" or nothing (None)."""
    if assessment is None:
        return None
    if not open_episode:
        return "open" if assessment.surging else None
    return None if assessment.above else "close"


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One bucket of a trend series: stories seen, stories expected."""

    start: datetime
    stories: int
    outlets: int
    expected: float | None


def expected_series(
    counts: Counts,
    hours: Sequence[datetime],
    baseline_span: timedelta,
    history_start: datetime | None,
) -> list[float | None]:
    """The expected count of each hour, each learnt from the `baseline_span` before it
    (as the surge test would have), None where history was too short."""
    if history_start is None:
        return [None] * len(hours)
    result: list[float | None] = []
    cache: dict[datetime, Baseline | None] = {}
    for hour in hours:
        day = hour.replace(hour=0)  # relearn once a day: the baseline barely moves in an hour
        if day not in cache:
            cache[day] = learn_baseline(counts, day, baseline_span, history_start)
        baseline = cache[day]
        result.append(None if baseline is None else baseline.rate(hour))
    return result


@dataclass(frozen=True, slots=True)
class Activity:
    """What quiet is decided from: the subject's last story and its usual daily count."""

    last_story_at: datetime | None
    stories_in_baseline: int
    history_start: datetime | None


def daily_mean(activity: Activity, policy: QuietPolicy, now: datetime) -> float:
    """Stories per day over the baseline (or the history, when shorter)."""
    if activity.history_start is None:
        return 0.0
    span = min(policy.baseline, now - activity.history_start)
    days = span / timedelta(days=1)
    return activity.stories_in_baseline / days if days >= 1 else 0.0


def is_quiet(activity: Activity, policy: QuietPolicy, now: datetime) -> bool:
    """True when a usually busy subject has had no story for `after`."""
    if activity.last_story_at is None:
        return False
    if now - activity.last_story_at < policy.after:
        return False
    return daily_mean(activity, policy, now) >= policy.min_daily


BACKDATE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class MatchedArticle:
    """One stored match, reduced to what the counts need."""

    watchlist: str
    actor: str  # "" for a plain term
    story_id: int
    feed_id: int
    fetched_at: datetime
    published_at: datetime | None = None

    @property
    def seen_at(self) -> datetime | None:
        """When the article counts: its publish time when that lies within BACKDATE before
        it was fetched (so a backlog fetched after downtime falls in the hours it was
        published, not in one spike), its fetch time when the date is missing or in the
        future, and never (None) when it was published longer ago: a new feed's back
        catalogue is not new coverage."""
        published = self.published_at
        if published is None or published > self.fetched_at:
            return self.fetched_at
        if self.fetched_at - published > BACKDATE:
            return None
        return published


Bucket = tuple[str, str, datetime]  # (watchlist, actor or "" for the whole watchlist, hour)


def aggregate_counts(
    rows: Sequence[MatchedArticle], counted_before: set[tuple[str, str, int]]
) -> dict[Bucket, tuple[int, int]]:
    """(stories, outlets) per bucket. A story counts once, in the hour its first matched
    article was seen (twenty syndicated copies are one story); `counted_before` holds the
    (watchlist, actor, story) already counted in an earlier hour. Outlets are the distinct
    feeds of the matched articles seen in the hour. Archive articles count nowhere."""
    first: dict[tuple[str, str, int], datetime] = {}
    outlets: dict[Bucket, set[int]] = {}
    for row in rows:
        seen = row.seen_at
        if seen is None:
            continue
        for actor in {"", row.actor}:
            key = (row.watchlist, actor, row.story_id)
            if key not in counted_before and (key not in first or seen < first[key]):
                first[key] = seen
            outlets.setdefault((row.watchlist, actor, hour_floor(seen)), set()).add(row.feed_id)
    stories: dict[Bucket, int] = {}
    for (watchlist, actor, _story), seen in first.items():
        bucket = (watchlist, actor, hour_floor(seen))
        stories[bucket] = stories.get(bucket, 0) + 1
    return {bucket: (stories.get(bucket, 0), len(feeds)) for bucket, feeds in outlets.items()}
