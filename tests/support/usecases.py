"""The use cases (`monitor.services`) over a test's engine, with a test's settings and clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import FrozenClock
from monitor.config import Settings, settings_from_dict
from monitor.services import Monitor
from monitor.services.context import Context


def settings_over(
    engine: AsyncEngine, raw: dict[str, Any] | None = None, *, source: str = "<config>"
) -> Settings:
    """Settings over `engine`'s database, with `raw` config sections (no secrets checked),
    as if read from the file named `source`."""
    url = engine.url.render_as_string(hide_password=False)
    config = {"database": {"url": url}} | (raw or {})
    return settings_from_dict(config, base=Path("."), source=source, check_secrets=False)


def use_cases(
    engine: AsyncEngine,
    now: datetime,
    raw: dict[str, Any] | None = None,
    *,
    source: str = "<config>",
) -> tuple[Monitor, FrozenClock]:
    """The facade every face calls, over `engine`, at a clock set to `now`."""
    clock = FrozenClock(now)
    settings = settings_over(engine, raw, source=source)
    return Monitor.build(Context(settings, engine, clock)), clock
