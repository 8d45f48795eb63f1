"""Fresh test databases: the backends every storage test runs on, a PostgreSQL database
created for one test and dropped after it, and migrated copies of a template the session
migrates once (a copy is the same schema as a migration run, at a fraction of its cost)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from monitor.storage.engine import create_engine, upgrade

PG_URL = os.environ.get(
    "MONITOR_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_url() -> str:
    return PG_URL.rsplit("/", 1)[0] + "/postgres"


def _pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + name


async def _pg_admin(statement: str) -> None:
    admin = create_async_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


@contextlib.asynccontextmanager
async def pg_database(template: str | None = None) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (its URL), a copy of `template` if given, dropped afterwards."""
    name = f"monitor_t_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    await _pg_admin(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield _pg_url(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


# What a migration run writes besides the schema: the database's own random installation id
# (0008). Each copy gets a new one, as each migrated database does.
_REKEY = "UPDATE installation SET id = :id"


class MigratedTemplates:
    """A migrated SQLite file and a migrated PostgreSQL database, each made on first use and
    copied for every test that wants a migrated database. The names are this session's own
    (other test runs may share the PostgreSQL server); `drop` removes the PostgreSQL one."""

    def __init__(self, folder: Path) -> None:
        self._sqlite = folder / "template.db"
        self._pg = f"monitor_tpl_{uuid.uuid4().hex[:12]}"
        self._sqlite_made = self._pg_made = False

    async def sqlite_copy(self, path: Path) -> str:
        """A migrated SQLite database at `path`; its URL."""
        if not self._sqlite_made:
            await _migrate(f"sqlite+aiosqlite:///{self._sqlite}")
            self._sqlite_made = True
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._sqlite, path)
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute(_REKEY.replace(":id", "?"), (secrets.token_hex(16),))
        return f"sqlite+aiosqlite:///{path}"

    @contextlib.asynccontextmanager
    async def pg_copy(self) -> AsyncIterator[str]:
        """A migrated PostgreSQL database (its URL), dropped afterwards."""
        if not self._pg_made:
            await _pg_admin(f'CREATE DATABASE "{self._pg}"')
            self._pg_made = True
            await _migrate(_pg_url(self._pg))
        async with pg_database(template=self._pg) as url:
            engine = create_engine(url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(_REKEY), {"id": secrets.token_hex(16)})
            finally:
                await engine.dispose()
            yield url

    def drop(self) -> None:
        """Drop the PostgreSQL template (from a thread: the caller's loop may be running)."""
        if self._pg_made:
            statement = f'DROP DATABASE IF EXISTS "{self._pg}" WITH (FORCE)'
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _pg_admin(statement)).result()
