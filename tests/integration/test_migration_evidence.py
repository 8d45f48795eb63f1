"""Migration 0006 (evidence) on both backends: it downgrades cleanly to 0005, dropping its
tables and the alert column, and upgrades again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.engine import _alembic_config, upgrade

EVIDENCE_TABLES = {"evidence_blobs", "evidence_snapshots", "watchlist_versions"}


def _shape(connection: Connection) -> tuple[set[str], set[str]]:
    found = inspect(connection)
    alert_columns = {c["name"] for c in found.get_columns("alerts")}
    return set(found.get_table_names()) & EVIDENCE_TABLES, alert_columns


def _downgrade(connection: Connection) -> None:
    command.downgrade(_alembic_config(connection), "0005")


async def test_0006_downgrades_and_upgrades_again(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables, columns = await conn.run_sync(_shape)
    assert tables == EVIDENCE_TABLES
    assert "watchlist_version" in columns
    async with engine.connect() as conn:
        await conn.run_sync(_downgrade)
        await conn.commit()
    async with engine.connect() as conn:
        tables, columns = await conn.run_sync(_shape)
    assert tables == set()
    assert "watchlist_version" not in columns
    assert "triage_state" in columns  # 0005 is left as it was
    await upgrade(engine)
    async with engine.connect() as conn:
        tables, columns = await conn.run_sync(_shape)
    assert tables == EVIDENCE_TABLES
    assert "watchlist_version" in columns
