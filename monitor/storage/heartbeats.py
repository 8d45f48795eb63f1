"""Heartbeats: each worker writes one every tick; health reads the newest."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.storage.dialect import insert_ignore
from monitor.storage.tables import heartbeats


async def beat(engine: AsyncEngine, owner: str, now: datetime) -> None:
    """Write this worker's heartbeat (`monitor health` checks it is fresh)."""
    async with engine.begin() as conn:
        values = {"worker": owner, "host": socket.gethostname(), "pid": os.getpid(), "beat_at": now}
        updated = await conn.execute(
            heartbeats.update().where(heartbeats.c.worker == owner).values(beat_at=now)
        )
        if not updated.rowcount:
            await conn.execute(insert_ignore(conn, heartbeats).values(**values))


async def heartbeat_rows(conn: AsyncConnection) -> list[Any]:
    """Every worker's last heartbeat, newest first."""
    return list(await conn.execute(select(heartbeats).order_by(heartbeats.c.beat_at.desc())))
