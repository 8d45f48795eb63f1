"""The periodic jobs a `monitor run` process schedules besides polling and delivery:

- cluster gauges for `/metrics`, read from the database by every process (every 5 s);
- retention (hourly), the silent-feed check and the trends check (surges, quiet watchlists
  and tags; every 5 min), cluster-wide singletons that one process at a time runs
  (`storage.periodic.run_singleton`).

Each job logs its failure and returns: the database may be down for a while, and the next
run catches up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import Clock
from monitor.config import Settings
from monitor.metrics import METRICS, Metrics
from monitor.notify.system import silence_notice
from monitor.retention import apply_retention
from monitor.services.trends import Trends
from monitor.silence import SilencePolicy
from monitor.storage.engine import describe_error
from monitor.storage.periodic import run_singleton
from monitor.storage.silence import check_silent_feeds
from monitor.storage.stats import read_cluster_state

log = structlog.get_logger("monitor.housekeeping")

GAUGES_EVERY = timedelta(seconds=5)
RETENTION_EVERY = timedelta(hours=1)
SILENCE_EVERY = timedelta(minutes=5)
TRENDS_EVERY = timedelta(minutes=5)
SINGLETON_LEASE = timedelta(minutes=30)

PeriodicJob = tuple[str, float, Callable[[], Awaitable[None]]]


class Housekeeping:
    """Gauges, retention and silent feeds for one worker process."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        settings: Settings,
        clock: Clock,
        owner: str,
        metrics: Metrics = METRICS,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.owner = owner
        self.metrics = metrics

    async def refresh_gauges(self) -> None:
        """Read cluster state once and set the gauges."""
        now = self.clock.now()
        async with self.engine.connect() as conn:
            state = await read_cluster_state(conn, now)
        self.metrics.cluster_state(state, now)

    async def retention(self) -> bool:
        """Run retention if it is due and no other process is at it; True if it ran."""

        async def job(now: datetime) -> None:
            report = await apply_retention(
                self.engine, self.settings.retention, self.settings.stories, now
            )
            if any(
                (
                    report.articles_deleted,
                    report.texts_pruned,
                    report.bands_deleted,
                    report.snapshots_deleted,
                )
            ):
                log.info(
                    "retention applied",
                    articles_deleted=report.articles_deleted,
                    texts_pruned=report.texts_pruned,
                    bands_deleted=report.bands_deleted,
                    snapshots_deleted=report.snapshots_deleted,
                )

        return await self._singleton("retention", RETENTION_EVERY, job)

    async def silence(self) -> bool:
        """Flag newly silent feeds (once per silence) if the check is due; True if it ran."""
        polling = self.settings.polling

        async def job(now: datetime) -> None:
            policy = SilencePolicy.from_polling(polling)
            notice = silence_notice(polling.silent_channel)
            flagged = await check_silent_feeds(self.engine, policy, notice, now)
            for feed in flagged:
                log.warning(
                    "feed is silent",
                    feed=feed.url,
                    since=feed.quiet_since.isoformat(),
                    silent_after=feed.silent_after.total_seconds(),
                )

        return await self._singleton("silent-feeds", SILENCE_EVERY, job)

    async def trends(self) -> bool:
        """Count stories and raise surge/quiet episodes if the check is due; True if it ran."""

        async def job(now: datetime) -> None:
            report = await Trends(self).check(now)
            for episode in report.opened:
                log.warning("trend episode raised", episode=episode)

        return await self._singleton("trends", TRENDS_EVERY, job)

    async def _singleton(
        self, name: str, every: timedelta, job: Callable[[datetime], Awaitable[None]]
    ) -> bool:
        now = self.clock.now()
        return await run_singleton(
            self.engine,
            name,
            self.owner,
            now,
            SINGLETON_LEASE,
            every,
            job,
            clock=self.clock.now,
            dead_after=self.settings.polling.dead_after,
        )

    def periodic_jobs(self) -> list[PeriodicJob]:
        """(name, every seconds, job) for the scheduler; each job logs instead of raising."""
        return [
            ("cluster-gauges", GAUGES_EVERY.total_seconds(), self._logged(self.refresh_gauges)),
            ("retention", 60.0, self._logged(self.retention)),
            ("silent-feeds", 60.0, self._logged(self.silence)),
            ("trends", 60.0, self._logged(self.trends)),
        ]

    def _logged(self, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await job()
            except Exception as e:
                log.error("housekeeping job failed", job=job.__name__, error=describe_error(e))

        return run
