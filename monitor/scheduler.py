"""The service loop: ticks claim due feeds and outbox rows from the database; graceful stop.

Due-ness lives in the database (`feeds.next_poll_at`, outbox `next_attempt_at`); this
module only ticks. APScheduler 3 (AsyncIOScheduler) drives the poll tick, the delivery
tick and the clock-aligned jobs; `run_round` is the same work done once for `run --once`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor import metrics
from monitor.app import Runtime
from monitor.errors import one_line
from monitor.housekeeping import Housekeeping
from monitor.models import Feed
from monitor.server import StatusServer, serve_status
from monitor.services.polls import PollReport
from monitor.storage import feeds as feed_store
from monitor.storage.heartbeats import beat
from monitor.storage.listen import OUTBOX_CHANNEL, listen

log = structlog.get_logger("monitor.scheduler")

DELIVERY_EVERY = 2.0  # seconds between delivery ticks (retries, rows no wake-up announced)


@dataclass
class RoundReport:
    """Totals of one pass over the due feeds."""

    polls: list[PollReport] = field(default_factory=list)
    delivered: int = 0
    delivery_failed: int = 0  # failed this round, still queued for a retry
    dead_lettered: int = 0

    @property
    def stored(self) -> int:
        return sum(p.stored for p in self.polls)

    @property
    def errors(self) -> int:
        return sum(p.error is not None for p in self.polls)

    @property
    def alerts(self) -> int:
        return sum(p.alerts for p in self.polls)

    def failed_deliveries(self) -> str:
        """The summary line's words on failed deliveries: "0 failed", or e.g. "5 failed
        (queued for retry), 1 dead-lettered" (a failed delivery is not a failed round)."""
        words = f"{self.delivery_failed} failed"
        if self.delivery_failed:
            words += " (queued for retry)"
        if self.dead_lettered:
            words += f", {self.dead_lettered} dead-lettered"
        return words


