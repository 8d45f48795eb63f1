"""Migration tests' helpers: an engine on an empty database of either backend, and a move
to one revision (Alembic's own commands, run on the engine's connection)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import _alembic_config, create_engine
from tests.support.databases import pg_database


@contextlib.asynccontextmanager
async def empty_database(backend: str, folder: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database with no tables yet (a SQLite file in `folder`, or a fresh
    PostgreSQL database dropped afterwards)."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{folder / 'fresh.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    async with pg_database() as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()


async def migrate_to(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or, with `down`, downgrade) the database to `revision`."""

    def run(connection: Connection) -> None:
        move = command.downgrade if down else command.upgrade
        move(_alembic_config(connection), revision)

    async with engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()
