"""The use cases every face calls (`monitor.services`), on SQLite and PostgreSQL: what the
CLI, the REST API and the console show comes from these calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig, WatchlistConfig
from monitor.errors import Conflict, InvalidRequest, NotConfigured, NotFound
from monitor.pipeline.match import Matcher
from monitor.services import Monitor
from monitor.services.shapes import alert_json, to_json
from monitor.storage.tables import outbox
from tests.support.stored_articles import NOW, SEED_BODY, SEED_TITLE, add_feeds, article, store
from tests.support.usecases import use_cases

ISIS_K = {
    "name": "isis-k",
    "severity": "high",
    "channels": ["desk-log"],
    "actors": [{"name": "ISIS-Khorasan", "aliases": ["ISIS-K", "ISKP"]}],
}
RAW = {"watchlists": [ISIS_K], "channels": {"desk-log": {"type": "log"}}}
CALM = "Officials in Herat said the new road to the airport would open next spring."


async def _stored(engine: AsyncEngine) -> dict[str, tuple[int, int]]:
    """A two-outlet story that alerts isis-k, a Persian note that alerts too, calm news."""
    ids = await add_feeds(
        engine,
        FeedConfig(url="http://af.test/rss", name="AF"),
        FeedConfig(url="http://pk.test/rss", name="PK"),
    )
    af, pk = ids["http://af.test/rss"], ids["http://pk.test/rss"]
    matcher = Matcher.compile([WatchlistConfig.model_validate(ISIS_K)])

    async def put(feed: int, guid: str, title: str, text: str, days: int, lang: str = "en") -> Any:
        item = article(feed, guid, title, text, age=timedelta(days=days), language=lang)
        return await store(engine, item, matcher.match(title, text, language=lang))

    return {
        "seed-af": await put(af, "s1", SEED_TITLE, SEED_BODY, 3),
        "seed-pk": await put(pk, "s2", SEED_TITLE, SEED_BODY + " (PK copy)", 2),
        "note": await put(pk, "n1", "بیانیه", "بیانیه‌ای منسوب به ISKP منتشر شد.", 1, "fa"),
        "calm": await put(af, "c1", "Road", CALM, 0),
    }


@pytest.fixture
async def monitor(engine: AsyncEngine) -> Monitor:
    return use_cases(engine, NOW, RAW)[0]


async def test_alerts_list_filters_and_pages_with_a_cursor(
    engine: AsyncEngine, monitor: Monitor
) -> None:
    stored = await _stored(engine)
    everything = await monitor.alerts.list()
    # both raised at NOW: newest first, ties in id order
    assert sorted(a.story.id for a in everything.items) == sorted(
        [stored["note"][1], stored["seed-af"][1]]
    )
    assert [a.id for a in everything.items] == sorted(a.id for a in everything.items)
    assert everything.next_cursor is None
    first = await monitor.alerts.list(limit=1)
    second = await monitor.alerts.list(limit=1, cursor=first.next_cursor)
    assert [a.id for a in first.items + second.items] == [a.id for a in everything.items]
    assert second.next_cursor is None
    persian = await monitor.alerts.list(language="fa")
    assert [a.article.language for a in persian.items] == ["fa"]
    with pytest.raises(InvalidRequest):  # neither configured nor ever alerted
        await monitor.alerts.list(watchlist="other")
    assert len((await monitor.alerts.list(status="pending")).items) == 2
    assert (await monitor.alerts.list(status="sent")).items == ()
    assert (await monitor.alerts.list(since=NOW - timedelta(hours=1))).items == everything.items
    with pytest.raises(InvalidRequest):
        await monitor.alerts.list(cursor="not-a-cursor")
    with pytest.raises(InvalidRequest):
        await monitor.alerts.list(status="lost")


async def test_alert_show_has_deliveries_and_every_copy_and_the_webhook_shape(
    engine: AsyncEngine, monitor: Monitor
) -> None:
    stored = await _stored(engine)
    story = stored["seed-af"][1]
    [alert] = [a for a in (await monitor.alerts.list()).items if a.story.id == story]
    detail = await monitor.alerts.show(alert.id)
    assert [d.channel for d in detail.alert.deliveries] == ["desk-log"]
    assert detail.story is not None
    assert [a.id for a in detail.story.items] == [stored["seed-af"][0], stored["seed-pk"][0]]
    assert detail.alert.story.articles == 2  # the live size, not the size at alert time
    payload = alert_json(alert)
    assert set(payload) == {
        "id", "type", "created_at", "watchlist", "severity", "matches", "snippets", "article",
        "story", "evidence",
    }  # fmt: skip
    assert payload["story"] == {"id": story, "articles": 2}
    shown = to_json(detail)
    assert shown["deliveries"][0]["status"] == "pending"
    assert len(shown["copies"]) == 2
    with pytest.raises(NotFound):
        await monitor.alerts.get("alt_nothing")


async def test_retry_requeues_a_dead_delivery_and_never_a_sent_one(
    engine: AsyncEngine, monitor: Monitor
) -> None:
    await _stored(engine)
    first, second = (await monitor.alerts.list()).items
    async with engine.begin() as conn:
        await conn.execute(
            update(outbox).where(outbox.c.alert_id == first.id).values(status="dead")
        )
        await conn.execute(
            update(outbox).where(outbox.c.alert_id == second.id).values(status="sent")
        )
    assert await monitor.alerts.retry(first.id) == 1
    assert [d.status for d in (await monitor.alerts.get(first.id)).deliveries] == ["pending"]
    with pytest.raises(NotFound):
        await monitor.alerts.retry(second.id)
    with pytest.raises(InvalidRequest):
        await monitor.alerts.retry()


async def test_articles_and_stories(engine: AsyncEngine, monitor: Monitor) -> None:
    stored = await _stored(engine)
    listed = await monitor.articles.list()
    assert [a.id for a in listed] == [stored[k][0] for k in ("calm", "note", "seed-pk", "seed-af")]
    assert [a.id for a in await monitor.articles.list(feed="http://pk.test/rss")] == [
        stored["note"][0],
        stored["seed-pk"][0],
    ]
    seed = await monitor.articles.get(stored["seed-af"][0])
    assert seed.text == SEED_BODY
    assert seed.story.articles == 2
    assert {m.term for m in seed.matches} >= {"ISIS-K", "ISIS-Khorasan"}
    with pytest.raises(NotFound):
        await monitor.articles.get(999_999)
    stories = await monitor.stories.list()
    assert [(s.articles, s.outlets) for s in stories if s.id == stored["seed-af"][1]] == [(2, 2)]
    story = await monitor.stories.get(stored["seed-af"][1])
    assert (story.outlets, story.outlet_names) == (2, ("AF", "PK"))
    with pytest.raises(NotFound):
        await monitor.stories.get(999_999)
    found = await monitor.articles.search('"ISIS-Khorasan" NEAR/3 expansion')
    assert [f.article.id for f in found.articles] == [stored["seed-pk"][0], stored["seed-af"][0]]


async def test_feeds_add_change_remove_and_opml(engine: AsyncEngine) -> None:
    await add_feeds(engine, FeedConfig(url="http://config.test/rss", name="Config"))
    listed = {"feeds": [{"url": "http://config.test/rss", "name": "Config"}]}
    monitor = use_cases(engine, NOW, RAW | listed)[0]
    added = await monitor.feeds.add(
        "http://cli.test/rss", name="CLI", tags=["af", " "], discover=False
    )
    assert (added.url, added.given) == ("http://cli.test/rss", "http://cli.test/rss")
    with pytest.raises(Conflict):
        await monitor.feeds.add("http://cli.test/rss", discover=False)
    with pytest.raises(InvalidRequest):
        await monitor.feeds.add("ftp://cli.test/rss", discover=False)
    assert (await monitor.feeds.disable("http://cli.test/rss")).state == "disabled"
    by_url = {f.url: f for f in await monitor.feeds.list()}
    assert (by_url["http://cli.test/rss"].state, by_url["http://cli.test/rss"].tags) == (
        "disabled",
        ("af",),
    )
    assert by_url["http://config.test/rss"].source == "config"
    assert (await monitor.feeds.enable(str(by_url["http://cli.test/rss"].id))).state == "ok"
    with pytest.raises(Conflict, match="remove it there"):
        await monitor.feeds.remove("http://config.test/rss")
    with pytest.raises(NotFound):
        await monitor.feeds.enable("http://nowhere.test/rss")
    exported = await monitor.feeds.export_opml()
    assert (await monitor.feeds.remove("http://cli.test/rss")).state == "removed"
    imported = await monitor.feeds.import_opml(exported.encode())
    assert (imported.added, imported.listed) == (1, 2)  # the config feed is there already
    with pytest.raises(InvalidRequest):
        await monitor.feeds.import_opml(b"not opml at all")


async def test_feeds_remove_refuses_only_a_feed_the_current_config_lists(
    engine: AsyncEngine,
) -> None:
    """A feed dropped from the config (disabled at the next start) can be removed like a
    CLI-added one; only a feed the config in use lists is refused, naming that file."""
    kept, dropped = "http://kept.test/rss", "http://dropped.test/rss"
    await add_feeds(engine, FeedConfig(url=kept), FeedConfig(url=dropped))
    raw = RAW | {"feeds": [{"url": kept}]}
    monitor = use_cases(engine, NOW, raw, source="mv2.toml")[0]
    with pytest.raises(Conflict) as refused:
        await monitor.feeds.remove(kept)
    assert str(refused.value).startswith(f"{kept} comes from mv2.toml: remove it there")
    assert (await monitor.feeds.remove(dropped)).state == "removed"
    no_feeds = use_cases(engine, NOW, RAW)[0]  # a config with no feeds at all
    assert (await no_feeds.feeds.remove(kept)).state == "removed"
    assert await no_feeds.feeds.list() == ()


async def test_watchlists_counts_test_and_preview(engine: AsyncEngine, monitor: Monitor) -> None:
    stored = await _stored(engine)
    [summary] = await monitor.watchlists.list()
    assert (summary.name, summary.articles, summary.alerts) == ("isis-k", 3, 2)
    tested = await monitor.watchlists.test_text(SEED_BODY, title=SEED_TITLE)
    assert [m.watchlist for m in tested.matches] == ["isis-k"]
    preview = await monitor.watchlists.preview("isis-k", days=2)
    assert (preview.scanned, preview.matched, preview.new_alerts) == (3, 2, 0)
    assert preview.would_alert == (stored["note"][0], stored["seed-pk"][0])
    with pytest.raises(NotConfigured):
        await monitor.watchlists.preview("nope")


async def test_channels_and_health(engine: AsyncEngine, monitor: Monitor) -> None:
    [channel] = await monitor.channels.list()
    assert (channel.name, channel.type, channel.disabled_reason) == ("desk-log", "log", None)
    assert not await monitor.channels.enable("desk-log")
    with pytest.raises(NotConfigured):
        await monitor.channels.enable("nope")
    health = await monitor.health.check()
    assert health.problem == "no heartbeat: is `monitor run` running?"
    status = await monitor.health.status()
    assert (status.backlog.pending, status.heartbeats, status.health) == (0, (), health)
