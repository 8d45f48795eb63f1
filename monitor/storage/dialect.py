"""Where SQLite and PostgreSQL differ, said once: INSERT … ON CONFLICT, GREATEST, advisory
locks and SKIP LOCKED. Every storage module asks here instead of testing the dialect itself.

Advisory locks exist on PostgreSQL only; on SQLite one process writes (the single-writer
guard) and a write transaction already excludes the others, so the lock calls do nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

AnyConnection = AsyncConnection | Connection
T = TypeVar("T")
CHUNK = 500  # values per IN list: well under both drivers' bound-parameter limits


def is_postgresql(conn: AnyConnection) -> bool:
    return conn.dialect.name == "postgresql"


def insert(conn: AnyConnection, table: Table) -> Any:
    """The dialect's INSERT, which has `on_conflict_do_nothing` / `on_conflict_do_update`."""
    return (postgresql if is_postgresql(conn) else sqlite).insert(table)


def insert_ignore(conn: AnyConnection, table: Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING."""
    return insert(conn, table).on_conflict_do_nothing()


def greatest(conn: AnyConnection, *values: Any) -> Any:
    """The largest of the values (SQLite's two-argument max() is its GREATEST)."""
    return func.greatest(*values) if is_postgresql(conn) else func.max(*values)


def skip_locked(conn: AnyConnection, query: Any) -> Any:
    """`query` FOR UPDATE SKIP LOCKED on PostgreSQL: concurrent claimers take different rows."""
    return query.with_for_update(skip_locked=True) if is_postgresql(conn) else query


async def xact_lock(conn: AsyncConnection, key: int | str) -> None:
    """Hold an advisory lock until the transaction ends (a string key is hashed)."""
    if not is_postgresql(conn):
        return
    if isinstance(key, str):
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    else:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def xact_locks(conn: AsyncConnection, space: int, keys: Sequence[int]) -> None:
    """Hold advisory locks on (space, key) for each key until the transaction ends, taken in
    key order so two transactions wanting overlapping sets never deadlock."""
    if not is_postgresql(conn) or not keys:
        return
    await conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:keys AS int[])) AS k "
            "ORDER BY k"
        ),
        {"space": space, "keys": sorted(set(keys))},
    )


def in_chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices of `size`, for IN lists the drivers accept."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def key_share(conn: AnyConnection, query: Any) -> Any:
    """`query` FOR KEY SHARE on PostgreSQL: the rows cannot be deleted until the transaction
    ends (what an insert referencing them takes anyway, taken earlier)."""
    return query.with_for_update(read=True, key_share=True) if is_postgresql(conn) else query


def for_update(conn: AnyConnection, query: Any) -> Any:
    """`query` FOR UPDATE on PostgreSQL (SQLite's write transaction excludes the others)."""
    return query.with_for_update() if is_postgresql(conn) else query


def session_lock(conn: Connection, key: int) -> None:
    """Take an advisory lock held until `session_unlock` (or the connection closes)."""
    if is_postgresql(conn):
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})


def session_unlock(conn: Connection, key: int) -> None:
    if is_postgresql(conn):
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextlib.contextmanager
def foreign_keys_unenforced(conn: Connection) -> Iterator[None]:
    """Run a block of schema changes with SQLite's foreign keys unenforced, and commit it
    (on PostgreSQL nothing changes and the caller commits).

    SQLite changes a table constraint by rebuilding the table: a copy is filled and the
    original dropped, and with enforcement on, that drop deletes or nulls out every row
    referencing the table (its ON DELETE actions). The pragma takes effect only outside a
    transaction, so the block is committed (or rolled back) before enforcement comes back
    on for the pooled connection's next user."""
    if is_postgresql(conn):
        yield
        return
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        yield
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
