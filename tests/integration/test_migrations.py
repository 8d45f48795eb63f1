"""Migrations on a fresh database: several processes starting at once (the service and a
`monitor status`, or N workers) upgrade it exactly once, each of them without an error."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.storage.engine import create_engine, migration_state
from tests.support.databases import pg_database

UPGRADE = """
import asyncio, sys
from monitor.storage.engine import create_engine, upgrade

async def main() -> None:
    engine = create_engine(sys.argv[1])
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()

asyncio.run(main())
"""
PROCESSES = 4


@pytest.fixture
async def empty_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL with no tables yet."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    async with pg_database() as url:
        yield url


async def _upgrade_in_process(url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        UPGRADE,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def test_processes_starting_together_upgrade_a_fresh_database_once(empty_url: str) -> None:
    results = await asyncio.gather(*(_upgrade_in_process(empty_url) for _ in range(PROCESSES)))

    failures = [output[-800:] for code, output in results if code != 0]
    assert failures == []
    engine = create_engine(empty_url)
    try:
        current, head = await migration_state(engine)
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await engine.dispose()
    assert current == head is not None
    assert [row.version_num for row in versions] == [head]
