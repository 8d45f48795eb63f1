"""The API of `monitor run` takes a reloaded config (SIGHUP) from the runtime's hooks."""

from __future__ import annotations

import copy
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import FrozenClock
from monitor.config import Settings
from monitor.server import serve_status
from monitor.services import Monitor
from monitor.services.context import Context
from tests.support.api import CONFIG, NOW
from tests.support.usecases import settings_over


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_reload_reaches_the_api(engine: AsyncEngine) -> None:
    served = {"server": {"enabled": True, "port": 0}}
    settings = settings_over(engine, CONFIG | served)
    clock = FrozenClock(NOW)
    accounts = Monitor.build(Context(settings, engine, clock))
    await accounts.users.add("vic", "viewer", "a long password", actor="test")
    token = (await accounts.tokens.create("vic", expires=timedelta(days=1), actor="test")).secret
    hooks: list = []
    server = await serve_status(engine=engine, settings=settings, clock=clock, reloads=hooks)
    assert server is not None
    raw = copy.deepcopy(CONFIG | served)
    raw["watchlists"].append({"name": "water", "terms": ["Syr Darya"], "channels": ["desk-log"]})
    fresh: Settings = settings_over(engine, raw)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}",
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
        ) as client:
            names = [w["name"] for w in (await client.get("/api/v1/watchlists")).json()]
            assert names == ["isis-k"]
            for hook in hooks:
                hook(fresh)
            names = [w["name"] for w in (await client.get("/api/v1/watchlists")).json()]
            assert names == ["isis-k", "water"]
    finally:
        await server.stop()
