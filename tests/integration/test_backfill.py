"""`watchlists backfill` on both backends: matches stored, one alert per (watchlist, story),
nothing twice, nothing at all on a dry run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import FeedConfig, WatchlistConfig
from monitor.models import WatchlistMatch
from monitor.pipeline.match import Matcher
from monitor.services.backfill import backfill
from monitor.services.records import BackfillReport, TermTally
from monitor.storage.tables import alerts, articles, matches, outbox
from tests.support.stored_articles import (
    NOW,
    SEED_BODY,
    SEED_TITLE,
    add_feeds,
    article,
    build,
    store,
)

ISIS_K = WatchlistConfig.model_validate(
    {
        "name": "isis-k",
        "severity": "high",
        "channels": ["desk-log"],
        "actors": [{"name": "ISIS-Khorasan", "aliases": ["ISIS-K", "ISKP"]}],
    }
)
CALM = (
    "Officials in Herat said the new road to the airport would open next spring, weather allowing."
)
ISKP_NOTE = (
    "A statement attributed to ISKP was circulated on Telegram channels late on Sunday night."
)


async def _run(engine: AsyncEngine, config: WatchlistConfig = ISIS_K, **options: Any) -> Any:
    return await backfill(engine, Matcher.compile([config]), config.name, build=build, **options)


async def _count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(table)
        return int(await conn.scalar(query.where(*where) if where else query) or 0)


async def _corpus(engine: AsyncEngine) -> dict[str, tuple[int, int]]:
    """Stored with no watchlist: a two-outlet story about ISIS-K, an ISKP note, calm news."""
    ids = await add_feeds(
        engine,
        FeedConfig(url="http://af.test/rss", name="AF", tags=("af",)),
        FeedConfig(url="http://pk.test/rss", name="PK", tags=("pk",)),
    )
    af, pk = ids["http://af.test/rss"], ids["http://pk.test/rss"]
    return {
        "seed-af": await store(engine, article(af, "s1", SEED_TITLE, SEED_BODY, age=timedelta(3))),
        "seed-pk": await store(
            engine, article(pk, "s2", SEED_TITLE, SEED_BODY + " (PK copy)", age=timedelta(2))
        ),
        "iskp": await store(engine, article(pk, "n1", "Statement", ISKP_NOTE, age=timedelta(1))),
        "calm": await store(engine, article(af, "c1", "Road", CALM)),
    }


async def test_backfill_stores_matches_and_alerts_once_per_story(engine: AsyncEngine) -> None:
    stored = await _corpus(engine)
    assert stored["seed-af"][1] == stored["seed-pk"][1]  # one story, two outlets
    seen: list[tuple[int, int]] = []
    report = await _run(engine, progress=lambda done, total: seen.append((done, total)))
    assert (report.scanned, report.matched, report.new_alerts) == (4, 3, 2)
    assert seen[-1] == (4, 4)
    tallies = {(t.term, t.actor): t for t in report.terms}
    assert tallies[("ISIS-K", "ISIS-Khorasan")] == TermTally("ISIS-K", "ISIS-Khorasan", 10, 2)
    assert tallies[("ISKP", "ISIS-Khorasan")].hits == 1
    assert any("ISIS-Khorasan" in s for s in report.snippets)
    async with engine.connect() as conn:
        rows = await conn.execute(select(alerts.c.story_id, alerts.c.article_id, alerts.c.matches))
        by_story = {row.story_id: row for row in rows}
    assert set(by_story) == {stored["seed-af"][1], stored["iskp"][1]}
    newest = by_story[stored["seed-af"][1]]
    assert newest.article_id == stored["seed-pk"][0]  # newest first: the PK copy alerted
    assert {"term": "ISIS-K", "actor": "ISIS-Khorasan", "count": 5} in newest.matches
    assert await _count(engine, outbox, outbox.c.channel == "desk-log") == 2
    assert await _count(engine, matches, matches.c.watchlist == "isis-k") == 5

    again = await _run(engine)
    assert (again.scanned, again.matched, again.new_alerts) == (4, 3, 0)
    assert await _count(engine, alerts) == 2
    assert await _count(engine, matches) == 5


async def test_story_that_already_alerted_gets_no_second_alert(engine: AsyncEngine) -> None:
    (feed_id,) = (await add_feeds(engine, FeedConfig(url="http://af.test/rss"))).values()
    found: list[WatchlistMatch] = Matcher.compile([ISIS_K]).match(SEED_TITLE, SEED_BODY)
    await store(engine, article(feed_id, "s1", SEED_TITLE, SEED_BODY), found)
    assert await _count(engine, alerts) == 1
    report = await _run(engine)
    assert (report.matched, report.new_alerts) == (1, 0)
    assert await _count(engine, alerts) == 1


async def test_dry_run_reports_and_stores_nothing(engine: AsyncEngine) -> None:
    await _corpus(engine)
    report = await _run(engine, dry_run=True)
    assert (report.scanned, report.matched, report.new_alerts) == (4, 3, 0)
    assert (report.terms[0].term, report.terms[0].actor) == (
        "ISIS-K",
        "ISIS-Khorasan",
    )  # most first
    assert 1 <= len(report.snippets) <= 5
    for table in (matches, alerts, outbox):
        assert await _count(engine, table) == 0


async def test_since_scope_and_pruned_text_limit_what_is_scanned(engine: AsyncEngine) -> None:
    stored = await _corpus(engine)
    recent: BackfillReport = await _run(
        engine, since=NOW - timedelta(days=1, hours=1), dry_run=True
    )
    assert (recent.scanned, recent.matched) == (2, 1)  # the ISKP note and the calm news
    async with engine.begin() as conn:  # retention pruned one copy's text
        await conn.execute(
            update(articles).where(articles.c.id == stored["seed-pk"][0]).values(text=None)
        )
    afghan = WatchlistConfig.model_validate(
        {"name": "af-only", "tags": ["af"], "terms": ["ISIS-K", "ISKP"]}
    )
    scoped = await _run(engine, afghan, dry_run=True)
    assert (scoped.scanned, scoped.matched) == (3, 1)  # ISKP note is from the PK feed


async def test_language_scope_uses_the_stored_language(engine: AsyncEngine) -> None:
    (feed_id,) = (await add_feeds(engine, FeedConfig(url="http://af.test/rss"))).values()
    await store(engine, article(feed_id, "en", "Statement", ISKP_NOTE, language="en"))
    persian = WatchlistConfig.model_validate(
        {"name": "fa-only", "languages": ["fa"], "terms": ["ISKP"]}
    )
    assert (await _run(engine, persian, dry_run=True)).matched == 0
    assert (await _run(engine, ISIS_K, dry_run=True)).matched == 1
