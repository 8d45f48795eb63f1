"""SQL for alert triage: read and set an alert's triage state, precision per watchlist."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.tables import alerts

_TRIAGE = select(
    alerts.c.id,
    alerts.c.watchlist,
    alerts.c.story_id,
    alerts.c.triage_state,
    alerts.c.triage_note,
    alerts.c.triage_by,
    alerts.c.triage_at,
)


async def triage_of(conn: AsyncConnection, alert_id: str) -> dict[str, Any] | None:
    """The alert's triage columns (state, note, by, at) and watchlist, or None if no alert."""
    row = (await conn.execute(_TRIAGE.where(alerts.c.id == alert_id))).first()
    return None if row is None else dict(row._mapping)


async def triages(conn: AsyncConnection, alert_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The triage columns of each of `alert_ids` that exists."""
    if not alert_ids:
        return []
    rows = await conn.execute(_TRIAGE.where(alerts.c.id.in_(list(alert_ids))))
    return [dict(row._mapping) for row in rows]


async def set_triage(
    conn: AsyncConnection,
    alert_id: str,
    *,
    state: str,
    note: str | None,
    by: str | None,
    at: datetime | None,
) -> None:
    await conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id)
        .values(triage_state=state, triage_note=note, triage_by=by, triage_at=at)
    )


async def precision_counts(conn: AsyncConnection) -> dict[str, tuple[int, int]]:
    """Per watchlist: (false positives, triaged alerts) — triaged meaning state != new."""
    triaged = func.sum(case((alerts.c.triage_state != "new", 1), else_=0))
    false = func.sum(case((alerts.c.triage_state == "false_positive", 1), else_=0))
    rows = await conn.execute(
        select(alerts.c.watchlist, false.label("fp"), triaged.label("triaged")).group_by(
            alerts.c.watchlist
        )
    )
    return {row.watchlist: (int(row.fp or 0), int(row.triaged or 0)) for row in rows}
