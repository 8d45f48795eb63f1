"""The article write path on both backends: dedupe keys, stories, one alert per (watchlist, story)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig, LogChannelConfig
from monitor.models import AlertContext, Article, TermCount, WatchlistMatch
from monitor.notify.payload import alert_rows
from monitor.pipeline import dedupe
from monitor.storage.feeds import claim_due, sync_config_feeds
from monitor.storage.store import StoreResult, store_article, store_articles
from monitor.storage.tables import alerts, articles, entries, outbox, stories, story_bands

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SEED = (Path(__file__).parents[1] / "fixtures" / "seed-article.txt").read_text(encoding="utf-8")
OTHER = (
    "Pakistani officials said on Tuesday that floods in Sindh province had displaced thousands of "
    "families, and relief agencies appealed for tents, clean water and medicine as the river rose "
    "again overnight near Sukkur and Hyderabad, where schools were turned into shelters."
)
CHANNELS = {"desk-log": LogChannelConfig(type="log")}


def _article(feed_id: int, guid: str, text: str, url: str | None = None) -> Article:
    print_ = dedupe.fingerprint(text)
    return Article(
        feed_id=feed_id,
        guid=guid,
        url=url or f"http://outlet.test/{guid}",
        canonical_url=url or f"http://outlet.test/{guid}",
        title=text.split("\n")[0][:80],
        author="",
        published_at=NOW,
        fetched_at=NOW,
        summary="",
        text=text,
        language="en",
        content_hash=dedupe.content_hash(text),
        signature=dedupe.pack_fingerprint(print_),
        bands=print_.bands,
    )


def _match(watchlist: str) -> WatchlistMatch:
    return WatchlistMatch(
        watchlist=watchlist,
        severity="high",
        channels=("desk-log",),
        matches=(TermCount("ISIS-K", "ISIS-Khorasan", 2),),
        snippets=("…expansion of ISIS-Khorasan…",),
    )


def _pick(candidates: Sequence[tuple[int, bytes]], new: Article) -> int | None:
    mine = dedupe.unpack_fingerprint(new.signature)
    options = [(s, dedupe.unpack_fingerprint(p)) for s, p in candidates]
    return dedupe.pick_story(options, mine, 0.7)


def _build(
    match: WatchlistMatch, context: AlertContext
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return alert_rows(match, context, CHANNELS, NOW)


async def _store(
    engine: AsyncEngine, article: Article, found: Sequence[WatchlistMatch] = ()
) -> StoreResult:
    return await store_article(
        engine, article, found, pick=_pick, build=_build, window=timedelta(hours=72)
    )


async def _feeds(engine: AsyncEngine, n: int) -> list[int]:
    async with engine.begin() as conn:
        await sync_config_feeds(
            conn, [FeedConfig(url=f"http://f{i}.test/rss") for i in range(n)], NOW
        )
    rows = await claim_due(engine, now=NOW, owner="t", lease=timedelta(minutes=5), limit=n)
    return sorted(r.id for r in rows)


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_duplicates_by_guid_url_and_hash_are_dropped(engine: AsyncEngine) -> None:
    f1, f2 = await _feeds(engine, 2)
    first = await _store(engine, _article(f1, "a", SEED))
    assert first.article_id is not None
    assert (await _store(engine, _article(f1, "a", SEED + " edited"))).duplicate_of == "guid"
    same_url = _article(f2, "b", OTHER, url="http://outlet.test/a")
    assert (await _store(engine, same_url)).duplicate_of == "url"
    same_text = _article(f1, "c", SEED, url="http://outlet.test/republished")
    assert (await _store(engine, same_text)).duplicate_of == "hash"  # the same feed's text
    assert await _count(engine, articles) == 1


async def test_syndicated_copies_join_one_story_and_alert_once(engine: AsyncEngine) -> None:
    feed_ids = await _feeds(engine, 4)
    results = []
    for i, feed_id in enumerate(feed_ids):
        body = f"KABUL (Outlet {i}) - " + SEED + f"\n\nRead more at outlet {i}."
        results.append(await _store(engine, _article(feed_id, f"s{i}", body), [_match("isis-k")]))
    assert len({r.story_id for r in results}) == 1
    assert [len(r.alert_ids) for r in results] == [1, 0, 0, 0]
    async with engine.connect() as conn:
        count = await conn.scalar(select(stories.c.article_count))
    assert count == 4
    assert await _count(engine, alerts) == 1
    assert await _count(engine, outbox) == 1
    # A copy matching another watchlist raises that watchlist's alert, on the same story.
    extra = _article(feed_ids[0], "s9", SEED + "\n\nThe ISKP claim was posted late on Friday.")
    result = await _store(engine, extra, [_match("isis-k"), _match("iskp-claims")])
    assert result.story_id == results[0].story_id
    assert len(result.alert_ids) == 1
    assert await _count(engine, alerts) == 2


async def test_different_stories_stay_apart(engine: AsyncEngine) -> None:
    (f1,) = await _feeds(engine, 1)
    a = await _store(engine, _article(f1, "a", SEED), [_match("isis-k")])
    b = await _store(engine, _article(f1, "b", OTHER), [_match("isis-k")])
    assert a.story_id != b.story_id
    assert await _count(engine, alerts) == 2


async def test_concurrent_copies_make_one_story_and_one_alert(engine: AsyncEngine) -> None:
    feed_ids = await _feeds(engine, 6)
    copies = [
        _article(feed_id, f"c{i}", f"Outlet {i} report. " + SEED)
        for i, feed_id in enumerate(feed_ids)
    ]
    results = await asyncio.gather(*(_store(engine, c, [_match("isis-k")]) for c in copies))
    assert len({r.story_id for r in results}) == 1
    assert sum(len(r.alert_ids) for r in results) == 1
    assert await _count(engine, stories) == 1


async def test_the_same_entry_twice_at_once_is_stored_once(engine: AsyncEngine) -> None:
    (f1,) = await _feeds(engine, 1)
    article = _article(f1, "same", SEED)
    results = await asyncio.gather(*(_store(engine, replace(article)) for _ in range(4)))
    assert sum(r.article_id is not None for r in results) == 1
    assert await _count(engine, articles) == 1


async def _store_batch(
    engine: AsyncEngine, batch: Sequence[tuple[Article, Sequence[WatchlistMatch]]]
) -> list[StoreResult]:
    return await store_articles(engine, batch, pick=_pick, build=_build, window=timedelta(hours=72))


def _copy(feed_id: int, guid: str, text: str, outlet: int) -> Article:
    return _article(feed_id, guid, f"KABUL (Outlet {outlet}) - {text}\n\nRead more at {outlet}.")


async def test_a_batch_drops_its_own_duplicates_and_joins_its_own_stories(
    engine: AsyncEngine,
) -> None:
    f1, f2, f3 = await _feeds(engine, 3)
    isis = [_match("isis-k")]
    batch: list[tuple[Article, Sequence[WatchlistMatch]]] = [
        (_copy(f1, "s1", SEED, 1), isis),
        (_copy(f1, "o1", OTHER, 1), ()),
        (_copy(f2, "s2", SEED, 2), isis),  # joins s1's story, opened earlier in the batch
        (_copy(f2, "s1-url", OTHER, 7), ()),
        (_article(f3, "u", SEED + " (updated)", url="http://outlet.test/s1"), isis),  # s1's URL
        (_copy(f1, "h", SEED, 1), isis),  # s1's text, s1's feed, another guid: its hash
        (_copy(f1, "s1", SEED, 9), isis),  # s1's guid again
        (_copy(f3, "o3", OTHER, 3), ()),  # joins o1's story
        (_copy(f3, "s3", SEED, 3), isis),
        (_copy(f3, "w1", SEED, 1), isis),  # s1's text word for word, another feed: kept
        (_copy(f3, "w2", SEED, 1), isis),  # and again from that feed: its hash
    ]
    results = await _store_batch(engine, batch)
    dropped = [r.duplicate_of for r in results]
    assert dropped == [None, None, None, None, "url", "hash", "guid", None, None, None, "hash"]
    s1, o1, s2, s1_url, _, _, _, o3, s3, w1, _ = results
    assert [r.new_story for r in (s1, o1, s2, s3, w1)] == [True, True, False, False, False]
    assert s1.story_id == s2.story_id == s3.story_id == w1.story_id != o1.story_id
    assert o3.story_id == o1.story_id == s1_url.story_id  # the same OTHER text, outlet 7
    # one alert for the story, raised by its first article; the copies after it add none
    assert [len(r.alert_ids) for r in (s1, s2, s3, w1)] == [1, 0, 0, 0]
    async with engine.connect() as conn:
        counts = dict((await conn.execute(select(stories.c.id, stories.c.article_count))).all())
        story_rows = (
            await conn.execute(select(stories.c.id, stories.c.representative_article_id))
        ).all()
        entry_rows = (await conn.execute(select(entries.c.guid, entries.c.duplicate_of))).all()
        pairs = (await conn.execute(select(story_bands.c.story_id, story_bands.c.band_key))).all()
    assert counts == {s1.story_id: 4, o1.story_id: 3}
    assert dict(story_rows) == {s1.story_id: s1.article_id, o1.story_id: o1.article_id}
    assert sorted(entry_rows, key=str) == sorted(
        [
            ("s1", None),
            ("o1", None),
            ("s2", None),
            ("s1-url", None),
            ("u", "url"),
            ("h", "hash"),
            ("o3", None),
            ("s3", None),
            ("w1", None),
            ("w2", "hash"),
        ],
        key=str,
    )
    assert len(pairs) == len(set(pairs))  # each band indexed once per story
    assert await _count(engine, alerts) == 1
    assert await _count(engine, outbox) == 1


async def test_a_batch_joins_stored_stories_and_its_alerts_count_the_story_as_it_stood(
    engine: AsyncEngine,
) -> None:
    f1, f2 = await _feeds(engine, 2)
    stored = await _store(engine, _copy(f1, "first", SEED, 1))
    assert stored.new_story
    results = await _store_batch(
        engine,
        [
            (_copy(f2, "second", SEED, 2), ()),
            (_copy(f2, "third", SEED, 3), [_match("isis-k")]),  # the story's third article
            (_copy(f2, "fourth", SEED, 4), [_match("isis-k")]),
        ],
    )
    assert {r.story_id for r in results} == {stored.story_id}
    assert [len(r.alert_ids) for r in results] == [0, 1, 0]
    async with engine.connect() as conn:
        count = await conn.scalar(select(stories.c.article_count))
        (body,) = (await conn.execute(select(outbox.c.body))).scalars()
    assert count == 4
    payload = json.loads(body)
    assert payload["story"] == {"id": stored.story_id, "articles": 3}
    assert payload["article"]["id"] == results[1].article_id


async def test_concurrent_batches_with_crossing_copies_make_one_story_each(
    engine: AsyncEngine,
) -> None:
    """Two workers store copies of the same two stories in opposite orders at once, again
    and again: no deadlock, one story per text, one alert per story."""
    feed_ids = await _feeds(engine, 8)
    texts = [SEED, OTHER]
    for round_ in range(3):
        batches = []
        for worker in range(2):
            feed_id = feed_ids[round_ * 2 + worker]
            order = texts if worker == 0 else texts[::-1]
            batches.append(
                [
                    (
                        _copy(feed_id, f"{round_}-{worker}-{i}", text, 10 * round_ + worker),
                        [_match("isis-k")],
                    )
                    for i, text in enumerate(order)
                ]
            )
        await asyncio.gather(*(_store_batch(engine, b) for b in batches))
    assert await _count(engine, stories) == 2
    assert await _count(engine, articles) == 12
    assert await _count(engine, alerts) == 2
    async with engine.connect() as conn:
        counts = sorted((await conn.execute(select(stories.c.article_count))).scalars())
    assert counts == [6, 6]


async def test_a_row_the_database_refuses_is_its_own_error_and_stores_nothing(
    engine: AsyncEngine,
) -> None:
    """An article of a feed that is gone (deleted meanwhile) is refused by the foreign key on
    both tries: the caller gets the database's IntegrityError, which names the refusal, and
    no row of the batch is kept."""
    (f1,) = await _feeds(engine, 1)
    good = _copy(f1, "good", SEED, 1)
    orphan = _copy(f1 + 1000, "orphan", OTHER, 2)
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await _store_batch(engine, [(good, [_match("isis-k")]), (orphan, ())])
    for table in (articles, stories, entries, alerts, outbox):
        assert await _count(engine, table) == 0
