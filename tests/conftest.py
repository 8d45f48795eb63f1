"""Shared fixtures: a migrated database on each backend (SQLite file, PostgreSQL database)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.storage.engine import create_engine, upgrade

PG_URL = os.environ.get(
    "MONITOR_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _pg_admin_url() -> str:
    return PG_URL.rsplit("/", 1)[0] + "/postgres"


@contextlib.asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database (its URL), dropped afterwards."""
    name = f"monitor_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database URL on the parametrized backend, isolated to this test."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url
        return
    async with pg_database() as url:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
        yield url


def engine_for(url: str) -> AsyncEngine:
    """An engine for a `database_url` fixture value."""
    return create_engine(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated AsyncEngine on the parametrized backend."""
    eng = engine_for(database_url)
    try:
        yield eng
    finally:
        await eng.dispose()