class Poller:
    """Claims due feeds and polls them with bounded concurrency."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.in_flight: dict[int, asyncio.Task[PollReport]] = {}
        self.claiming = True
        # Claims by one owner must not overlap: both would read back the other's leases.
        self._claim_lock = asyncio.Lock()

    @property
    def capacity(self) -> int:
        return max(0, self.runtime.settings.polling.concurrency - len(self.in_flight))

    async def claim(
        self, *, all_feeds: bool = False, not_polled_since: datetime | None = None
    ) -> list[Feed]:
        rt = self.runtime
        async with self._claim_lock:
            if not self.claiming or not self.capacity:
                return []
            return await feed_store.claim_due(
                rt.engine,
                now=rt.clock.now(),
                owner=rt.owner,
                lease=rt.settings.polling.lease,
                limit=self.capacity,
                all_feeds=all_feeds,
                not_polled_since=not_polled_since,
                dead_after=rt.settings.polling.dead_after,
                fetch_articles=rt.settings.polling.fetch_articles,
            )

    def start(self, feed: Feed, done: Callable[[PollReport], None] | None = None) -> None:
        task = asyncio.create_task(self.runtime.ingestor.poll(feed), name=f"poll {feed.url}")
        self.in_flight[feed.id] = task

        def finished(t: asyncio.Task[PollReport]) -> None:
            self.in_flight.pop(feed.id, None)
            if done and not t.cancelled() and t.exception() is None:
                done(t.result())
            elif not t.cancelled() and t.exception() is not None:
                log.error("poll crashed", feed=feed.url, error=repr(t.exception()))

        task.add_done_callback(finished)

    async def stop(self, timeout: float) -> None:
        """Stop claiming, let in-flight polls finish within `timeout`, release the rest."""
        self.claiming = False
        # Snapshot now: each task leaves `in_flight` when it ends, cancelled ones included.
        claimed = list(self.in_flight)
        if self.in_flight:
            _, pending = await asyncio.wait(list(self.in_flight.values()), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        rt = self.runtime
        await rt.ingestor.recorder.drain()
        await feed_store.release(rt.engine, claimed, rt.owner)


async def run_round(
    runtime: Runtime,
    *,
    all_feeds: bool = False,
    progress: Callable[[PollReport], None] | None = None,
) -> RoundReport:
    """One pass over every due feed (every active feed with all_feeds), then deliver."""
    report = RoundReport()
    poller = Poller(runtime)
    started = runtime.clock.now()

    def done(poll: PollReport) -> None:
        report.polls.append(poll)
        if progress:
            progress(poll)

    await beat(runtime.engine, runtime.owner, started)
    beating = asyncio.create_task(_keep_beating(runtime), name="heartbeat")
    try:
        await _poll_round(runtime, poller, all_feeds, started, done)
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
    tally = await runtime.delivery.deliver_due(runtime.clock.now())
    report.delivered, report.delivery_failed = tally.delivered, tally.failed
    report.dead_lettered = tally.dead
    return report


async def _keep_beating(runtime: Runtime) -> None:
    """Beat every tick while a round runs, so other workers never take this one for dead."""
    while True:
        await asyncio.sleep(runtime.settings.polling.tick.total_seconds())
        try:
            await beat(runtime.engine, runtime.owner, runtime.clock.now())
        except Exception as e:  # the database is away for a moment: the next beat retries
            log.warning("heartbeat failed", error=str(e).splitlines()[0] if str(e) else repr(e))


async def _poll_round(
    runtime: Runtime,
    poller: Poller,
    all_feeds: bool,
    started: datetime,
    done: Callable[[PollReport], None],
) -> None:
    # Claim in batches of at least half the slots: each claim is a transaction (a scan of
    # the due feeds), and claiming after every single completion made that the round's cost.
    batch = max(1, runtime.settings.polling.concurrency // 2)
    exhausted = False
    while True:
        if not exhausted and (poller.capacity >= batch or not poller.in_flight):
            wanted = poller.capacity
            # Each feed once: not one this round polled already (its next poll may be due
            # again at once, and --all ignores next_poll_at).
            rows = await poller.claim(all_feeds=all_feeds, not_polled_since=started)
            exhausted = len(rows) < wanted
            for row in rows:
                poller.start(row, done)
        if not poller.in_flight:
            break
        await asyncio.wait(list(poller.in_flight.values()), return_when=asyncio.FIRST_COMPLETED)


class Service:
    """`monitor run`: ticks until stopped, then stops gracefully."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        delivery_every: float = DELIVERY_EVERY,
    ) -> None:
        self.runtime = runtime
        self.poller = Poller(runtime)
        self.stopping = asyncio.Event()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.delivery_every = delivery_every
        # Set while a PostgreSQL LISTEN wakes delivery for rows any process inserts.
        self.listening = asyncio.Event()
        self._delivering: asyncio.Task[None] | None = None
        self._deliver_again = False
        self._listener: asyncio.Task[None] | None = None
        self._refill: asyncio.Task[None] | None = None
        self.status_server: StatusServer | None = None

    async def tick(self) -> None:
        rt = self.runtime
        try:
            await beat(rt.engine, rt.owner, rt.clock.now())
            metrics.ticked(rt.clock.now())
            await self._claim_and_start()
        except Exception as e:  # the database may be down for a while; keep ticking
            log.error("tick failed", error=one_line(e))

    async def _claim_and_start(self) -> None:
        for row in await self.poller.claim():
            self.poller.start(row, self._polled)

    def _polled(self, report: PollReport) -> None:
        """A poll ended: deliver its new alerts now rather than at the next delivery tick,
        and claim more now, not at the next tick, so that while feeds are due
        the worker keeps polls in flight (ticks alone cap it at `concurrency` polls per
        tick). One refill at a time, once half the slots are free (or all of them)."""
        if report.alerts:
            self.deliver_soon()
        poller = self.poller
        half_free = poller.capacity >= max(1, self.runtime.settings.polling.concurrency // 2)
        if not poller.claiming or not (half_free or not poller.in_flight):
            return
        if self._refill is None or self._refill.done():
            self._refill = asyncio.create_task(self._refill_slots(), name="refill polls")

    async def _refill_slots(self) -> None:
        try:
            await self._claim_and_start()
        except Exception as e:  # the next tick tries again
            log.error("claim failed", error=one_line(e))

    def deliver_soon(self) -> None:
        """Deliver now, and once more after a delivery already running (its claim may
        have been made before the new rows were committed)."""
        if self._delivering is None or self._delivering.done():
            self._delivering = asyncio.create_task(self._deliver_until_quiet(), name="deliver")
        else:
            self._deliver_again = True

    async def _deliver_until_quiet(self) -> None:
        while True:
            self._deliver_again = False
            await self.deliver()
            if not self._deliver_again or self.stopping.is_set():
                return

    async def deliver(self) -> None:
        try:
            await self.runtime.delivery.run_once(self.runtime.clock.now())
        except Exception as e:
            log.error("delivery tick failed", error=one_line(e))

    def _job(self, func: Callable[[], Awaitable[None]], seconds: float, name: str) -> None:
        self.scheduler.add_job(
            func, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True
        )

    async def run(self) -> None:
        """Tick until `stop()`; then finish or release claimed work within shutdown_timeout."""
        settings = self.runtime.settings
        # Beat before anything can claim (a delivery woken by NOTIFY, a singleton job): a
        # worker killed in its first second must leave a heartbeat for its leases to be
        # taken over when it goes stale; leases of a holder that never beat wait out the lease.
        await beat(self.runtime.engine, self.runtime.owner, self.runtime.clock.now())
        self._job(self.tick, settings.polling.tick.total_seconds(), "tick")
        self._job(self.deliver, self.delivery_every, "deliver")
        for name, seconds, job in self.runtime.delivery.periodic_jobs():
            self._job(job, seconds, name)
        rt = self.runtime
        housekeeping = Housekeeping(
            engine=rt.engine, settings=settings, clock=rt.clock, owner=rt.owner
        )
        for name, seconds, job in housekeeping.periodic_jobs():
            self._job(job, seconds, name)
        self.status_server = await serve_status(
            engine=rt.engine, settings=settings, clock=rt.clock, reloads=rt.on_reload
        )
        self.scheduler.start()
        self._listener = asyncio.create_task(
            listen(rt.engine, OUTBOX_CHANNEL, self.deliver_soon, ready=self.listening),
            name="listen for outbox rows",
        )
        log.info("service started", worker=self.runtime.owner)
        await self.tick()
        await self.stopping.wait()
        await self.shutdown(settings.delivery.shutdown_timeout)

    async def shutdown(self, timeout: timedelta) -> None:
        if self.status_server is not None:
            self.status_server.stopping = True  # /readyz: 503 while draining
        self.scheduler.shutdown(wait=False)
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        budget = timeout.total_seconds()
        self.poller.claiming = False
        if self._refill is not None:  # a claim in flight: let it start what it claimed
            await asyncio.gather(self._refill, return_exceptions=True)
        await self.poller.stop(budget * 0.6)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(budget * 0.3):
                await self.runtime.delivery.run_once(self.runtime.clock.now())
        if self.status_server is not None:
            await self.status_server.stop()
        log.info("service stopped", worker=self.runtime.owner)

    def stop(self) -> None:
        self.stopping.set()
