"""The audit log: every change made through a face (who, what, when, before and after).

Account and triage use cases write their row in the same transaction as the change
(`record`). A face that composes a change from another use case (adding a feed, retrying a
delivery) records it with `Audit.record` once the change succeeded. Values never hold a
secret: callers pass the record's public form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.errors import InvalidRequest
from monitor.services.context import Context
from monitor.storage import audit as store

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change: `actor` did `action` on `target` at `at`; the record before and after."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """Entries newest first; `next_cursor` fetches the older ones (None at the end)."""

    items: tuple[AuditEntry, ...]
    next_cursor: str | None


async def record(
    conn: AsyncConnection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one change in the caller's transaction."""
    await store.append(
        conn, at=at, actor=actor, action=action, target=target, before=before, after=after
    )


def _cursor(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise InvalidRequest(f"bad cursor {value!r}: pass the next_cursor of the previous page")
    return int(value)


class Audit:
    """Reading the audit log, and recording changes other use cases made."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def record(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record one change in a transaction of its own."""
        async with self._context.write() as conn:
            await record(
                conn,
                at=self._context.clock.now(),
                actor=actor,
                action=action,
                target=target,
                before=before,
                after=after,
            )

    async def list(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        target: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
    ) -> AuditPage:
        """Entries newest first, `limit` (at most 200) per page."""
        limit = max(1, min(limit, MAX_PAGE))
        async with self._context.read() as conn:
            rows = await store.entries(
                conn,
                limit=limit + 1,
                before_id=_cursor(cursor),
                target=target,
                actor=actor,
                since=since,
            )
        items = tuple(AuditEntry(**row) for row in rows[:limit])
        more = len(rows) > limit
        return AuditPage(items, str(items[-1].id) if more and items else None)
