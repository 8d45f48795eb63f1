"""Error lines a user reads name what failed: a URL they gave that answers 404 is named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.errors import FetchError
from tests.support.feedserver import FeedServer
from tests.support.usecases import use_cases

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CONFIG = {"polling": {"allow_networks": ["127.0.0.0/8"], "timeout": "10s"}}


async def test_an_http_error_on_a_url_the_user_gave_names_the_url(engine: AsyncEngine) -> None:
    monitor, _ = use_cases(engine, NOW, CONFIG)
    with FeedServer() as server:
        missing = server.url("/gone")
        with pytest.raises(FetchError) as added:
            await monitor.feeds.add(missing)
        with pytest.raises(FetchError) as tested:
            await monitor.watchlists.test_url(missing)

    assert str(added.value) == f"{missing}: HTTP 404"
    assert str(tested.value) == f"{missing}: HTTP 404"
