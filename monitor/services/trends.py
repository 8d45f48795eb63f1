"""Trends use cases: the periodic check that counts stories and raises surge and quiet
episodes, and the series a face draws (`monitor trends`, the console's watchlist chart).

The check runs as a cluster-wide singleton (`Trends.check`, scheduled by housekeeping); even
so, every episode is written under unique keys, so a restart or a second worker that runs
the same check never raises the same episode twice. Decisions are `monitor.trends` (pure),
payloads `monitor.notify.trends`, SQL `monitor.storage.trends` / `storage.episodes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import Clock
from monitor.config import CoverageConfig, QuietConfig, Settings, SurgeConfig, WatchlistConfig
from monitor.errors import InvalidRequest, NotConfigured
from monitor.notify import trends as payloads
from monitor.storage import episodes as episode_store
from monitor.storage import trends as store
from monitor.storage.episodes import Episode
from monitor.trends import (
    HOUR,
    Activity,
    QuietPolicy,
    SurgeAssessment,
    SurgePolicy,
    assess_surge,
    daily_mean,
    episode_step,
    expected_series,
    hour_floor,
    is_quiet,
    poisson_band,
    window_hours,
)

TOP = 5
DEFAULT_BASELINE = timedelta(days=14)
Bucket = Literal["hour", "day"]


class TrendContext(Protocol):
    """What the trends use cases need of the services' shared context."""

    settings: Settings
    engine: AsyncEngine
    clock: Clock


def surge_policy(config: SurgeConfig) -> SurgePolicy:
    return SurgePolicy(
        config.window, config.baseline, config.factor, config.min_stories, config.p_value
    )


def quiet_policy(config: QuietConfig, baseline: timedelta = DEFAULT_BASELINE) -> QuietPolicy:
    return QuietPolicy(config.after, config.min_daily, baseline)


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What one check did."""

    buckets: int = 0
    opened: tuple[str, ...] = ()  # episode ids
    closed: tuple[str, ...] = ()


@dataclass(slots=True)
class _Tally:
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Subject:
    """A watchlist or a feed tag under a quiet check."""

    kind: str
    name: str
    severity: str
    channels: tuple[str, ...]
    feeds: int = 0


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket of a series: stories, outlets, expected stories, a surge starting in it."""

    start: datetime
    stories: int
    outlets: int
    expected: float | None
    surge: bool

    @property
    def band(self) -> tuple[int, int] | None:
        """The 95 % Poisson band around `expected` (None where nothing was expected)."""
        return None if self.expected is None else poisson_band(self.expected)


@dataclass(frozen=True, slots=True)
class WatchlistTrend:
    """A watchlist's series over a period and its surge/quiet episodes."""

    watchlist: str
    by: Bucket
    points: tuple[TrendPoint, ...]
    episodes: tuple[Episode, ...] = field(default=())
    surge: bool = False  # surge detection is on for it
    actor: str | None = None  # the series of one actor of the watchlist
    actors: tuple[str, ...] = ()  # the actors with counts, for a face to offer


