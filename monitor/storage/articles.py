"""Storing one article in one transaction: dedupe, story assignment, matches, alerts, outbox.

`store_article` is the write path of the pipeline. Everything it writes for an article
commits together, so a crash either leaves the article unseen (the next poll fetches it
again) or stored with its alerts and outbox rows (never a second alert, never a lost one).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.errors import StorageError
from monitor.models import AlertContext, Article, EvidenceRef, Snapshot, WatchlistMatch, storable
from monitor.storage.dialect import greatest, insert_ignore, xact_locks
from monitor.storage.evidence import keep_evidence, payload_evidence
from monitor.storage.tables import (
    alerts,
    articles,
    entries,
    feeds,
    installation,
    matches,
    outbox,
    stories,
    story_bands,
)

# (watchlist match, alert context) -> (alert row, outbox rows); built by the notify layer.
AlertBuilder = Callable[[WatchlistMatch, AlertContext], tuple[dict[str, Any], list[dict[str, Any]]]]
# (candidates [(story id, packed signature)], the article) -> story id or None
StoryPicker = Callable[[Sequence[tuple[int, bytes]], Article], int | None]


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What storing one entry did."""

    article_id: int | None  # None when the entry was a duplicate
    story_id: int | None = None
    duplicate_of: str | None = None  # "guid" | "url" | "hash" when dropped
    new_story: bool = False
    alert_ids: tuple[str, ...] = ()
    alerted: tuple[str, ...] = ()  # the watchlists of `alert_ids`, in the same order


MAX_CANDIDATES = 32
_BANDS_LOCK_SPACE = 7  # advisory lock space of story band keys


class _Conflict(Exception):
    """A concurrent writer stored the same article first; retry to see it as a duplicate."""


async def mark_seen(
    conn: AsyncConnection, feed_id: int, guid: str, now: datetime, duplicate_of: str | None = None
) -> bool:
    """Record (feed, guid) as seen; False when it was seen before."""
    result = await conn.execute(
        insert_ignore(conn, entries).values(
            feed_id=feed_id, guid=guid, seen_at=now, duplicate_of=duplicate_of
        )
    )
    return bool(result.rowcount)


async def record_failed_entry(
    engine: AsyncEngine, feed_id: int, guid: str, now: datetime, error: str
) -> None:
    """Record an entry that could not be stored, so it is not retried on every poll."""
    async with engine.begin() as conn:
        await conn.execute(
            insert_ignore(conn, entries).values(
                feed_id=feed_id, guid=storable(guid), seen_at=now, error=storable(error)[:500]
            )
        )


async def seen_guids(conn: AsyncConnection, feed_id: int, guids: Sequence[str]) -> set[str]:
    """The guids of this feed already seen (stored or dropped as duplicates)."""
    found: set[str] = set()
    for start in range(0, len(guids), 500):
        chunk = list(guids[start : start + 500])
        rows = await conn.execute(
            select(entries.c.guid).where(entries.c.feed_id == feed_id, entries.c.guid.in_(chunk))
        )
        found.update(rows.scalars())
    return found


async def _existing_duplicate(conn: AsyncConnection, article: Article) -> str | None:
    row = (
        await conn.execute(
            select(articles.c.canonical_url, articles.c.content_hash).where(
                or_(
                    articles.c.canonical_url == article.canonical_url,
                    articles.c.content_hash == article.content_hash,
                )
            )
        )
    ).first()
    if row is None:
        return None
    return "url" if row.canonical_url == article.canonical_url else "hash"


async def _lock_bands(conn: AsyncConnection, bands: Sequence[str]) -> None:
    # Two workers storing copies of one story at once must not both open a new story:
    # serialise on the story's band keys (sorted, so lock order is global).
    await xact_locks(conn, _BANDS_LOCK_SPACE, [zlib.crc32(band.encode()) - 2**31 for band in bands])


