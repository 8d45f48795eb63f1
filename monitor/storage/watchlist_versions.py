"""Watchlist history SQL: each distinct watchlist definition loaded, recorded once per
(name, sha256 of its canonical JSON) with the next version number for that name.

Several workers loading the same edit at once record it once: the insert is guarded by
the unique keys and the loser reads the winner's row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.errors import StorageError
from monitor.storage.dialect import insert_ignore
from monitor.storage.tables import watchlist_versions

ATTEMPTS = 5


async def _known(conn: AsyncConnection, name: str, sha256: str) -> int | None:
    version = await conn.scalar(
        select(watchlist_versions.c.version).where(
            watchlist_versions.c.name == name, watchlist_versions.c.sha256 == sha256
        )
    )
    return None if version is None else int(version)


async def _record_once(
    conn: AsyncConnection, name: str, definition: str, sha256: str, host: str, now: datetime
) -> int | None:
    known = await _known(conn, name, sha256)
    if known is not None:
        await conn.execute(
            update(watchlist_versions)
            .where(watchlist_versions.c.name == name, watchlist_versions.c.version == known)
            .values(last_loaded_at=now)
        )
        return known
    latest = await conn.scalar(
        select(func.max(watchlist_versions.c.version)).where(watchlist_versions.c.name == name)
    )
    version = int(latest or 0) + 1
    inserted = await conn.execute(
        insert_ignore(conn, watchlist_versions).values(
            name=name,
            version=version,
            sha256=sha256,
            definition=definition,
            first_loaded_at=now,
            last_loaded_at=now,
            host=host,
        )
    )
    return version if inserted.rowcount else None


async def record_version(
    engine: AsyncEngine, name: str, definition: str, sha256: str, *, host: str, now: datetime
) -> int:
    """The version number of this definition of watchlist `name`, recorded if it is new."""
    for _ in range(ATTEMPTS):
        async with engine.begin() as conn:
            version = await _record_once(conn, name, definition, sha256, host, now)
        if version is not None:
            return version
    raise StorageError(f"could not record a version of watchlist {name!r} (concurrent edits)")


async def list_versions(conn: AsyncConnection, name: str) -> list[dict[str, Any]]:
    """Every recorded version of watchlist `name`, oldest first."""
    rows = await conn.execute(
        select(watchlist_versions)
        .where(watchlist_versions.c.name == name)
        .order_by(watchlist_versions.c.version)
    )
    return [dict(row._mapping) for row in rows]
