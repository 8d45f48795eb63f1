"""The newest alert's creation time, looked up once a second for every open live inbox of
this process: N open inboxes cost one index probe a second (`max(created_at)`), and each
runs its own filtered query only when an alert newer than it last saw exists.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

POLL = 1.0  # seconds between looks


class NewestAlert:
    """A shared watch on the newest alert, polling only while someone watches."""

    def __init__(self, look: Callable[[], Awaitable[datetime | None]], poll: float = POLL):
        self._look, self._poll = look, poll
        self._changed = asyncio.Condition()
        self._watchers = 0
        self._task: asyncio.Task[None] | None = None
        self.newest: datetime | None = None

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[NewestAlert]:
        """Keep the watch running while the block runs."""
        self._watchers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="console newest alert")
            await self._refresh()
        try:
            yield self
        finally:
            self._watchers -= 1

    async def newer_than(self, seen: datetime | None, *, timeout: float) -> bool:
        """Wait until the newest alert is later than `seen`; False after `timeout` seconds."""
        if self._later(seen):
            return True
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._later(seen)), timeout)
            except TimeoutError:
                return False
        return True

    def _later(self, seen: datetime | None) -> bool:
        return self.newest is not None and (seen is None or self.newest > seen)

    async def _run(self) -> None:
        while self._watchers:
            await asyncio.sleep(self._poll)
            await self._refresh()

    async def _refresh(self) -> None:
        newest = await self._look()
        if newest != self.newest:
            self.newest = newest
            async with self._changed:
                self._changed.notify_all()
