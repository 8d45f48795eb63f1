"""Trend counts SQL: derive `trend_counts` from stored matches, read series and the stories
and outlets behind a window, and the activity of watchlists and feed tags for quiet checks.

`refresh_counts` is incremental and idempotent: it recounts whole hours from the earliest
hour any match stored since its watermark (minus `SLACK`, for transactions that committed
late) was seen in — an article counts at its publish time, up to `BACKDATE` before it was
fetched, and a backfill adds matches to old hours — and the first run counts the whole
history a week at a time. Counting itself is the pure `monitor.trends.aggregate_counts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.dialect import xact_lock
from monitor.storage.periodic import get_mark, set_mark
from monitor.storage.tables import articles, feeds, matches, stories, trend_counts
from monitor.trends import BACKDATE, HOUR, MatchedArticle, aggregate_counts, hour_floor

MARK = "trend-counts"
_COUNTS_LOCK = 0x6D6F6E74726E64  # "montrnd": serialises recounts of two workers (PostgreSQL)
SLACK = timedelta(minutes=30)
CHUNK = timedelta(days=7)
IN_BATCH = 500


def _matched() -> Any:
    return select(
        matches.c.watchlist,
        func.coalesce(matches.c.actor, "").label("actor"),
        articles.c.story_id,
        articles.c.feed_id,
        articles.c.fetched_at,
        articles.c.published_at,
    ).select_from(matches.join(articles, articles.c.id == matches.c.article_id))


def _row(r: Any) -> MatchedArticle:
    return MatchedArticle(r.watchlist, r.actor, r.story_id, r.feed_id, r.fetched_at, r.published_at)


def _earliest(rows: Any) -> datetime | None:
    seen = [moment for moment in (_row(r).seen_at for r in rows) if moment is not None]
    return min(seen, default=None)


async def _recount_from(conn: AsyncConnection, mark: datetime | None) -> datetime | None:
    """The first hour to recount: all history on the first run, else the watermark's hour
    or the earliest hour a match stored since then was seen in — None if nothing matched."""
    if mark is None:
        joined = matches.join(articles, articles.c.id == matches.c.article_id)
        oldest = await conn.scalar(select(func.min(articles.c.fetched_at)).select_from(joined))
        return hour_floor(oldest - BACKDATE) if isinstance(oldest, datetime) else None
    since = mark - SLACK
    earliest = _earliest(await conn.execute(_matched().where(matches.c.created_at >= since)))
    return hour_floor(since if earliest is None else min(earliest, since))


async def _counted_before(
    conn: AsyncConnection, story_ids: Sequence[int], start: datetime
) -> set[tuple[str, str, int]]:
    """(watchlist, actor, story) with a matched article seen before `start`."""
    found: set[tuple[str, str, int]] = set()
    ids = sorted(set(story_ids))
    for i in range(0, len(ids), IN_BATCH):
        query = _matched().where(
            articles.c.story_id.in_(ids[i : i + IN_BATCH]),
            articles.c.fetched_at < start + BACKDATE,
        )
        for row in map(_row, await conn.execute(query)):
            seen = row.seen_at
            if seen is not None and seen < start:
                found.add((row.watchlist, row.actor, row.story_id))
                found.add((row.watchlist, "", row.story_id))
    return found


async def _recount(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    """Replace the buckets of [start, end) by a fresh count; the number written."""
    result = await conn.execute(
        _matched().where(articles.c.fetched_at >= start, articles.c.fetched_at < end + BACKDATE)
    )
    rows = [row for row in map(_row, result) if _within(row.seen_at, start, end)]
    before = await _counted_before(conn, [r.story_id for r in rows], start)
    buckets = aggregate_counts(rows, before)
    await conn.execute(
        delete(trend_counts).where(trend_counts.c.hour >= start, trend_counts.c.hour < end)
    )
    values = [
        {"watchlist": w, "actor": a, "hour": h, "stories": s, "outlets": o}
        for (w, a, h), (s, o) in buckets.items()
    ]
    if values:
        await conn.execute(trend_counts.insert(), values)
    return len(values)


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


async def refresh_counts(conn: AsyncConnection, now: datetime) -> int:
    """Bring `trend_counts` up to `now`; the number of buckets written. Two callers at once
    (the check is a singleton, but a lease can expire mid-run) take turns on PostgreSQL."""
    await xact_lock(conn, _COUNTS_LOCK)
    mark = await get_mark(conn, MARK)
    start = await _recount_from(conn, mark)
    written = 0
    end = hour_floor(now) + HOUR
    while start is not None and start < end:
        chunk_end = min(end, start + CHUNK)
        written += await _recount(conn, start, chunk_end)
        start = chunk_end
    await set_mark(conn, MARK, now)
    return written


@dataclass(frozen=True, slots=True)
class HourCount:
    """One stored bucket."""

    hour: datetime
    stories: int
    outlets: int


async def hourly_counts(
    conn: AsyncConnection, watchlist: str, since: datetime, actor: str = ""
) -> list[HourCount]:
    """The non-empty hours of a watchlist (or one of its actors) from `since`, oldest first."""
    rows = await conn.execute(
        select(trend_counts.c.hour, trend_counts.c.stories, trend_counts.c.outlets)
        .where(
            trend_counts.c.watchlist == watchlist,
            trend_counts.c.actor == actor,
            trend_counts.c.hour >= hour_floor(since),
        )
        .order_by(trend_counts.c.hour)
    )
    return [HourCount(r.hour, r.stories, r.outlets) for r in rows]


async def first_counted(conn: AsyncConnection, watchlist: str, actor: str = "") -> datetime | None:
    """The first hour a watchlist (or one of its actors) counted a story: where its history
    starts."""
    value = await conn.scalar(
        select(func.min(trend_counts.c.hour)).where(
            trend_counts.c.watchlist == watchlist, trend_counts.c.actor == actor
        )
    )
    return value if isinstance(value, datetime) else None


async def actors_of(conn: AsyncConnection, watchlist: str) -> list[str]:
    """The actors of a watchlist that have counts."""
    rows = await conn.execute(
        select(trend_counts.c.actor)
        .where(trend_counts.c.watchlist == watchlist, trend_counts.c.actor != "")
        .distinct()
    )
    return sorted(str(r[0]) for r in rows)


@dataclass(frozen=True, slots=True)
class Driver:
    """A story or an outlet behind a surge, with how much it contributed."""

    id: int
    name: str
    stories: int
    outlets: int


async def top_stories(
    conn: AsyncConnection, watchlist: str, since: datetime, limit: int = 5
) -> list[Driver]:
    """The matched stories with articles since `since`, most outlets first."""
    outlets = func.count(distinct(articles.c.feed_id))
    rows = await conn.execute(
        select(articles.c.story_id, stories.c.title, outlets.label("outlets"))
        .select_from(
            matches.join(articles, articles.c.id == matches.c.article_id).join(
                stories, stories.c.id == articles.c.story_id
            )
        )
        .where(matches.c.watchlist == watchlist, articles.c.fetched_at >= since)
        .group_by(articles.c.story_id, stories.c.title)
        .order_by(outlets.desc(), articles.c.story_id.desc())
        .limit(limit)
    )
    return [Driver(r.story_id, r.title, 1, r.outlets) for r in rows]


async def top_outlets(
    conn: AsyncConnection, watchlist: str, since: datetime, limit: int = 5
) -> list[Driver]:
    """The feeds carrying the most matched stories since `since`."""
    count = func.count(distinct(articles.c.story_id))
    rows = await conn.execute(
        select(feeds.c.id, feeds.c.name, feeds.c.title, feeds.c.url, count.label("stories"))
        .select_from(
            matches.join(articles, articles.c.id == matches.c.article_id).join(
                feeds, feeds.c.id == articles.c.feed_id
            )
        )
        .where(matches.c.watchlist == watchlist, articles.c.fetched_at >= since)
        .group_by(feeds.c.id, feeds.c.name, feeds.c.title, feeds.c.url)
        .order_by(count.desc(), feeds.c.id)
        .limit(limit)
    )
    return [Driver(r.id, r.name or r.title or r.url, r.stories, 1) for r in rows]


@dataclass(frozen=True, slots=True)
class Coverage:
    """A subject's last story and its stories since a baseline start."""

    last_story_at: datetime | None
    stories_since: int
    first_seen: datetime | None


