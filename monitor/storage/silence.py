"""Silent-feed SQL: find feeds that went dark, flag each once per silence (`silent_flagged_at`)
with an optional system message in the outbox, and clear the flag when a feed speaks again.
The decision itself is `monitor.silence` (pure); the notice's outbox row comes from the
caller (`Notice`), like alert rows do for the article write path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.silence import (
    ACTIVE_STATES,
    FeedActivity,
    SilencePolicy,
    SilentFeed,
    is_silent,
    silent_after,
)
from monitor.storage.dialect import insert_ignore
from monitor.storage.tables import feeds, outbox

# (silent feed, now) -> the outbox row of its notice, or None for no notice.
Notice = Callable[[SilentFeed, datetime], dict[str, Any] | None]


async def clear_recovered(conn: AsyncConnection) -> int:
    """Clear the flag of feeds that produced something since they were flagged."""
    result = await conn.execute(
        update(feeds)
        .where(
            feeds.c.silent_flagged_at.is_not(None),
            feeds.c.last_new_at.is_not(None),
            feeds.c.last_new_at > feeds.c.silent_flagged_at,
        )
        .values(silent_flagged_at=None)
    )
    return int(result.rowcount)


async def newly_silent(
    conn: AsyncConnection, policy: SilencePolicy, now: datetime
) -> list[SilentFeed]:
    """Active, not yet flagged feeds that are silent at `now`."""
    quiet_since = func.coalesce(feeds.c.last_new_at, feeds.c.created_at)
    rows = await conn.execute(
        select(feeds)
        .where(
            feeds.c.state.in_(ACTIVE_STATES),
            feeds.c.silent_flagged_at.is_(None),
            # No feed is silent sooner than the minimum unless it sets its own silent_after.
            or_(feeds.c.silent_after_seconds.is_not(None), quiet_since <= now - policy.minimum),
        )
        .order_by(feeds.c.id)
    )
    return [
        _silent_feed(row, policy) for row in rows if is_silent(policy, FeedActivity.of(row), now)
    ]


def _silent_feed(row: Any, policy: SilencePolicy) -> SilentFeed:
    activity = FeedActivity.of(row)
    return SilentFeed(
        id=row.id,
        url=row.url,
        name=row.name or row.title,
        state=row.state,
        last_error=row.last_error,
        last_poll_at=row.last_poll_at,
        quiet_since=activity.quiet_since,
        silent_after=silent_after(policy, activity),
    )


async def flag(conn: AsyncConnection, feed: SilentFeed, notice: Notice, now: datetime) -> bool:
    """Flag one silent feed and queue its notice (if any); False if another process
    flagged it first."""
    flagged = await conn.execute(
        update(feeds)
        .where(feeds.c.id == feed.id, feeds.c.silent_flagged_at.is_(None))
        .values(silent_flagged_at=now)
    )
    if not flagged.rowcount:
        return False
    row = notice(feed, now)
    if row is not None:
        await conn.execute(insert_ignore(conn, outbox).values(**row))
    return True


async def check_silent_feeds(
    engine: AsyncEngine, policy: SilencePolicy, notice: Notice, now: datetime
) -> list[SilentFeed]:
    """Clear recovered feeds, flag the newly silent ones; return those flagged now."""
    async with engine.begin() as conn:
        await clear_recovered(conn)
        candidates = await newly_silent(conn, policy, now)
    flagged = []
    for feed in candidates:
        async with engine.begin() as conn:
            if await flag(conn, feed, notice, now):
                flagged.append(feed)
    return flagged
