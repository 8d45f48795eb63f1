"""How `monitor run` runs: one round (`--once`), or the service until SIGTERM/SIGINT with
SIGHUP reloading the watchlists and channels. Both hold the single-writer guard on SQLite and
start from the runtime (`monitor.app`)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import structlog

from monitor.app import Runtime, load_settings, open_runtime
from monitor.config import Settings
from monitor.scheduler import RoundReport, Service, run_round
from monitor.services.polls import PollReport
from monitor.storage.engine import is_sqlite, single_writer
from monitor.storage.feeds import clear_stale_leases

__all__ = ["PollReport", "RoundReport", "reload_from", "run_once", "serve"]
log = structlog.get_logger("monitor.runner")
Say = Callable[[str], None]


async def _clear_leases_if_sqlite(runtime: Runtime) -> None:
    """On SQLite this is the only process: a lease left by a killed run is stale."""
    if is_sqlite(runtime.engine):
        await clear_stale_leases(runtime.engine)


async def run_once(
    settings: Settings,
    *,
    all_feeds: bool = False,
    progress: Callable[[PollReport], None] | None = None,
) -> RoundReport:
    """Poll every due feed (every active one with `all_feeds`), deliver, return the report."""
    with single_writer(settings.database.url):
        async with open_runtime(settings) as runtime:
            await _clear_leases_if_sqlite(runtime)
            return await run_round(runtime, all_feeds=all_feeds, progress=progress)


async def reload_from(runtime: Runtime, config_file: Path, say: Say) -> None:
    """Re-read the config and take its watchlists (recording new definitions) and channels;
    a bad edit keeps the running ones and says why."""
    try:
        fresh = await runtime.reload_recorded(load_settings(config_file))
    except Exception as e:  # keep the running watchlists on a bad edit
        say(f"reload refused: {e}")
        return
    say(f"watchlists reloaded ({len(fresh.watchlists)})")


class _Reloads:
    """SIGHUP → one reload task at a time, in order (two quick signals must not race)."""

    def __init__(self, runtime: Runtime, config_file: Path, say: Say) -> None:
        self._args = (runtime, config_file, say)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def hangup(self) -> None:
        task = asyncio.create_task(self._reload(), name="reload watchlists")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self) -> None:
        async with self._lock:
            await reload_from(*self._args)


async def serve(settings: Settings, config_file: Path, *, say: Say) -> None:
    """The service until SIGTERM or SIGINT (graceful stop); SIGHUP reloads."""
    # Signals are handled from the first moment: a SIGTERM during start-up (migrations,
    # pool start) still ends in a graceful stop and exit 0.
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop_requested.set)
    loop.add_signal_handler(signal.SIGINT, stop_requested.set)
    # SIGHUP's default action ends the process: until the runtime can reload, say so instead.
    loop.add_signal_handler(signal.SIGHUP, say, "reload ignored: the service is still starting")
    with single_writer(settings.database.url):
        async with open_runtime(settings) as runtime:
            await _clear_leases_if_sqlite(runtime)
            service = Service(runtime)

            async def relay_stop() -> None:
                await stop_requested.wait()
                service.stop()

            loop.add_signal_handler(signal.SIGHUP, _Reloads(runtime, config_file, say).hangup)
            relay = asyncio.create_task(relay_stop())
            try:
                await service.run()
            finally:
                relay.cancel()
