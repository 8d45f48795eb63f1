"""The runtime of one service process: builds the running parts (engine, HTTP client,
extractor pool, matcher, ingest, notifiers, delivery) in one AsyncExitStack, and reloads
watchlists and channels in all of them."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import Clock, SystemClock
from monitor.config import Settings, WatchlistConfig
from monitor.notify.outbox import DeliveryWorker, alert_builder
from monitor.notify.registry import build_notifiers
from monitor.pipeline.extract import Extractor
from monitor.pipeline.fetch import Fetcher
from monitor.services.ingest import Ingestor
from monitor.services.settings import compile_matcher, load_settings, open_engine
from monitor.storage.feeds import sync_config_feeds
from monitor.storage.watchlist_versions import record_version

__all__ = ["Runtime", "compile_matcher", "load_settings", "open_engine", "open_runtime"]


def worker_id() -> str:
    """A name for this process in leases and heartbeats: host:pid."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


async def record_watchlists(
    engine: AsyncEngine, watchlists: Sequence[WatchlistConfig], now: datetime
) -> dict[str, int]:
    """Record each watchlist definition loaded (once per distinct one); its version by name."""
    host = socket.gethostname()
    versions = {}
    for watchlist in watchlists:
        text = watchlist.canonical_json()
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        versions[watchlist.name] = await record_version(
            engine, watchlist.name, text, digest, host=host, now=now
        )
    return versions


@dataclass
class Runtime:
    """The live parts of one process."""

    settings: Settings
    engine: AsyncEngine
    fetcher: Fetcher
    ingestor: Ingestor
    delivery: DeliveryWorker
    clock: Clock
    owner: str
    # Called with the new settings after a reload (e.g. the web app's use cases).
    on_reload: list[Callable[[Settings], None]] = field(default_factory=list)

    def reload(self, fresh: Settings) -> Settings:
        """Take the watchlists and channels of `fresh` (a re-read config) everywhere they are
        captured: the matcher and alert builder of ingest, the delivery worker's channels and
        notifiers. The database, polling and server sections keep their running values.
        Raises ConfigError, changing nothing, when a watchlist does not compile."""
        merged = self.settings.model_copy(
            update={"watchlists": fresh.watchlists, "channels": fresh.channels}
        )
        matcher = compile_matcher(merged)
        notifiers = build_notifiers(merged, self.fetcher)
        self.settings = merged
        self.ingestor.settings = merged
        self.ingestor.matcher = matcher
        self.ingestor.build_alert = alert_builder(merged, self.clock)
        self.delivery.settings = merged
        self.delivery.notifiers = notifiers
        for hook in self.on_reload:
            hook(merged)
        return merged

    async def reload_recorded(self, fresh: Settings) -> Settings:
        """`reload`, recording the watchlists' new definitions first, so that every alert
        raised after the switch names the version that raised it."""
        compile_matcher(fresh)  # a bad edit is refused before anything is recorded
        versions = await record_watchlists(self.engine, fresh.watchlists, self.clock.now())
        merged = self.reload(fresh)
        self.ingestor.versions = versions
        return merged


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    extract_workers: int | None = None,
) -> AsyncIterator[Runtime]:
    """Start every part in order and close them in reverse, whatever happens."""
    clock = clock or SystemClock()
    owner = worker_id()
    async with contextlib.AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_engine(settings))
        async with engine.begin() as conn:
            await sync_config_feeds(conn, settings.feeds, clock.now())
        fetcher = await stack.enter_async_context(Fetcher(settings.polling, now=clock.now))
        extractor = await stack.enter_async_context(Extractor(extract_workers))
        matcher = compile_matcher(settings)
        notifiers = build_notifiers(settings, fetcher)
        ingestor = Ingestor(
            settings=settings,
            engine=engine,
            fetcher=fetcher,
            extractor=extractor,
            matcher=matcher,
            build_alert=alert_builder(settings, clock),
            clock=clock,
            owner=owner,
            versions=await record_watchlists(engine, settings.watchlists, clock.now()),
        )
        delivery = DeliveryWorker(
            engine=engine, notifiers=notifiers, settings=settings, clock=clock, owner=owner
        )
        yield Runtime(settings, engine, fetcher, ingestor, delivery, clock, owner)
