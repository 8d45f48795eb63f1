"""`DELETE /api/v1/feeds/{id}` follows `monitor feeds remove`'s rule (one use case): a feed
the config in use lists is refused with 409, a feed that has left the config is removed."""

from __future__ import annotations

from monitor.config import FeedConfig
from monitor.storage.feeds import sync_config_feeds
from tests.support.api import FEEDS, NOW, Served


async def test_only_a_feed_the_config_lists_is_refused(api: Served) -> None:
    dropped = FeedConfig(url="http://dropped.test/rss")  # was in an earlier config
    async with api.engine.begin() as conn:
        await sync_config_feeds(conn, (*api.monitor.settings.feeds, dropped), NOW)
    ids = {f.url: f.id for f in await api.monitor.feeds.list()}
    async with api.client("analyst") as client:
        refused = await client.delete(f"/api/v1/feeds/{ids[FEEDS[0]]}")
        assert refused.status_code == 409
        assert "remove it there" in refused.json()["detail"]
        removed = await client.delete(f"/api/v1/feeds/{ids[dropped.url]}")
        assert removed.status_code == 200, removed.text
        assert removed.json()["state"] == "removed"
    assert dropped.url not in {f.url for f in await api.monitor.feeds.list()}
