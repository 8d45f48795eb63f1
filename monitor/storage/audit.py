"""SQL for the audit log: append a change, read changes newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.tables import audit_log


async def append(
    conn: AsyncConnection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> int:
    """Record one change in the caller's transaction; the new row's id."""
    result = await conn.execute(
        insert(audit_log)
        .values(at=at, actor=actor, action=action, target=target, before=before, after=after)
        .returning(audit_log.c.id)
    )
    return int(result.scalar_one())


async def entries(
    conn: AsyncConnection,
    *,
    limit: int,
    before_id: int | None = None,
    target: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Audit rows newest first (by id), optionally below `before_id` (a cursor) and filtered."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    if target is not None:
        query = query.where(audit_log.c.target == target)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    return [dict(row._mapping) for row in await conn.execute(query)]
