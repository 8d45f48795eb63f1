"""Loading the settings (the config with its watchlists compiled, so a bad query is a config
error too) and opening the database they name, migrated."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import Settings, load_config
from monitor.errors import ConfigError
from monitor.pipeline.match import Matcher
from monitor.storage.engine import create_engine, migration_state, upgrade


def load_settings(path: Path, *, check_secrets: bool = True) -> Settings:
    """Load the config and compile its watchlists; ConfigError names the file and key."""
    settings = load_config(path, check_secrets=check_secrets)
    compile_matcher(settings)
    return settings


def compile_matcher(settings: Settings) -> Matcher:
    """The matcher of every configured watchlist; ConfigError for a bad query."""
    try:
        return Matcher.compile(settings.watchlists)
    except ConfigError as e:
        raise ConfigError(f"{settings.source}: {e}") from e


@contextlib.asynccontextmanager
async def open_engine(settings: Settings, *, migrate: bool = True) -> AsyncIterator[AsyncEngine]:
    """The database engine, upgraded to the latest migration unless told otherwise (without
    `migrate` not even a SQLite file's folder is created: such commands only read)."""
    engine = create_engine(settings.database.url, create_folder=migrate)
    try:
        if migrate:
            await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


async def upgrade_database(settings: Settings) -> tuple[str | None, str | None]:
    """Apply the migrations (`monitor db upgrade`); the database's revision before (None for
    a new database) and after."""
    engine = create_engine(settings.database.url, create_folder=True)
    try:
        before, _ = await migration_state(engine)
        await upgrade(engine)
        after, _ = await migration_state(engine)
        return before, after
    finally:
        await engine.dispose()
