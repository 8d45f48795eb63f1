"""An alert outlives its article (both backends): once `feeds remove` deleted the feed and
its articles, the alert still shows the article's title, URL, date, language and feed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.services.shapes import alert_json
from monitor.storage.feeds import add_feed
from monitor.storage.tables import feeds
from tests.support.stored_articles import (
    ISIS_K_MATCH,
    SEED_BODY,
    SEED_TITLE,
    article,
    store,
)
from tests.support.usecases import use_cases

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MATCH = ISIS_K_MATCH


async def test_an_alert_keeps_its_article_facts_after_its_feed_is_removed(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await add_feed(conn, "http://outlet.test/rss", name="Outlet", tags=[], now=NOW)
        feed_id = int(await conn.scalar(select(feeds.c.id)) or 0)
    await store(engine, article(feed_id, "g1", SEED_TITLE, SEED_BODY), [MATCH])
    monitor, _ = use_cases(engine, NOW)
    [before] = (await monitor.alerts.list()).items

    await monitor.feeds.remove("http://outlet.test/rss")
    after = await monitor.alerts.get(before.id)

    assert after.article.id is None
    assert (after.article.title, after.article.url) == (SEED_TITLE, "http://outlet.test/g1")
    assert after.article.feed == before.article.feed
    assert alert_json(after)["article"] == alert_json(before)["article"] | {"id": None}
