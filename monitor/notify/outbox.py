"""The delivery worker: claims due outbox rows, sends them through their channel's notifier,
records the outcome; rolls held rows into digests and throttle summaries.

Failures retry with exponential backoff and jitter (`retry_delay`), never sooner than a
receiver's Retry-After, and dead-letter after `delivery.max_attempts` or at once when the
error is permanent. HTTP 410 disables the channel (its rows stay pending for when it is
re-enabled). Everything takes `now`, so tests move time by hand.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor import observe
from monitor.clock import Clock
from monitor.config import ChannelConfig, Settings
from monitor.errors import DeliveryError, one_line
from monitor.models import AlertContext, WatchlistMatch
from monitor.notify.base import ChannelGone, Notifier, OutboxMessage
from monitor.notify.digest import (
    THROTTLE_WINDOW,
    plan_rollups,
    split_throttled,
    summary_due,
    throttle_budget,
)
from monitor.notify.payload import alert_rows, rollup_row
from monitor.pipeline.schedule import backoff
from monitor.storage import outbox as store
from monitor.storage.articles import AlertBuilder

log = structlog.get_logger("monitor.delivery")

MAX_RETRY_AFTER = timedelta(days=1)  # a receiver asking for more is not taken literally
DIGEST_JOB_SECONDS = 30.0

# What one attempt did to its row: sent; failed and queued again (a later retry, or a 410's
# disabled channel until it is re-enabled); dead-lettered; or not tried (channel disabled).
Outcome = Literal["sent", "queued", "dead", "skipped"]


@dataclass(frozen=True, slots=True)
class DeliveryTally:
    """What one delivery pass did: messages sent, failed and still queued, dead-lettered."""

    delivered: int = 0
    failed: int = 0  # failed this pass and queued for a retry
    dead: int = 0

    @classmethod
    def of(cls, outcomes: Counter[Outcome]) -> DeliveryTally:
        return cls(outcomes["sent"], outcomes["queued"], outcomes["dead"])

    def __add__(self, other: DeliveryTally) -> DeliveryTally:
        return DeliveryTally(
            self.delivered + other.delivered, self.failed + other.failed, self.dead + other.dead
        )


def retry_delay(
    attempts: int,
    *,
    base: timedelta,
    cap: timedelta,
    jitter: float,
    retry_after: float | None = None,
) -> timedelta:
    """The wait before the next attempt, after `attempts` failed ones: the feeds' backoff
    (`pipeline.schedule.backoff`), with a receiver's Retry-After taken up to a day."""
    return backoff(
        attempts,
        base=base,
        cap=cap,
        rand=jitter,
        retry_after=retry_after,
        retry_after_cap=MAX_RETRY_AFTER,
    )


