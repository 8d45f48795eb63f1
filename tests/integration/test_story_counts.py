"""A story's row follows its articles when some are deleted (both backends, through the use
cases): `feeds remove` and retention recount the stories they took articles from — article
count, first and last seen, representative — and an alert on a story left with no article
still shows, with the live count 0."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import RetentionConfig, StoriesConfig
from monitor.retention import apply_retention
from monitor.services import Monitor
from monitor.services.shapes import alert_json
from monitor.storage.feeds import add_feed
from monitor.storage.tables import articles, feeds, stories
from tests.support.stored_articles import (
    FLOODS_BODY,
    ISIS_K_MATCH,
    NOW,
    SEED_BODY,
    SEED_TITLE,
    article,
    store,
)
from tests.support.usecases import use_cases

OTHER = FLOODS_BODY
MATCH = ISIS_K_MATCH
HOUR = timedelta(hours=1)


async def _feed(engine: AsyncEngine, url: str) -> int:
    async with engine.begin() as conn:
        await add_feed(conn, url, name=url, tags=[], now=NOW)
        return int(await conn.scalar(select(feeds.c.id).where(feeds.c.url == url)) or 0)


async def _representative(engine: AsyncEngine, story_id: int) -> int | None:
    async with engine.connect() as conn:
        found = await conn.scalar(
            select(stories.c.representative_article_id).where(stories.c.id == story_id)
        )
        return None if found is None else int(found)


async def _story_sizes(monitor: Monitor) -> dict[int, tuple[int, int]]:
    """Story id → (articles, outlets) as `stories list` shows them."""
    return {s.id: (s.articles, s.outlets) for s in await monitor.stories.list()}


async def _alerted_sizes(monitor: Monitor) -> dict[int, int]:
    """Story id → the live article count `alerts list --json` shows."""
    return {
        alert_json(a)["story"]["id"]: alert_json(a)["story"]["articles"]
        for a in (await monitor.alerts.list()).items
    }


async def test_removing_a_feed_and_retention_recount_the_stories(engine: AsyncEngine) -> None:
    wire = await _feed(engine, "http://wire.test/rss")
    local = await _feed(engine, "http://local.test/rss")
    first = article(wire, "w1", SEED_TITLE, SEED_BODY, age=3 * HOUR)
    first_id, seed = await store(engine, first, [MATCH])
    copy_id, same = await store(
        engine, article(local, "l1", "Local copy", SEED_BODY + " (Local desk)", age=2 * HOUR)
    )
    _, floods = await store(engine, article(wire, "w2", "Floods", OTHER, age=HOUR), [MATCH])
    assert same == seed
    monitor, _ = use_cases(engine, NOW)
    assert await _story_sizes(monitor) == {seed: (2, 2), floods: (1, 1)}

    await monitor.feeds.remove("http://wire.test/rss")

    assert await _story_sizes(monitor) == {seed: (1, 1), floods: (0, 0)}
    shown = await monitor.stories.get(seed)
    assert (shown.articles, [a.id for a in shown.items]) == (1, [copy_id])
    assert (shown.first_seen, shown.last_seen) == (NOW - 2 * HOUR, NOW - 2 * HOUR)
    assert await _representative(engine, seed) == copy_id  # the first article went
    emptied = await monitor.stories.get(floods)  # kept for its alert, dates as they were
    assert (emptied.articles, emptied.items, emptied.last_seen) == (0, (), NOW - HOUR)
    assert await _alerted_sizes(monitor) == {seed: 1, floods: 0}
    assert await _representative(engine, floods) is None

    await apply_retention(
        engine,
        RetentionConfig(article_text=None, articles=90 * timedelta(minutes=1), evidence=None),
        StoriesConfig(),
        NOW,
    )

    assert await _story_sizes(monitor) == {seed: (0, 0), floods: (0, 0)}
    alerts = {a.story.id: a for a in (await monitor.alerts.list()).items}
    assert await _alerted_sizes(monitor) == {seed: 0, floods: 0}
    for alert in alerts.values():
        shown_alert = await monitor.alerts.get(alert.id)
        assert shown_alert.article.id is None
        assert shown_alert.article.title in (SEED_TITLE, "Floods")
    assert first_id not in {a.id for a in (await monitor.stories.get(seed)).items}


async def test_counts_stay_true_when_a_feed_is_removed_while_copies_are_stored(
    engine: AsyncEngine,
) -> None:
    """`feeds remove` while workers store copies of its story, from it and from another
    feed: no deadlock, and every story's count is its number of articles afterwards (a copy
    of the removed feed is either counted and deleted, or refused on the missing feed)."""
    gone = await _feed(engine, "http://gone.test/rss")
    kept = await _feed(engine, "http://kept.test/rss")
    await store(engine, article(gone, "g0", SEED_TITLE, SEED_BODY, age=HOUR), [MATCH])
    monitor, _ = use_cases(engine, NOW)

    async def copy(feed_id: int, n: int) -> None:
        await store(engine, article(feed_id, f"c{n}", f"Copy {n}", f"{SEED_BODY} ({n})"), [MATCH])

    results = await asyncio.gather(
        *(copy(gone if n % 2 else kept, n) for n in range(6)),
        monitor.feeds.remove("http://gone.test/rss"),
        *(copy(gone if n % 2 else kept, n) for n in range(6, 12)),
        return_exceptions=True,
    )

    removed = results.pop(6)
    assert getattr(removed, "state", removed) == "removed"
    assert [r for r in results if not isinstance(r, (type(None), IntegrityError))] == []
    async with engine.connect() as conn:
        counted = dict((await conn.execute(select(stories.c.id, stories.c.article_count))).all())
        held = dict(
            (
                await conn.execute(
                    select(articles.c.story_id, func.count()).group_by(articles.c.story_id)
                )
            ).all()
        )
    assert {s: n for s, n in counted.items() if n} == held
    assert sum(held.values()) == 6  # the kept feed's copies (a new story once the seed's emptied)


async def test_a_story_stays_findable_when_the_article_holding_its_band_keys_goes(
    engine: AsyncEngine,
) -> None:
    """The first copy of a story holds its band keys; when it is deleted (its feed removed,
    or retention), a later copy still joins the story through the copies that stay, and
    raises no second alert."""
    wire = await _feed(engine, "http://wire.test/rss")
    local = await _feed(engine, "http://local.test/rss")
    late = await _feed(engine, "http://late.test/rss")
    _, seed = await store(engine, article(wire, "w1", SEED_TITLE, SEED_BODY, age=3 * HOUR), [MATCH])
    copy_id, same = await store(
        engine, article(local, "l1", "Local copy", SEED_BODY + " (Local desk)", age=2 * HOUR)
    )
    assert same == seed
    monitor, _ = use_cases(engine, NOW)
    await monitor.feeds.remove("http://wire.test/rss")

    _, joined = await store(
        engine, article(late, "x1", "Late copy", SEED_BODY + " (Late desk)", age=HOUR), [MATCH]
    )
    assert joined == seed
    assert await _story_sizes(monitor) == {seed: (2, 2)}
    assert len((await monitor.alerts.list()).items) == 1

    await apply_retention(  # the local copy (2 h old) goes, the late one (1 h) stays
        engine,
        RetentionConfig(article_text=None, articles=90 * timedelta(minutes=1), evidence=None),
        StoriesConfig(),
        NOW,
    )
    _, again = await store(
        engine, article(local, "l2", "Local again", SEED_BODY + " (Local desk, later)"), [MATCH]
    )
    assert again == seed
    assert copy_id not in {a.id for a in (await monitor.stories.get(seed)).items}
    assert await _story_sizes(monitor) == {seed: (2, 2)}
    assert len((await monitor.alerts.list()).items) == 1


async def test_an_article_id_is_never_given_again_after_its_article_is_deleted(
    engine: AsyncEngine,
) -> None:
    """Evidence, payloads and logs cite article ids: SQLite would reuse the highest deleted
    rowid without AUTOINCREMENT (PostgreSQL's sequences never do)."""
    kept = await _feed(engine, "http://kept.test/rss")
    gone = await _feed(engine, "http://gone.test/rss")
    await store(engine, article(kept, "k1", "Floods", OTHER, age=2 * HOUR))
    last_id, _ = await store(engine, article(gone, "g1", SEED_TITLE, SEED_BODY, age=HOUR))
    monitor, _ = use_cases(engine, NOW)
    await monitor.feeds.remove("http://gone.test/rss")

    new_id, _ = await store(engine, article(kept, "k2", "Later", SEED_BODY + " (Kept desk)"))

    assert new_id > last_id
