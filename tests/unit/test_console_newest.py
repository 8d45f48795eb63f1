"""The shared watch on the newest alert: it polls only while watched, wakes every waiter when
a newer alert appears, and times out quietly when none does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from monitor.web.console.newest import NewestAlert

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Store:
    def __init__(self) -> None:
        self.newest: datetime | None = None
        self.looks = 0

    async def look(self) -> datetime | None:
        self.looks += 1
        return self.newest


async def test_waiters_wake_when_a_newer_alert_appears() -> None:
    store = Store()
    watch = NewestAlert(store.look, poll=0.01)
    async with watch.watching(), watch.watching():
        assert not await watch.newer_than(None, timeout=0.05)
        waiters = [asyncio.create_task(watch.newer_than(None, timeout=5)) for _ in range(3)]
        store.newest = T0
        assert await asyncio.gather(*waiters) == [True, True, True]
        assert await watch.newer_than(T0 - timedelta(seconds=1), timeout=0)
        assert not await watch.newer_than(T0, timeout=0.05)
        store.newest = T0 + timedelta(seconds=1)
        assert await watch.newer_than(T0, timeout=5)


async def test_it_stops_looking_when_nobody_watches() -> None:
    store = Store()
    watch = NewestAlert(store.look, poll=0.01)
    async with watch.watching():
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.05)
    looks = store.looks
    await asyncio.sleep(0.05)
    assert store.looks == looks
    async with watch.watching():
        store.newest = T0
        assert await watch.newer_than(None, timeout=5)
