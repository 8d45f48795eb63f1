"""Fresh databases for a measurement (a SQLite file, or a PostgreSQL database created for
the run and dropped after it) and the monitor settings that point at them."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from monitor.config import Settings, settings_from_dict
from monitor.logs import configure_logging

PG_URL = os.environ.get("MONITOR_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


async def pg_reachable(url: str = PG_URL) -> bool:
    """True when PostgreSQL answers at `url` (its server, through the postgres database)."""
    engine = create_async_engine(_admin_url(url), connect_args={"timeout": 3})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def pg_database(url: str = PG_URL) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one measurement (its URL), dropped afterwards."""
    name = f"monitor_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@contextlib.asynccontextmanager
async def database(backend: str, folder: Path) -> AsyncIterator[str]:
    """A URL of an empty database on `backend` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        path = folder / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(str(path) + suffix).unlink()
        return
    async with pg_database() as url:
        yield url


def settings(
    url: str,
    feed_urls: Sequence[str],
    folder: Path,
    *,
    watchlists: Sequence[dict[str, Any]] = (),
    channels: dict[str, Any] | None = None,
    **polling: Any,
) -> Settings:
    """Monitor settings for a benchmark run: loopback allowed, the given feeds and watchlists."""
    raw = {
        "database": {"url": url},
        "polling": {"allow_networks": ["127.0.0.0/8"], "timeout": "60s", **polling},
        "feeds": [{"url": u, "name": f"bench {i}"} for i, u in enumerate(feed_urls)],
        "watchlists": list(watchlists),
        "channels": channels or {},
    }
    return settings_from_dict(raw, base=folder, check_secrets=False)


def service_logging() -> None:
    """Log as `monitor run --once` does (JSON lines at INFO); the worker's stderr is a file."""
    configure_logging("json", 0, service=True)