async def _candidates(
    conn: AsyncConnection, bands: Sequence[str], since: datetime
) -> list[tuple[int, bytes]]:
    if not bands:
        return []
    # The articles sharing the most band keys are the likeliest copies; a templated feed can
    # make thousands share one band, so only the best few are compared.
    shared = (
        select(story_bands.c.article_id, func.count().label("shared"))
        .where(story_bands.c.band_key.in_(list(bands)), story_bands.c.created_at >= since)
        .group_by(story_bands.c.article_id)
        .order_by(func.count().desc(), story_bands.c.article_id.desc())
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    rows = await conn.execute(
        select(articles.c.story_id, articles.c.signature)
        .select_from(shared.join(articles, articles.c.id == shared.c.article_id))
        .where(articles.c.signature.is_not(None))
    )
    return [(row.story_id, row.signature) for row in rows]


async def _assign_story(
    conn: AsyncConnection, article: Article, pick: StoryPicker, window: timedelta
) -> tuple[int, bool]:
    await _lock_bands(conn, article.bands)
    candidates = await _candidates(conn, article.bands, article.fetched_at - window)
    story_id = pick(candidates, article) if candidates else None
    if story_id is not None:
        await conn.execute(
            update(stories)
            .where(stories.c.id == story_id)
            .values(
                article_count=stories.c.article_count + 1,
                last_seen=greatest(conn, stories.c.last_seen, article.fetched_at),
            )
        )
        return story_id, False
    created = await conn.execute(
        stories.insert()
        .values(
            title=article.title,
            first_seen=article.fetched_at,
            last_seen=article.fetched_at,
            article_count=1,
        )
        .returning(stories.c.id)
    )
    return int(created.scalar_one()), True


async def _index_bands(
    conn: AsyncConnection, article: Article, article_id: int, story_id: int, new_story: bool
) -> None:
    """Add the article's band keys to the candidate index, only those its story lacks.

    One row per (band, story) keeps the index small for widely syndicated stories and keeps
    the candidate lookup bounded for templated feeds whose items all share their bands.
    """
    bands = list(article.bands)
    if bands and not new_story:
        known = await conn.execute(
            select(story_bands.c.band_key).where(
                story_bands.c.story_id == story_id, story_bands.c.band_key.in_(bands)
            )
        )
        have = set(known.scalars())
        bands = [band for band in bands if band not in have]
    if not bands:
        return
    await conn.execute(
        insert_ignore(conn, story_bands),
        [
            {
                "band_key": band,
                "article_id": article_id,
                "story_id": story_id,
                "created_at": article.fetched_at,
            }
            for band in bands
        ],
    )


def _article_values(article: Article, story_id: int) -> dict[str, Any]:
    return {
        "feed_id": article.feed_id,
        "guid": article.guid,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "author": article.author,
        "published_at": article.published_at,
        "fetched_at": article.fetched_at,
        "summary": article.summary,
        "text": article.text,
        "language": article.language,
        "content_hash": article.content_hash,
        "story_id": story_id,
        "signature": article.signature or None,
    }


async def insert_matches(
    conn: AsyncConnection, article_id: int, found: Sequence[WatchlistMatch], article: Article
) -> None:
    rows = []
    for match in found:
        for count in match.matches:
            offsets = [[h.start, h.end] for h in match.hits if h.term == count.term]
            normalized = next(
                (h.normalized for h in match.hits if h.term == count.term), count.term
            )
            rows.append(
                {
                    "article_id": article_id,
                    "watchlist": match.watchlist,
                    "term": count.term,
                    "actor": count.actor,
                    "normalized": normalized,
                    "count": count.count,
                    "offsets": offsets,
                    "language": article.language,
                    "created_at": article.fetched_at,
                }
            )
    if rows:
        await conn.execute(insert_ignore(conn, matches), rows)


async def alert_context(
    conn: AsyncConnection,
    article: Article,
    article_id: int,
    story_id: int,
    evidence: tuple[EvidenceRef, ...] = (),
) -> AlertContext:
    feed = (
        await conn.execute(select(feeds.c.url, feeds.c.name).where(feeds.c.id == article.feed_id))
    ).one()
    count = await conn.scalar(select(stories.c.article_count).where(stories.c.id == story_id))
    return AlertContext(
        article_id,
        article,
        feed.url,
        feed.name,
        story_id,
        int(count or 1),
        installation=await installation_id(conn),
        evidence=tuple(evidence),
    )


async def installation_id(conn: AsyncConnection) -> str:
    """This database's random id (migration 0008), which makes its alert ids its own."""
    value = await conn.scalar(select(installation.c.id).limit(1))
    if value is None:
        raise StorageError("the database has no installation id; run `monitor db upgrade`")
    return str(value)


async def insert_alerts(
    conn: AsyncConnection,
    found: Sequence[WatchlistMatch],
    context: AlertContext,
    build: AlertBuilder,
) -> tuple[tuple[str, str], ...]:
    """Insert one alert per (watchlist, story) and its outbox rows, only where it is new;
    return the (watchlist, alert id) pairs created."""
    created = []
    for match in found:
        alert_row, outbox_rows = build(match, context)
        result = await conn.execute(insert_ignore(conn, alerts).values(**alert_row))
        if not result.rowcount:
            continue  # this story already alerted this watchlist
        created.append((match.watchlist, str(alert_row["id"])))
        if outbox_rows:
            await conn.execute(insert_ignore(conn, outbox), outbox_rows)
    return tuple(created)


async def store_matches(
    conn: AsyncConnection,
    row: Any,
    found: Sequence[WatchlistMatch],
    build: AlertBuilder,
    snapshot: Snapshot | None = None,
) -> int:
    """Store matches found later on a stored article (a backfill) and raise their alerts
    where they are new, keeping `snapshot` as the evidence; returns how many were new."""
    article = replace(stored_article(row), snapshot=snapshot)
    await insert_matches(conn, row.id, found, article)
    evidence = await payload_evidence(conn, article, row.id, row.story_id, new_story=False)
    context = await alert_context(conn, article, row.id, row.story_id, evidence)
    created = len(await insert_alerts(conn, found, context, build))
    await keep_evidence(conn, article, row.id, row.story_id, matched=bool(found), new_story=False)
    return created


def stored_article(row: Any) -> Article:
    """An articles row as the record the write path takes."""
    return Article(
        feed_id=row.feed_id,
        guid=row.guid,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        author=row.author,
        published_at=row.published_at,
        fetched_at=row.fetched_at,
        summary=row.summary,
        text=row.text,
        language=row.language,
        content_hash=row.content_hash,
    )


async def _store_once(
    engine: AsyncEngine,
    article: Article,
    found: Sequence[WatchlistMatch],
    *,
    pick: StoryPicker,
    build: AlertBuilder,
    window: timedelta,
) -> StoreResult:
    async with engine.begin() as conn:
        duplicate = await _existing_duplicate(conn, article)
        if duplicate:
            if not await mark_seen(
                conn, article.feed_id, article.guid, article.fetched_at, duplicate
            ):
                return StoreResult(None, duplicate_of="guid")
            return StoreResult(None, duplicate_of=duplicate)
        story_id, new_story = await _assign_story(conn, article, pick, window)
        inserted = await conn.execute(
            insert_ignore(conn, articles)
            .values(**_article_values(article, story_id))
            .returning(articles.c.id)
        )
        article_id = inserted.scalar_one_or_none()
        if article_id is None:
            raise _Conflict
        seen = await conn.execute(
            insert_ignore(conn, entries).values(
                feed_id=article.feed_id,
                guid=article.guid,
                article_id=article_id,
                seen_at=article.fetched_at,
            )
        )
        if not seen.rowcount:
            raise _Conflict
        if new_story:
            await conn.execute(
                update(stories)
                .where(stories.c.id == story_id)
                .values(representative_article_id=article_id)
            )
        await _index_bands(conn, article, article_id, story_id, new_story)
        created: tuple[tuple[str, str], ...] = ()
        feed = None
        if found:
            await insert_matches(conn, article_id, found, article)
            evidence = await payload_evidence(conn, article, article_id, story_id, new_story)
            context = await alert_context(conn, article, article_id, story_id, evidence)
            created = await insert_alerts(conn, found, context, build)
            feed = (context.feed_url, context.feed_name)
        await keep_evidence(
            conn, article, article_id, story_id, matched=bool(found), new_story=new_story, feed=feed
        )
        return StoreResult(
            article_id,
            story_id,
            None,
            new_story,
            tuple(alert for _, alert in created),
            tuple(watchlist for watchlist, _ in created),
        )


async def store_article(
    engine: AsyncEngine,
    article: Article,
    found: Sequence[WatchlistMatch],
    *,
    pick: StoryPicker,
    build: AlertBuilder,
    window: timedelta,
) -> StoreResult:
    """Store an article with its story, matches, alerts and outbox rows in one transaction.

    Text the database cannot hold (NUL, lone surrogates) is replaced here, whatever the
    caller passed, so one odd character never makes an article unstorable."""
    article = article.storable()
    found = [match.storable() for match in found]
    async with _writer(engine):
        try:
            return await _store_once(engine, article, found, pick=pick, build=build, window=window)
        except _Conflict:
            # Another worker committed the same article (or entry) between our check and insert.
            return await _store_once(engine, article, found, pick=pick, build=build, window=window)


_SQLITE_WRITERS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


def _writer(engine: AsyncEngine) -> contextlib.AbstractAsyncContextManager[Any]:
    """SQLite has one writer: serialise this process's article transactions so a story lookup
    always sees the previous article's commit (PostgreSQL uses advisory locks instead)."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _SQLITE_WRITERS.get(engine)
    if lock is None:
        lock = _SQLITE_WRITERS[engine] = asyncio.Lock()
    return lock
