"""An article's entries, matches and alerts: the statements the write path
(`storage.store`) and a backfill (`store_matches`) share, and the seen/failed entry records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.errors import StorageError
from monitor.models import AlertContext, Article, EvidenceRef, Snapshot, WatchlistMatch, storable
from monitor.storage.dialect import insert_ignore
from monitor.storage.evidence import keep_evidence, payload_evidence
from monitor.storage.tables import (
    alerts,
    entries,
    feeds,
    installation,
    matches,
    outbox,
    stories,
)

# (watchlist match, alert context) -> (alert row, outbox rows); built by the notify layer.
AlertBuilder = Callable[[WatchlistMatch, AlertContext], tuple[dict[str, Any], list[dict[str, Any]]]]


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


def match_rows(
    article_id: int, found: Sequence[WatchlistMatch], article: Article
) -> list[dict[str, Any]]:
    """The `matches` rows of an article's watchlist matches: one per (watchlist, term)."""
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
    return rows


async def insert_matches(
    conn: AsyncConnection, article_id: int, found: Sequence[WatchlistMatch], article: Article
) -> None:
    rows = match_rows(article_id, found, article)
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
        canonical_link=row.canonical_link,
        title=row.title,
        author=row.author,
        published_at=row.published_at,
        fetched_at=row.fetched_at,
        summary=row.summary,
        text=row.text,
        language=row.language,
        content_hash=row.content_hash,
    )
