"""Surge and quiet episodes SQL: open one with its outbox rows in one transaction (never twice:
the id and the one-open-episode-per-subject index are unique keys), close it, list them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.dialect import insert_ignore
from monitor.storage.tables import outbox, trend_episodes


@dataclass(frozen=True, slots=True)
class Episode:
    """One stored episode."""

    id: str
    type: str
    subject: str
    started_at: datetime
    ended_at: datetime | None
    payload: Mapping[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Episode:
        return cls(
            row.id, row.type, row.subject, row.started_at, row.ended_at, row.payload, row.created_at
        )


async def open_episodes(conn: AsyncConnection) -> dict[tuple[str, str], Episode]:
    """The open episodes by (type, subject)."""
    rows = await conn.execute(select(trend_episodes).where(trend_episodes.c.ended_at.is_(None)))
    return {(row.type, row.subject): Episode.of(row) for row in rows}


async def open_episode(
    conn: AsyncConnection, episode: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> bool:
    """Insert an episode and, if it is new, its outbox rows; False when it (or another open
    episode of the same subject) already exists."""
    inserted = await conn.execute(insert_ignore(conn, trend_episodes).values(**episode))
    if not inserted.rowcount:
        return False
    for row in rows:
        await conn.execute(insert_ignore(conn, outbox).values(**row))
    return True


async def close_episode(conn: AsyncConnection, episode_id: str, now: datetime) -> bool:
    """End an open episode; False if it was not open."""
    result = await conn.execute(
        update(trend_episodes)
        .where(trend_episodes.c.id == episode_id, trend_episodes.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(result.rowcount)


async def list_episodes(
    conn: AsyncConnection,
    since: datetime,
    subject: str | None = None,
    kind: str | None = None,
    *,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[Episode]:
    """Episodes raised since `since` (of one subject and type, if given), oldest first
    unless `newest_first`."""
    query = select(trend_episodes).where(trend_episodes.c.created_at >= since)
    if subject is not None:
        query = query.where(trend_episodes.c.subject == subject)
    if kind is not None:
        query = query.where(trend_episodes.c.type == kind)
    order = (trend_episodes.c.created_at, trend_episodes.c.id)
    query = query.order_by(*(c.desc() for c in order) if newest_first else order)
    rows = await conn.execute(query.limit(limit))
    return [Episode.of(row) for row in rows]
