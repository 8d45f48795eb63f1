"""PostgreSQL URLs as users write them: libpq's `?sslmode=` works or fails in one line, never
with a 111-line traceback; a missing SQLite database is reported, not created, by the
commands that only read (`status`, `health`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.errors import StorageError
from monitor.storage.engine import create_engine, upgrade
from tests.support.cli import write_config
from tests.support.databases import pg_database


def _monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


async def test_sslmode_disable_in_a_postgresql_url_connects() -> None:
    async with pg_database() as url:
        engine = create_engine(url + "?sslmode=disable")
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 1")) == 1
        finally:
            await engine.dispose()


def test_an_unknown_sslmode_is_one_line() -> None:
    with pytest.raises(StorageError, match=r"^database.url: sslmode must be one of disable,"):
        create_engine("postgresql+asyncpg://postgres@127.0.0.1/x?sslmode=sometimes")


async def test_sslmode_require_against_a_server_without_ssl_is_one_line(tmp_path: Path) -> None:
    async with pg_database() as url:
        config = write_config(tmp_path / "monitor.toml", url + "?sslmode=require", [])
        result = _monitor(config, "db", "upgrade")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")


@pytest.mark.parametrize("command", [("status",), ("status", "--json"), ("health",)])
def test_status_and_health_never_create_a_missing_sqlite_database(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "data" / "monitor.db"
    config = write_config(tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{missing}", [])

    result = _monitor(config, *command)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: no database at {missing}: run `monitor db upgrade` (or `monitor run`) first"
    )
    assert not (tmp_path / "data").exists()


async def test_status_never_creates_tables_in_an_empty_postgresql_database(
    tmp_path: Path,
) -> None:
    async with pg_database() as url:
        config = write_config(tmp_path / "monitor.toml", url, [])
        result = _monitor(config, "status")
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                tables = await conn.scalar(
                    text("SELECT count(*) FROM information_schema.tables"
                         " WHERE table_schema = 'public'")
                )  # fmt: skip
        finally:
            await engine.dispose()

    assert result.returncode == 1
    assert "run `monitor db upgrade`" in result.stderr
    assert tables == 0


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'data' / 'm.db'}", []
    )

    first, second = _monitor(config, "db", "upgrade"), _monitor(config, "db", "upgrade")

    assert (first.returncode, second.returncode) == (0, 0)
    assert first.stdout.startswith("database upgraded from a new database to revision 00")
    head = first.stdout.strip().rsplit(" ", 1)[1]
    assert second.stdout.strip() == f"database is up to date (revision {head})"
