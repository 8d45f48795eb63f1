"""Shared fixtures: a migrated database on each backend (SQLite file, PostgreSQL database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import create_engine, upgrade
from tests.support.databases import BACKENDS, pg_database


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


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
