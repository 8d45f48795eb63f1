"""Retention on both backends: text pruned, old rows deleted in batches, alerts and stories
kept; singleton jobs run on one process at a time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import RetentionConfig, StoriesConfig
from monitor.retention import apply_retention
from monitor.storage.periodic import acquire, run_singleton
from monitor.storage.retention import delete_articles, prune_bands, prune_text
from monitor.storage.tables import (
    alerts,
    articles,
    entries,
    feeds,
    matches,
    periodic_tasks,
    stories,
    story_bands,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def _feed(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            insert(feeds)
            .values(
                url="http://127.0.0.1/feed", tags=[], headers={}, next_poll_at=NOW, created_at=NOW
            )
            .returning(feeds.c.id)
        )
        return int(result.scalar_one())


async def _article(engine: AsyncEngine, feed_id: int, n: int, age: timedelta) -> int:
    fetched = NOW - age
    async with engine.begin() as conn:
        story = (
            await conn.execute(
                insert(stories)
                .values(title=f"s{n}", first_seen=fetched, last_seen=fetched)
                .returning(stories.c.id)
            )
        ).scalar_one()
        article = (
            await conn.execute(
                insert(articles)
                .values(
                    feed_id=feed_id,
                    guid=f"g{n}",
                    url=f"http://127.0.0.1/a/{n}",
                    canonical_url=f"http://127.0.0.1/a/{n}",
                    fetched_at=fetched,
                    text=f"text {n}",
                    content_hash=f"h{n}",
                    story_id=story,
                    signature=b"sig",
                )
                .returning(articles.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(entries).values(
                feed_id=feed_id, guid=f"g{n}", article_id=article, seen_at=fetched
            )
        )
        await conn.execute(
            insert(story_bands),
            [
                {
                    "band_key": f"b{n}-{i}",
                    "article_id": article,
                    "story_id": story,
                    "created_at": fetched,
                }
                for i in range(3)
            ],
        )
        await conn.execute(
            insert(matches).values(
                article_id=article,
                watchlist="w",
                term="t",
                normalized="t",
                count=1,
                offsets=[[0, 1]],
                created_at=fetched,
            )
        )
        await conn.execute(
            insert(alerts).values(
                id=f"alt_{n}",
                watchlist="w",
                story_id=story,
                article_id=article,
                severity="high",
                matches=[],
                snippets=[],
                created_at=fetched,
            )
        )
        return int(article)


async def _rows(engine: AsyncEngine, query: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(query))


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_old_text_is_pruned_in_batches_and_the_rest_kept(engine: AsyncEngine) -> None:
    feed = await _feed(engine)
    old = [await _article(engine, feed, n, timedelta(days=100 + n)) for n in range(7)]
    young = [await _article(engine, feed, n, timedelta(days=10)) for n in range(7, 9)]

    assert await prune_text(engine, NOW - timedelta(days=90), batch=3) == 7

    texts = dict(await _rows(engine, select(articles.c.id, articles.c.text)))
    signatures = dict(await _rows(engine, select(articles.c.id, articles.c.signature)))
    assert all(texts[i] is None and signatures[i] is None for i in old)
    assert [texts[i] for i in young] == ["text 7", "text 8"]
    assert await _count(engine, articles) == 9


async def test_a_later_run_prunes_only_what_aged_since(engine: AsyncEngine) -> None:
    feed = await _feed(engine)
    await _article(engine, feed, 1, timedelta(days=95))
    later = await _article(engine, feed, 2, timedelta(days=80))
    assert await prune_text(engine, NOW - timedelta(days=90)) == 1
    assert await prune_text(engine, NOW - timedelta(days=90)) == 0

    assert await prune_text(engine, NOW + timedelta(days=20) - timedelta(days=90)) == 1
    texts = dict(await _rows(engine, select(articles.c.id, articles.c.text)))
    assert texts[later] is None


async def test_deleting_old_articles_keeps_alerts_stories_and_entries(engine: AsyncEngine) -> None:
    feed = await _feed(engine)
    old = [await _article(engine, feed, n, timedelta(days=800 + n)) for n in range(5)]
    kept = await _article(engine, feed, 9, timedelta(days=30))

    assert await delete_articles(engine, NOW - timedelta(days=730), batch=2) == 5

    assert [r.id for r in await _rows(engine, select(articles.c.id))] == [kept]
    alert_rows = dict(await _rows(engine, select(alerts.c.id, alerts.c.article_id)))
    assert alert_rows == {**{f"alt_{n}": None for n in range(5)}, "alt_9": kept}
    assert await _count(engine, stories) == 6
    entry_rows = dict(await _rows(engine, select(entries.c.guid, entries.c.article_id)))
    assert entry_rows == {**{f"g{n}": None for n in range(5)}, "g9": kept}
    assert {r.article_id for r in await _rows(engine, select(matches.c.article_id))} == {kept}
    band_articles = {r.article_id for r in await _rows(engine, select(story_bands.c.article_id))}
    assert band_articles == {kept}
    assert old  # the deleted ids existed


async def test_band_keys_older_than_the_story_window_go(engine: AsyncEngine) -> None:
    feed = await _feed(engine)
    for n in range(4):
        await _article(engine, feed, n, timedelta(days=5 + n))
    await _article(engine, feed, 9, timedelta(hours=1))

    assert await prune_bands(engine, NOW - timedelta(hours=72), batch=4) == 12

    assert await _count(engine, story_bands) == 3
    assert await _count(engine, articles) == 5


async def test_apply_retention_uses_the_settings_and_empty_keeps_everything(
    engine: AsyncEngine,
) -> None:
    feed = await _feed(engine)
    await _article(engine, feed, 1, timedelta(days=1000))
    await _article(engine, feed, 2, timedelta(days=200))
    await _article(engine, feed, 3, timedelta(days=1))
    keep_all = RetentionConfig(article_text=None, articles=None)
    stories_config = StoriesConfig(window=timedelta(days=3650))

    report = await apply_retention(engine, keep_all, stories_config, NOW)
    assert (report.articles_deleted, report.texts_pruned) == (0, 0)

    report = await apply_retention(engine, RetentionConfig(), stories_config, NOW)
    assert (report.articles_deleted, report.texts_pruned, report.bands_deleted) == (1, 1, 0)
    texts = sorted(r.text or "" for r in await _rows(engine, select(articles.c.text)))
    assert texts == ["", "text 3"]


async def test_a_singleton_job_runs_on_one_process_per_period(engine: AsyncEngine) -> None:
    ran: list[str] = []
    gate, running = asyncio.Event(), asyncio.Event()

    async def job(owner: str) -> None:
        ran.append(owner)
        running.set()
        await gate.wait()

    def start(owner: str, now: datetime) -> asyncio.Task[bool]:
        return asyncio.create_task(
            run_singleton(engine, "job", owner, now, DAY, timedelta(hours=1), lambda _: job(owner))
        )

    first = start("a", NOW)
    await running.wait()
    # While "a" holds the lease, nobody else runs the job.
    assert not await start("b", NOW + timedelta(minutes=1))
    gate.set()
    assert await first
    # Done: not due again until an hour later, and then one of two contenders runs it.
    assert not await start("b", NOW + timedelta(minutes=59))
    results = await asyncio.gather(
        start("b", NOW + timedelta(hours=1)), start("c", NOW + timedelta(hours=1))
    )
    assert sorted(results) == [False, True]
    assert len(ran) == 2


async def test_a_failed_or_abandoned_singleton_is_taken_over(engine: AsyncEngine) -> None:
    async def boom(_: datetime) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_singleton(engine, "job", "a", NOW, DAY, DAY, boom, retry=timedelta(minutes=5))
    async with engine.connect() as conn:
        row = (await conn.execute(select(periodic_tasks))).one()
    assert row.lease_owner is None
    assert row.last_run_at is None
    assert row.next_run_at == NOW + timedelta(minutes=5)

    # "b" takes the lease and dies; after the lease expires "c" takes over.
    assert await acquire(engine, "job", "b", NOW + timedelta(minutes=5), timedelta(minutes=10))
    assert not await acquire(engine, "job", "c", NOW + timedelta(minutes=14), timedelta(minutes=10))
    assert await acquire(engine, "job", "c", NOW + timedelta(minutes=16), timedelta(minutes=10))


async def test_a_singleton_running_longer_than_its_lease_keeps_it(engine: AsyncEngine) -> None:
    lease = timedelta(seconds=1.2)  # renewed every 0.4 s of real time
    running, gate = asyncio.Event(), asyncio.Event()

    def clock() -> datetime:
        return datetime.now(UTC)

    async def long_job(_: datetime) -> None:
        running.set()
        await gate.wait()

    job = asyncio.create_task(
        run_singleton(engine, "slow", "a", clock(), lease, DAY, long_job, clock=clock)
    )
    await running.wait()
    await asyncio.sleep(2.5 * lease.total_seconds())  # well past the first lease
    assert not await acquire(engine, "slow", "b", clock(), lease)
    gate.set()
    assert await job
    async with engine.connect() as conn:
        row = (await conn.execute(select(periodic_tasks))).one()
    assert (row.lease_owner, row.lease_until) == (None, None)
