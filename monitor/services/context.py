"""What every use case shares: the live settings, the database engine and the clock.

`settings` is read at each call, never copied, so a reload (SIGHUP) that swaps it is seen by
the next call of every sub-service.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.clock import Clock
from monitor.config import Settings
from monitor.pipeline.fetch import Fetcher


@dataclass
class Context:
    """The parts a use case works with."""

    settings: Settings
    engine: AsyncEngine
    clock: Clock

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading."""
        async with self.engine.connect() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction, committed when the block ends without an error."""
        async with self.engine.begin() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def fetcher(self) -> AsyncIterator[Fetcher]:
        """An HTTP client with the polling limits (SSRF guard, caps, timeouts)."""
        async with Fetcher(self.settings.polling) as fetcher:
            yield fetcher