def alert_builder(settings: Settings, clock: Clock) -> AlertBuilder:
    """The function storage calls to turn a match on a stored article into alert + outbox rows."""

    def build(
        match: WatchlistMatch, context: AlertContext
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return alert_rows(match, context, settings.channels, clock.now())

    return build


class DeliveryWorker:
    """Delivers the outbox through the configured notifiers."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        notifiers: Mapping[str, Notifier],
        settings: Settings,
        clock: Clock,
        owner: str,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 100,
        concurrency: int = 16,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.notifiers = dict(notifiers)
        self.settings = settings
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._rand = rand
        self._gone: set[str] = set()

    async def run_once(self, now: datetime) -> int:
        """Deliver every row due at `now`; return how many were delivered."""
        return (await self.deliver_due(now)).delivered

    async def deliver_due(self, now: datetime) -> DeliveryTally:
        """Deliver every row due at `now`; return how many were delivered, failed (and stay
        queued for a retry) and were dead-lettered."""
        async with self.engine.connect() as conn:
            self._gone = set(await store.disabled_channels(conn))
        tally = DeliveryTally()
        while batch := await self._claim(now):
            tally += await self._deliver_batch(batch, now)
        return tally

    async def send_digests(self, now: datetime) -> int:
        """Roll held rows whose period ended into digest/summary rows, then deliver; return
        how many digest/summary messages were written. Safe to run in several processes."""
        async with self.engine.connect() as conn:
            held = await store.held_due(conn, now, self.notifiers)
        written = 0
        for rollup in plan_rollups(held, self.settings.channels, now):
            try:
                async with self.engine.begin() as conn:
                    ids = [row.row_id for row in rollup.rows]
                    message_id = await store.write_rollup(conn, ids, rollup_row(rollup, now))
            except store.RollupRaced:
                continue
            written += 1
            log.info(
                "digest written", channel=rollup.channel, id=message_id, alerts=len(rollup.rows)
            )
        if written:
            await self.run_once(now)
        return written

    def periodic_jobs(self) -> list[tuple[str, float, Callable[[], Awaitable[None]]]]:
        """(name, every seconds, job) for the scheduler: the digest job."""
        return [("digests", DIGEST_JOB_SECONDS, self._digest_job)]

    async def _digest_job(self) -> None:
        try:
            await self.send_digests(self.clock.now())
        except Exception as e:  # the database may be down for a while; the next run catches up
            log.error("digest job failed", error=one_line(e, limit=500))

    async def _claim(self, now: datetime) -> list[OutboxMessage]:
        channels = [name for name in self.notifiers if name not in self._gone]
        async with self.engine.begin() as conn:
            return await store.claim_due(
                conn,
                now=now,
                owner=self.owner,
                lease=self.lease,
                limit=self.batch,
                channels=channels,
                dead_after=self.settings.polling.dead_after,
            )

    async def _deliver_batch(self, batch: Sequence[OutboxMessage], now: datetime) -> DeliveryTally:
        sending = await self._throttle(batch, now)
        try:
            results = await asyncio.gather(*(self._deliver(m, now) for m in sending))
        except asyncio.CancelledError:
            async with self.engine.begin() as conn:  # unfinished rows go back now, not at lease end
                await store.release(conn, [m.row_id for m in sending if m.row_id], self.owner)
            raise
        return DeliveryTally.of(Counter(results))

    async def _throttle(self, batch: Sequence[OutboxMessage], now: datetime) -> list[OutboxMessage]:
        sending: list[OutboxMessage] = []
        for channel in dict.fromkeys(m.channel for m in batch):
            mine = [m for m in batch if m.channel == channel]
            config = self.settings.channels.get(channel)
            if config is None or not config.max_per_hour or config.digest is not None:
                sending += mine
                continue
            sending += await self._hold_excess(channel, config, mine, now)
        return sending

    async def _hold_excess(
        self, channel: str, config: ChannelConfig, messages: list[OutboxMessage], now: datetime
    ) -> list[OutboxMessage]:
        """Hold the alerts past the channel's hourly budget; return the messages to send."""
        alerts = [m for m in messages if m.kind == "alert"]
        others = [m for m in messages if m.kind != "alert"]
        async with self.engine.begin() as conn:
            sent = await store.spent_since(
                conn, channel, now - THROTTLE_WINDOW, now=now, owner=self.owner
            )
            send, held = split_throttled(alerts, throttle_budget(config.max_per_hour, sent))
            until = summary_due(now, ZoneInfo(config.digest_timezone))
            await store.hold(conn, [m.row_id for m in held if m.row_id], until)
        if held:
            log.info(
                "alerts held by max_per_hour", channel=channel, held=len(held), until=str(until)
            )
        return others + send

    async def _deliver(self, message: OutboxMessage, now: datetime) -> Outcome:
        async with self._slots:
            if message.channel in self._gone:
                await self._release(message)
                return "skipped"
            try:
                await self.notifiers[message.channel].send(message)
            except ChannelGone as e:
                await self._disable(message, e, now)
                return "queued"
            except DeliveryError as e:
                return await self._failed(message, e, now)
            except Exception as e:  # a notifier bug must not stop the queue; the row retries
                return await self._failed(message, DeliveryError(f"{type(e).__name__}: {e}"), now)
            async with self.engine.begin() as conn:
                await store.mark_sent(conn, _row(message), now)
            observe.delivered(message, self.clock.now())
            log.debug("delivered", channel=message.channel, id=message.event_id)
            return "sent"

    async def _release(self, message: OutboxMessage) -> None:
        async with self.engine.begin() as conn:
            await store.release(conn, [_row(message)], self.owner)

    async def _disable(self, message: OutboxMessage, error: DeliveryError, now: datetime) -> None:
        # Messages in flight together all meet the 410: the channel is disabled (and said so)
        # once, by the first of them.
        first = message.channel not in self._gone
        self._gone.add(message.channel)
        reason = f"{one_line(error, limit=500)}: channel disabled"
        async with self.engine.begin() as conn:
            if first:
                await store.disable_channel(conn, message.channel, reason, now)
            await store.mark_failed(conn, _row(message), reason, now)
        observe.delivery_failed(message, "disabled")
        if first:
            log.error("channel disabled", channel=message.channel, reason=reason)

    async def _failed(self, message: OutboxMessage, error: DeliveryError, now: datetime) -> Outcome:
        """Record a failed attempt: dead-letter the row, or queue it for a retry later."""
        attempts, text = message.attempts + 1, one_line(error, limit=500)
        fields = {"channel": message.channel, "id": message.event_id, "attempts": attempts}
        async with self.engine.begin() as conn:
            budget_used = attempts - message.retried_from
            if error.permanent or budget_used >= self.settings.delivery.max_attempts:
                await store.dead_letter(conn, _row(message), text)
                observe.delivery_failed(message, "dead")
                log.error("delivery dead-lettered", error=text, **fields)
                return "dead"
            delay = retry_delay(
                budget_used,
                base=self.settings.delivery.retry_base,
                cap=self.settings.delivery.retry_max,
                jitter=self._rand(),
                retry_after=error.retry_after,
            )
            await store.mark_failed(conn, _row(message), text, now + delay)
        observe.delivery_failed(message, "retry")
        log.warning("delivery failed; will retry", error=text, retry_in=str(delay), **fields)
        return "queued"


def _row(message: OutboxMessage) -> int:
    if message.row_id is None:
        raise ValueError(f"message {message.message_id} is not an outbox row")
    return message.row_id
