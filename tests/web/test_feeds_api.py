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


async def test_an_added_feed_answers_as_listed_and_records_its_origin(api: Served) -> None:
    opml = b'<opml version="2.0"><body><outline xmlUrl="http://imported.test/rss"/></body></opml>'
    async with api.client("analyst") as client:
        added = await client.post(
            "/api/v1/feeds", json={"url": "http://added.test/rss", "discover": False}
        )
        assert added.status_code == 201, added.text
        imported = await client.post(
            "/api/v1/feeds/import", content=opml, headers={"Content-Type": "text/x-opml"}
        )
        assert imported.json() == {"added": 1, "listed": 1}
        listed = {f["url"]: f for f in (await client.get("/api/v1/feeds")).json()}
        new = listed["http://added.test/rss"]
        assert added.json() == new | {"given": "http://added.test/rss"}
        assert new["source"] == "api"
        assert listed["http://imported.test/rss"]["source"] == "opml"
        assert listed[FEEDS[0]]["source"] == "config"
        removed = await client.delete(f"/api/v1/feeds/{added.json()['id']}")
        assert removed.json()["state"] == "removed"
