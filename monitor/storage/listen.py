"""Wake-ups through PostgreSQL `LISTEN`: a trigger on the outbox (migration 0004) sends a
`NOTIFY monitor_outbox` when rows are inserted, so any worker delivers a new alert within
moments instead of at its next delivery tick, whichever process (another worker, a
backfill, the silent-feed check) wrote it.

Best effort: the delivery tick still runs, so a lost listening connection only delays
delivery until it is back. SQLite has no LISTEN; one process there delivers what it stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import describe_error

log = structlog.get_logger("monitor.storage.listen")

OUTBOX_CHANNEL = "monitor_outbox"
_RETRY_FIRST = 1.0
_RETRY_MAX = 300.0


async def listen(
    engine: AsyncEngine,
    channel: str,
    wake: Callable[[], None],
    *,
    ready: asyncio.Event | None = None,
) -> None:
    """Call `wake()` on each notification on `channel` until cancelled; reconnect (backing
    off from 1 s to 5 min) whenever the connection is lost. Returns at once on SQLite."""
    if engine.dialect.name != "postgresql":
        return
    delay = _RETRY_FIRST
    while True:
        try:
            await _listen_once(engine, channel, wake, ready)
            delay = _RETRY_FIRST  # it had listened until the connection went
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.warning(
                "not listening for new outbox rows; delivery waits for its tick",
                error=describe_error(e),
                retry_in=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)
            continue
        log.warning("the listening connection was lost; reconnecting", channel=channel)
        await asyncio.sleep(_RETRY_FIRST)  # not in a tight loop if it keeps being dropped


async def _listen_once(
    engine: AsyncEngine,
    channel: str,
    wake: Callable[[], None],
    ready: asyncio.Event | None,
) -> None:
    """Listen on one connection until it is lost."""
    lost = asyncio.Event()

    def notified(*_: Any) -> None:
        wake()

    def terminated(*_: Any) -> None:
        lost.set()

    async with engine.connect() as conn:
        driver: Any = (await conn.get_raw_connection()).driver_connection
        driver.add_termination_listener(terminated)
        await driver.add_listener(channel, notified)
        try:
            log.info("listening for new outbox rows", channel=channel)
            wake()  # rows written while nobody listened
            if ready is not None:
                ready.set()
            await lost.wait()
        finally:
            if ready is not None:
                ready.clear()
            driver.remove_termination_listener(terminated)
            with suppress(Exception):  # the connection may be gone already
                await driver.remove_listener(channel, notified)