class Trends:
    """Counts, surges and silences of watchlists and feed tags."""

    def __init__(self, ctx: TrendContext) -> None:
        self.ctx = ctx

    async def check(self, now: datetime) -> CheckReport:
        """Refresh the counts; open and close surge and quiet episodes as of `now`."""
        settings = self.ctx.settings
        async with self.ctx.engine.begin() as conn:
            buckets = await store.refresh_counts(conn, now)
            current = await episode_store.open_episodes(conn)
        tally = _Tally()
        for watchlist in settings.watchlists:
            if watchlist.surge is not None:
                episode = current.get((payloads.SURGE_TYPE, watchlist.name))
                await self._surge(watchlist, watchlist.surge, episode, now, tally)
            if watchlist.quiet is not None:
                await self._watchlist_quiet(watchlist, watchlist.quiet, current, now, tally)
        if settings.coverage.quiet is not None:
            await self._coverage_quiet(
                settings.coverage, settings.coverage.quiet, current, now, tally
            )
        return CheckReport(buckets, tuple(tally.opened), tuple(tally.closed))

    async def _surge(
        self,
        watchlist: WatchlistConfig,
        config: SurgeConfig,
        episode: Episode | None,
        now: datetime,
        tally: _Tally,
    ) -> None:
        test = await self._assess(watchlist.name, surge_policy(config), now)
        step = episode_step(episode is not None, test)
        if step == "close" and episode is not None:
            async with self.ctx.engine.begin() as conn:
                if await episode_store.close_episode(conn, episode.id, now):
                    tally.closed.append(episode.id)
        elif step == "open" and test is not None and await self._open_surge(watchlist, test, now):
            tally.opened.append(payloads.surge_id(watchlist.name, hour_floor(now)))

    async def _assess(
        self, watchlist: str, policy: SurgePolicy, now: datetime
    ) -> SurgeAssessment | None:
        since = hour_floor(now) - policy.window - policy.baseline - HOUR
        async with self.ctx.engine.connect() as conn:
            rows = await store.hourly_counts(conn, watchlist, since)
            history = await store.first_counted(conn, watchlist)
        counts = {row.hour: row.stories for row in rows}
        return assess_surge(counts, now, policy, history)

    async def _open_surge(
        self, watchlist: WatchlistConfig, test: SurgeAssessment, now: datetime
    ) -> bool:
        episode_id = payloads.surge_id(watchlist.name, hour_floor(now))
        async with self.ctx.engine.begin() as conn:
            stories = await store.top_stories(conn, watchlist.name, test.window_start, TOP)
            outlets = await store.top_outlets(conn, watchlist.name, test.window_start, TOP)
            drivers = payloads.Drivers(
                [(s.id, s.name, s.outlets) for s in stories],
                [(o.id, o.name, o.stories) for o in outlets],
            )
            body = payloads.surge_payload(
                episode_id, watchlist.name, watchlist.severity, test, drivers, now
            )
            row = _episode_row(body, watchlist.name, hour_floor(now), now)
            rows = payloads.trend_rows(body, self._channels(watchlist.channels), now)
            return await episode_store.open_episode(conn, row, rows)

    async def _watchlist_quiet(
        self,
        watchlist: WatchlistConfig,
        config: QuietConfig,
        current: dict[tuple[str, str], Episode],
        now: datetime,
        tally: _Tally,
    ) -> None:
        baseline = watchlist.surge.baseline if watchlist.surge else DEFAULT_BASELINE
        policy = quiet_policy(config, baseline)
        async with self.ctx.engine.connect() as conn:
            seen = await store.watchlist_coverage(conn, watchlist.name, now - policy.baseline)
        kind = payloads.WATCHLIST_QUIET_TYPE
        subject = _Subject(kind, watchlist.name, watchlist.severity, watchlist.channels)
        activity = Activity(seen.last_story_at, seen.stories_since, seen.first_seen)
        await self._quiet(
            subject, activity, policy, current.get((kind, watchlist.name)), now, tally
        )

    async def _coverage_quiet(
        self,
        coverage: CoverageConfig,
        config: QuietConfig,
        current: dict[tuple[str, str], Episode],
        now: datetime,
        tally: _Tally,
    ) -> None:
        policy = quiet_policy(config)
        async with self.ctx.engine.connect() as conn:
            tagged = await store.feeds_by_tag(conn)
        kind = payloads.COVERAGE_QUIET_TYPE
        for tag in coverage.tags or tuple(sorted(tagged)):
            feed_ids = tagged.get(tag, [])
            if not feed_ids:
                continue
            async with self.ctx.engine.connect() as conn:
                seen = await store.tag_coverage(conn, feed_ids, now - policy.baseline)
            subject = _Subject(kind, tag, "", coverage.channels, len(feed_ids))
            activity = Activity(seen.last_story_at, seen.stories_since, seen.first_seen)
            await self._quiet(subject, activity, policy, current.get((kind, tag)), now, tally)

    async def _quiet(
        self,
        subject: _Subject,
        activity: Activity,
        policy: QuietPolicy,
        episode: Episode | None,
        now: datetime,
        tally: _Tally,
    ) -> None:
        """Close an open silence once the subject speaks; open one when it went quiet."""
        last = activity.last_story_at
        if episode is not None:
            if last is not None and last > episode.started_at:
                async with self.ctx.engine.begin() as conn:
                    if await episode_store.close_episode(conn, episode.id, now):
                        tally.closed.append(episode.id)
            return
        if last is None or not is_quiet(activity, policy, now):
            return
        usual = daily_mean(activity, policy, now)
        silence = payloads.Silence(
            subject.kind, subject.name, last, policy.after, usual, subject.feeds
        )
        body = payloads.quiet_payload(silence, subject.severity, now)
        row = _episode_row(body, subject.name, last, now)
        rows = payloads.trend_rows(body, self._channels(subject.channels), now)
        async with self.ctx.engine.begin() as conn:
            if await episode_store.open_episode(conn, row, rows):
                tally.opened.append(body["id"])

    def _channels(self, names: tuple[str, ...]) -> list[str]:
        return [name for name in names if name in self.ctx.settings.channels]

    async def series(
        self,
        watchlist: str | None = None,
        *,
        since: timedelta = DEFAULT_BASELINE,
        by: Bucket = "day",
        actor: str | None = None,
        now: datetime | None = None,
    ) -> tuple[WatchlistTrend, ...]:
        """Each watchlist's (or the one named) counts since `now - since`, with the count
        the surge test expected and the surges that started in each bucket; with `actor`,
        the counts of that actor within each watchlist (surges are the watchlist's)."""
        now = now or self.ctx.clock.now()
        chosen = self._watchlists(watchlist)
        if actor is not None:
            await self._check_actor(chosen, actor)
        return tuple([await self._series(w, since, by, actor, now) for w in chosen])

    async def episodes(
        self,
        *,
        since: timedelta = timedelta(days=30),
        subject: str | None = None,
        type: str | None = None,
        limit: int = 100,
        now: datetime | None = None,
    ) -> tuple[Episode, ...]:
        """Surge and quiet episodes raised since `now - since`, newest first: the inbox's
        own kind of alert (their payloads are what the channels were sent)."""
        if type is not None and type not in payloads.TREND_TYPES:
            raise InvalidRequest(f"type: must be one of {', '.join(payloads.TREND_TYPES)}")
        start = (now or self.ctx.clock.now()) - since
        async with self.ctx.engine.connect() as conn:
            found = await episode_store.list_episodes(
                conn, start, subject, type, newest_first=True, limit=limit
            )
        return tuple(found)

    def _watchlists(self, name: str | None) -> list[WatchlistConfig]:
        configured = list(self.ctx.settings.watchlists)
        if name is None:
            return configured
        found = [w for w in configured if w.name == name]
        if not found:
            names = ", ".join(w.name for w in configured) or "none"
            raise NotConfigured(f"no watchlist {name!r}; configured: {names}")
        return found

    async def _check_actor(self, chosen: list[WatchlistConfig], actor: str) -> None:
        """NotConfigured unless one of the `chosen` watchlists knows `actor`: configured now,
        or counted under an earlier definition (its history is still there to show)."""
        async with self.ctx.engine.connect() as conn:
            known = {
                w.name: sorted(
                    {a.name for a in w.actors} | set(await store.actors_of(conn, w.name))
                )
                for w in chosen
            }
        if any(actor in names for names in known.values()):
            return
        if len(known) == 1:
            ((name, names),) = known.items()
            raise NotConfigured(
                f"watchlist {name!r} has no actor {actor!r}; its actors: "
                + (", ".join(names) or "none")
            )
        raise NotConfigured(f"no watchlist has an actor {actor!r}")

    async def _series(
        self,
        watchlist: WatchlistConfig,
        since: timedelta,
        by: Bucket,
        actor: str | None,
        now: datetime,
    ) -> WatchlistTrend:
        policy = surge_policy(watchlist.surge or SurgeConfig())
        hours = window_hours(now, since)  # whole hours, the current one last
        start = hours[0]
        name = watchlist.name
        async with self.ctx.engine.connect() as conn:
            rows = await store.hourly_counts(conn, name, start - policy.baseline, actor or "")
            history = await store.first_counted(conn, name, actor or "")
            found = await episode_store.list_episodes(conn, start, name)
            actors = await store.actors_of(conn, name)
        counts = {row.hour: row.stories for row in rows}
        outlets = {row.hour: row.outlets for row in rows}
        expected = expected_series(counts, hours, policy.baseline, history)
        surges = {e.started_at for e in found if e.type == payloads.SURGE_TYPE}
        points = [
            TrendPoint(h, counts.get(h, 0), outlets.get(h, 0), x, h in surges)
            for h, x in zip(hours, expected, strict=True)
        ]
        if by == "day":
            points = _by_day(points)
        surge = watchlist.surge is not None
        return WatchlistTrend(name, by, tuple(points), tuple(found), surge, actor, tuple(actors))


def _by_day(points: list[TrendPoint]) -> list[TrendPoint]:
    """Hourly points summed per UTC day (outlets: the busiest hour's)."""
    days: dict[datetime, list[TrendPoint]] = {}
    for point in points:
        days.setdefault(point.start.replace(hour=0), []).append(point)
    merged = []
    for day, group in days.items():
        known = [p.expected for p in group if p.expected is not None]
        merged.append(
            TrendPoint(
                day,
                sum(p.stories for p in group),
                max(p.outlets for p in group),
                sum(known) if len(known) == len(group) else None,
                any(p.surge for p in group),
            )
        )
    return merged


def _episode_row(
    body: dict[str, Any], subject: str, started_at: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "id": body["id"],
        "type": body["type"],
        "subject": subject,
        "started_at": started_at,
        "ended_at": None,
        "payload": body,
        "created_at": now,
    }
