"""Shared fixtures: a migrated database on each backend (SQLite file, PostgreSQL database),
each a copy of a template the session migrates once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import create_engine
from tests.support.databases import BACKENDS, MigratedTemplates


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    try:
        yield templates
    finally:
        templates.drop()


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, migrated_templates: MigratedTemplates
) -> AsyncIterator[str]:
    """A migrated database URL on the parametrized backend, isolated to this test."""
    if backend == "sqlite":
        yield await migrated_templates.sqlite_copy(tmp_path / "monitor.db")
        return
    async with migrated_templates.pg_copy() as url:
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