async def watchlist_coverage(conn: AsyncConnection, watchlist: str, since: datetime) -> Coverage:
    """When a watchlist last matched, and its stories counted since `since`."""
    last = await conn.scalar(
        select(func.max(matches.c.created_at)).where(matches.c.watchlist == watchlist)
    )
    total = await conn.scalar(
        select(func.coalesce(func.sum(trend_counts.c.stories), 0)).where(
            trend_counts.c.watchlist == watchlist,
            trend_counts.c.actor == "",
            trend_counts.c.hour >= hour_floor(since),
        )
    )
    first = await first_counted(conn, watchlist)
    return Coverage(last if isinstance(last, datetime) else None, int(total or 0), first)


async def feeds_by_tag(conn: AsyncConnection) -> dict[str, list[int]]:
    """The ids of the feeds carrying each tag (any state: a stopped feed still covers it)."""
    tagged: dict[str, list[int]] = {}
    for row in await conn.execute(select(feeds.c.id, feeds.c.tags).order_by(feeds.c.id)):
        for tag in row.tags or ():
            tagged.setdefault(str(tag), []).append(int(row.id))
    return tagged


async def tag_coverage(conn: AsyncConnection, feed_ids: Sequence[int], since: datetime) -> Coverage:
    """When the feeds of a tag last stored an article, and their distinct stories since."""
    scope = articles.c.feed_id.in_(list(feed_ids))
    row = (
        await conn.execute(
            select(func.max(articles.c.fetched_at), func.min(articles.c.fetched_at)).where(scope)
        )
    ).one()
    total = await conn.scalar(
        select(func.count(distinct(articles.c.story_id))).where(
            scope, articles.c.fetched_at >= since
        )
    )
    return Coverage(row[0], int(total or 0), row[1])
