"""Trend episodes leave through the alerts' own outbox and channels: a surge reaches a real
webhook receiver once, signed, under its episode id; the housekeeping job runs the check as
a cluster-wide singleton."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import FrozenClock
from monitor.config import Settings, settings_from_dict
from monitor.housekeeping import Housekeeping
from monitor.metrics import Metrics
from monitor.services.trends import Trends
from monitor.storage.tables import trend_episodes
from tests.support.notify import (
    WEBHOOK_SECRET,
    WebhookReceiver,
    delivery_worker,
    loopback_fetcher,
)
from tests.support.trend_store import Ctx, add_feeds, add_stories

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)


def _settings(url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    raw = {
        "watchlists": [
            {"name": "isis-k", "terms": ["ISIS-K"], "channels": ["hook"], "surge": True}
        ],
        "channels": {"hook": {"type": "webhook", "url": url, "secret_env": "TEST_WEBHOOK_SECRET"}},
        "delivery": {"retry_base": "30s", "retry_max": "10m", "timeout": "5s"},
    }
    return settings_from_dict(raw, base=Path("."))


async def _calm_then_burst(engine: AsyncEngine) -> None:
    outlets = await add_feeds(engine, 4, NOW - timedelta(days=30))
    calm = [NOW - timedelta(days=15) + timedelta(hours=12) * i for i in range(29)]
    await add_stories(engine, calm, outlets[:1])
    burst = [NOW - timedelta(minutes=80) + timedelta(minutes=8) * i for i in range(10)]
    await add_stories(engine, burst, outlets)


async def test_a_surge_reaches_a_webhook_once_signed_under_its_episode_id(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _calm_then_burst(engine)
    with WebhookReceiver().running() as receiver:
        settings = _settings(receiver.url, monkeypatch)
        report = await Trends(Ctx(settings, engine, FrozenClock(NOW))).check(NOW)
        async with loopback_fetcher() as client:
            delivery = delivery_worker(engine, settings, client, now=NOW)
            assert await delivery.run_once(NOW) == 1
            assert await delivery.run_once(NOW + timedelta(minutes=5)) == 0

    [received] = receiver.received
    assert received.verified
    assert received.status == 200
    assert received.id == report.opened[0]
    body = json.loads(received.body)
    assert (body["id"], body["type"], body["watchlist"]) == (
        received.id,
        "watchlist.surge",
        "isis-k",
    )


async def test_the_housekeeping_job_runs_the_check_once_per_period(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _calm_then_burst(engine)
    settings = _settings("http://127.0.0.1:9/hook", monkeypatch)
    clock = FrozenClock(NOW)
    workers = [
        Housekeeping(
            engine=engine, settings=settings, clock=clock, owner=f"w{i}", metrics=Metrics()
        )
        for i in range(2)
    ]

    ran = [await worker.trends() for worker in workers]
    clock.advance(timedelta(minutes=1))
    too_soon = await workers[1].trends()
    clock.advance(timedelta(minutes=5))
    again = await workers[1].trends()

    assert (ran, too_soon, again) == ([True, False], False, True)
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(trend_episodes)) == 1
