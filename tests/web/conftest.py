"""Fixtures of the web tests: the API served over a seeded database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.api import Served, served_api


@pytest.fixture
async def api(engine: AsyncEngine) -> AsyncIterator[Served]:
    """The API over a seeded database, on SQLite and on PostgreSQL."""
    async with served_api(engine) as served:
        yield served
