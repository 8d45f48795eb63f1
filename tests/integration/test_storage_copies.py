"""Word-for-word copies on both backends: another outlet's copy of a stored text is an
article and an outlet of the text's story (one alert per watchlist and story); the same
feed's copy under a new URL or guid is a "hash" duplicate."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig
from monitor.models import Article, WatchlistMatch
from monitor.pipeline import dedupe
from monitor.services.shapes import alert_json
from monitor.storage.store import StoreResult, store_articles
from tests.support.stored_articles import ISIS_K_MATCH, add_feeds, build
from tests.support.usecases import use_cases

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BODY = (Path(__file__).parents[1] / "fixtures" / "seed-article.txt").read_text(encoding="utf-8")
WINDOW = timedelta(hours=72)


def _copy(feed_id: int, outlet: str, *, age: timedelta = timedelta(0)) -> Article:
    """The same body as every other outlet's, on the outlet's own page with its own title:
    the content hash is the body's, as ingest computes it."""
    print_ = dedupe.fingerprint(BODY)
    url = f"http://{outlet}.test/news/isis-k-report"
    return Article(
        feed_id=feed_id,
        guid=url,
        url=url,
        canonical_url=url,
        title=f"{outlet}: ISIS-K accused of expanding across the region",
        author="",
        published_at=NOW - age,
        fetched_at=NOW - age,
        summary="",
        text=BODY,
        language="en",
        content_hash=dedupe.content_hash(BODY),
        signature=dedupe.pack_fingerprint(print_),
        bands=print_.bands,
    )


def _match(watchlist: str) -> WatchlistMatch:
    return replace(ISIS_K_MATCH, watchlist=watchlist)


FOUND = [_match("isis-k"), _match("khorasan")]


def _pick(candidates: Sequence[tuple[int, bytes]], new: Article) -> int | None:
    mine = dedupe.unpack_fingerprint(new.signature)
    options = [(s, dedupe.unpack_fingerprint(p)) for s, p in candidates]
    return dedupe.pick_story(options, mine, 0.7)


async def _store(
    engine: AsyncEngine, *batch: tuple[Article, Sequence[WatchlistMatch]]
) -> list[StoreResult]:
    return await store_articles(engine, batch, pick=_pick, build=build, window=WINDOW)


async def _outlets(engine: AsyncEngine, n: int) -> list[int]:
    ids = await add_feeds(engine, *(FeedConfig(url=f"http://outlet{i}.test/rss") for i in range(n)))
    return [ids[f"http://outlet{i}.test/rss"] for i in range(n)]


async def test_three_outlets_word_for_word_are_three_articles_of_one_story(
    engine: AsyncEngine,
) -> None:
    feed_ids = await _outlets(engine, 3)
    results = [
        (await _store(engine, (_copy(feed_id, f"outlet{i}"), FOUND)))[0]
        for i, feed_id in enumerate(feed_ids)
    ]

    assert [r.duplicate_of for r in results] == [None, None, None]
    assert len({r.story_id for r in results}) == 1
    assert [r.alerted for r in results] == [("isis-k", "khorasan"), (), ()]
    monitor, _ = use_cases(engine, NOW)
    [story] = await monitor.stories.list()
    assert (story.articles, story.outlets) == (3, 3)
    detail = await monitor.stories.get(story.id)
    assert len(detail.items) == 3
    assert detail.outlets == len(detail.outlet_names) == 3
    listed = (await monitor.alerts.list()).items
    assert sorted(a.watchlist for a in listed) == ["isis-k", "khorasan"]
    assert {alert_json(a)["story"]["articles"] for a in listed} == {3}

    # The first outlet republishes its text under a new URL: its own copy, dropped.
    url = "http://outlet0.test/news/2"
    again = replace(_copy(feed_ids[0], "outlet0"), guid=url, url=url, canonical_url=url)
    [dropped] = await _store(engine, (again, FOUND))
    assert (dropped.article_id, dropped.duplicate_of) == (None, "hash")
    [story] = await monitor.stories.list()
    assert (story.articles, story.outlets) == (3, 3)


async def test_a_copy_joins_its_text_story_outside_the_story_window(engine: AsyncEngine) -> None:
    """Identity of text, not the near-duplicate index, puts a copy in its story: a copy
    fetched long after the first (its band keys pruned, its story out of the window)
    still joins it and raises no second alert."""
    first_feed, late_feed = await _outlets(engine, 2)
    [first] = await _store(engine, (_copy(first_feed, "early", age=10 * WINDOW), FOUND))
    [late] = await _store(engine, (_copy(late_feed, "late"), FOUND))

    assert late.article_id is not None
    assert late.story_id == first.story_id
    assert late.alert_ids == ()
    monitor, _ = use_cases(engine, NOW)
    [story] = await monitor.stories.list()
    assert (story.articles, story.outlets, story.last_seen) == (2, 2, NOW)


async def test_concurrent_copies_of_one_text(engine: AsyncEngine) -> None:
    """Workers storing the same text at once: one article per feed (the same feed's second
    copy waits on the hash's lock and is dropped), one story, one alert per watchlist."""
    feed_ids = await _outlets(engine, 3)
    batches = [
        [(_copy(feed_id, f"outlet{i}-{n}"), FOUND)]
        for i, feed_id in enumerate(feed_ids)
        for n in range(2)
    ]
    results = [r for rs in await asyncio.gather(*(_store(engine, *b) for b in batches)) for r in rs]

    assert sorted(str(r.duplicate_of) for r in results) == ["None"] * 3 + ["hash"] * 3
    assert len({r.story_id for r in results if r.article_id}) == 1
    assert sum(len(r.alert_ids) for r in results) == 2
    monitor, _ = use_cases(engine, NOW)
    [story] = await monitor.stories.list()
    assert (story.articles, story.outlets) == (3, 3)
