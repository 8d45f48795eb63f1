"""Use cases only the analyst console needs: the counts it shows beside records (outlets per
story, new articles per feed, failing deliveries per channel) and a watchlist's alerts per
day over the last weeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from monitor.services.context import Context
from monitor.storage import tallies


class Console:
    """Counts and series for the console's pages."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def outlets(self, story_ids: Sequence[int]) -> dict[int, int]:
        """Distinct feeds that carried each story."""
        async with self.ctx.read() as conn:
            return await tallies.outlets_per_story(conn, story_ids)

    async def alerts_per_day(self, watchlist: str, *, days: int = 30) -> list[tuple[date, int]]:
        """The watchlist's alerts on each of the last `days` UTC days, today last, zeros kept."""
        first = self.ctx.clock.now().astimezone(UTC).date() - timedelta(days=days - 1)
        since = datetime.combine(first, time(), tzinfo=UTC)
        async with self.ctx.read() as conn:
            counts = await tallies.alerts_per_day(conn, watchlist, since=since)
        days_shown = [first + timedelta(days=i) for i in range(days)]
        return [(day, counts.get(day, 0)) for day in days_shown]

    async def new_articles(self, *, within: timedelta = timedelta(hours=24)) -> dict[int, int]:
        """Articles each feed (by id) produced within the last `within`."""
        async with self.ctx.read() as conn:
            return await tallies.new_articles_per_feed(conn, since=self.ctx.clock.now() - within)

    async def newest_alert_at(self) -> datetime | None:
        """When the newest alert was raised (None before the first)."""
        async with self.ctx.read() as conn:
            return await tallies.newest_alert_at(conn)

    async def failing_deliveries(self) -> dict[str, int]:
        """Per channel: deliveries dead-lettered or waiting for a retry after a failure."""
        async with self.ctx.read() as conn:
            return await tallies.failing_per_channel(conn)
