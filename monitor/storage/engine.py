"""The async database engine, migrations under a lock, and the single-writer guard on SQLite."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.config import SSL_MODES
from monitor.errors import StorageError, one_line
from monitor.storage.dialect import session_lock, session_unlock

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK_KEY = (
    0x6D6F6E69746F72  # "monitor": the advisory lock N processes take to upgrade once
)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(
    url: str, *, schema: str | None = None, pool_size: int = 10, create_folder: bool = True
) -> AsyncEngine:
    """An AsyncEngine for `url`; creates the SQLite file's folder (unless told not to);
    `schema` sets search_path on PG."""
    path = sqlite_path(url)
    if path is not None:
        if create_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {"timeout": 10}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    parsed, ssl = _ssl_from_query(make_url(url))
    if ssl is not None:
        connect_args["ssl"] = ssl
    return create_async_engine(
        parsed, connect_args=connect_args, pool_size=pool_size, max_overflow=5, pool_pre_ping=True
    )


def _ssl_from_query(url: URL) -> tuple[URL, str | None]:
    """libpq's `?sslmode=…` (what PostgreSQL URLs carry) as asyncpg's `ssl` argument; asyncpg
    takes no `sslmode` keyword and would fail with a traceback. StorageError for a mode
    PostgreSQL does not have."""
    mode = url.query.get("sslmode") or url.query.get("ssl")
    if mode is None:
        return url, None
    if not isinstance(mode, str) or mode not in SSL_MODES:
        raise StorageError(
            f"database.url: sslmode must be one of {', '.join(SSL_MODES)}, not {mode!r}"
        )
    return url.difference_update_query(["sslmode", "ssl"]), mode


def _alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade_sync(connection: Connection) -> None:
    session_lock(connection, _MIGRATION_LOCK_KEY)
    try:
        command.upgrade(_alembic_config(connection), "head")
    finally:
        session_unlock(connection, _MIGRATION_LOCK_KEY)


async def upgrade(engine: AsyncEngine) -> None:
    """Apply all migrations once, however many processes start together: on PostgreSQL
    under an advisory lock, on SQLite under a lock file beside the database (a `monitor
    status` run while the service first starts would otherwise create the tables twice)."""
    try:
        with _sqlite_migration_lock(engine):
            async with engine.connect() as connection:
                await connection.run_sync(_upgrade_sync)
                await connection.commit()
    except (SQLAlchemyError, OSError) as e:
        raise StorageError(
            f"cannot use the database at {_where(engine)}: {describe_error(e)}"
        ) from e


@contextlib.contextmanager
def _sqlite_migration_lock(engine: AsyncEngine) -> Iterator[None]:
    """Hold `<file>.migrate-lock` (a blocking flock, held for milliseconds) on SQLite."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".migrate-lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _current_and_head(connection: Connection) -> tuple[str | None, str | None]:
    context = MigrationContext.configure(connection)
    script = ScriptDirectory.from_config(_alembic_config(connection))
    return context.get_current_revision(), script.get_current_head()


async def migration_state(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(current revision, head revision); raise StorageError when the database is unreachable."""
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_and_head)
    except (SQLAlchemyError, OSError) as e:
        raise StorageError(f"database unreachable at {_where(engine)}: {describe_error(e)}") from e


def _where(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=True)


def missing_database(engine: AsyncEngine) -> str | None:
    """One line when the engine's SQLite file is not there (connecting would create it)."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None or path.exists():
        return None
    return f"no database at {path}: run `monitor db upgrade` (or `monitor run`) first"


def describe_error(error: BaseException) -> str:
    """One line for a database error: the driver's own message (no SQL, no traceback)."""
    return one_line(getattr(error, "orig", None) or error.__cause__ or error)


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not be used at all (down, locked, connection
    lost) rather than that it refused this one row: the first fails the whole poll, the
    second only the entry that caused it."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (OperationalError, InterfaceError, OSError, TimeoutError))


@contextlib.contextmanager
def single_writer(url: str) -> Iterator[None]:
    """On SQLite, refuse a second `monitor run` on the same file instead of deadlocking it."""
    path = sqlite_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    handle = open(lock_path, "a+")  # noqa: SIM115 - held for the life of the service
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as e:
        handle.close()
        raise StorageError(
            f"another `monitor run` is using {path} (SQLite allows one service process;"
            " use PostgreSQL to run several workers)"
        ) from e
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
