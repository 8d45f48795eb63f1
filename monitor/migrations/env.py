"""Alembic environment: async, URL from the feed-monitor config (or a connection handed in)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from monitor.config import config_path, load_config
from monitor.storage.dialect import foreign_keys_unenforced
from monitor.storage.engine import create_engine
from monitor.storage.tables import metadata

config = context.config


def _not_search_index(
    obj: object, name: str | None, type_: str, reflected: bool, _: object
) -> bool:
    """Autogenerate must leave the full-text objects of revision 0002 alone (they are raw SQL)."""
    return not (
        reflected and name is not None and name.startswith(("articles_fts", "ix_articles_search"))
    )


def _run(connection: Connection) -> None:
    # A SQLite table rebuild (batch mode) drops the original table: with foreign keys
    # enforced, that would cascade to every row referencing it.
    with foreign_keys_unenforced(connection):
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_not_search_index,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = (
        config.get_main_option("sqlalchemy.url")
        or load_config(config_path(None), check_secrets=False).database.url
    )
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_async())
