"""The console's own use cases (`services.console`) on SQLite and PostgreSQL: outlets per
story, alerts per day, the newest alert's time, new articles per feed, failing deliveries
per channel."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.services.console import Console
from monitor.storage.feeds import sync_config_feeds
from monitor.storage.tables import outbox
from tests.support.api import CONFIG, FEEDS, NOW, SEED_BODY, SEED_TITLE, article, ingest
from tests.support.usecases import use_cases

OTHER = "Police in Jalalabad arrested a man they say recruited fighters for ISKP last spring. "


async def test_console_counts_on_each_backend(engine: AsyncEngine) -> None:
    monitor, clock = use_cases(engine, NOW - timedelta(days=2), CONFIG)
    async with engine.begin() as conn:
        await sync_config_feeds(conn, monitor.settings.feeds, clock.now())
    ids = {f.url: f.id for f in await monitor.feeds.list()}
    a, b = ids[FEEDS[0]], ids[FEEDS[1]]
    seed = await ingest(
        engine, monitor.settings, clock, article(a, "s1", SEED_TITLE, SEED_BODY, at=clock.now())
    )
    clock.advance(timedelta(days=2))
    copy = await ingest(
        engine,
        monitor.settings,
        clock,
        article(b, "s2", SEED_TITLE, SEED_BODY + " Officials declined to comment.", at=clock.now()),
    )
    other = await ingest(
        engine, monitor.settings, clock, article(b, "o1", "Arrest", OTHER * 5, at=clock.now())
    )
    assert copy.story_id == seed.story_id != other.story_id
    assert seed.alert_ids
    assert other.alert_ids
    assert not copy.alert_ids

    console = Console(monitor.ctx)
    assert await console.outlets([seed.story_id, other.story_id, 999]) == {
        seed.story_id: 2,
        other.story_id: 1,
    }
    days = await console.alerts_per_day("isis-k", days=3)
    assert days == [
        (NOW.date() - timedelta(days=2), 1),
        (NOW.date() - timedelta(days=1), 0),
        (NOW.date(), 1),
    ]
    assert await console.alerts_per_day("no-such-watchlist", days=2) == [
        (NOW.date() - timedelta(days=1), 0),
        (NOW.date(), 0),
    ]
    assert await console.newest_alert_at() == NOW
    assert await console.new_articles(within=timedelta(hours=24)) == {b: 2}
    assert await console.failing_deliveries() == {}
    async with engine.begin() as conn:
        await conn.execute(
            update(outbox).where(outbox.c.alert_id == other.alert_ids[0]).values(status="dead")
        )
    assert await console.failing_deliveries() == {"desk-log": 1}
