"""Trends on both backends: counts are stories not articles, history is counted on the first
run and a backfill's old matches are recounted; a surge is raised once per episode across
restarts and (PostgreSQL) two workers; a tag whose feeds all stop is quiet once, one feed of
twenty stopping is not."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import FrozenClock
from monitor.config import Settings, settings_from_dict
from monitor.services.trends import Trends
from monitor.storage.engine import create_engine as engine_for
from monitor.storage.tables import articles, outbox, trend_episodes
from monitor.storage.trends import hourly_counts, refresh_counts
from monitor.trends import HOUR, hour_floor
from monitor.units import iso_z
from tests.support.trend_sim import Burst, timeline
from tests.support.trend_store import Ctx, add_feeds, add_match, add_stories

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    raw: dict[str, Any] = {
        "watchlists": [
            {"name": "isis-k", "terms": ["ISIS-K"], "channels": ["desk", "hook"], "surge": True}
        ],
        "channels": {"desk": {"type": "log"}, "hook": {"type": "log"}},
    }
    return settings_from_dict(raw | extra, base=tmp_path)


async def test_syndicated_copies_count_once_and_outlets_count_each(engine: AsyncEngine) -> None:
    outlets = await add_feeds(engine, 20, NOW - timedelta(days=30))
    at = NOW - timedelta(hours=3)
    await add_stories(engine, [at], outlets)  # one wire story, twenty copies
    await add_stories(engine, [at + timedelta(minutes=2)], outlets[:1], actor=None)

    async with engine.begin() as conn:
        await refresh_counts(conn, NOW)
        whole = await hourly_counts(conn, "isis-k", NOW - timedelta(days=1))
        actor = await hourly_counts(conn, "isis-k", NOW - timedelta(days=1), "ISIS-Khorasan")

    assert [(c.hour, c.stories, c.outlets) for c in whole] == [(hour_floor(at), 2, 20)]
    assert [(c.stories, c.outlets) for c in actor] == [(1, 20)]


async def test_history_is_counted_first_and_a_backfill_recounts_old_hours(
    engine: AsyncEngine,
) -> None:
    feed = await add_feeds(engine, 1, NOW - timedelta(days=60))
    old = [NOW - timedelta(days=40, hours=h) for h in range(3)]
    await add_stories(engine, old, feed)
    async with engine.begin() as conn:
        await refresh_counts(conn, NOW)
    unmatched = await add_stories(engine, [NOW - timedelta(days=20)], feed, watchlist=None)
    async with engine.begin() as conn:
        assert (
            sum(c.stories for c in await hourly_counts(conn, "isis-k", NOW - timedelta(days=90)))
            == 3
        )
        article = await conn.scalar(
            select(articles.c.id).where(articles.c.story_id == unmatched[0])
        )
        later = NOW + timedelta(minutes=10)
        await add_match(conn, int(article), "isis-k", None, later)  # what a backfill stores
        await refresh_counts(conn, later)
        counted = await hourly_counts(conn, "isis-k", NOW - timedelta(days=90))

    assert sum(c.stories for c in counted) == 4
    assert hour_floor(NOW - timedelta(days=20)) in {c.hour for c in counted}


async def _history_then_burst(engine: AsyncEngine) -> list[int]:
    outlets = await add_feeds(engine, 6, NOW - timedelta(days=30))
    calm = [NOW - timedelta(days=15) + timedelta(hours=12) * i for i in range(29)]
    await add_stories(engine, calm, outlets[:1])
    burst = [NOW - timedelta(minutes=90) + timedelta(minutes=7) * i for i in range(10)]
    await add_stories(engine, burst[:4], outlets)
    await add_stories(engine, burst[4:], outlets[:2])
    return outlets


async def _count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def test_a_surge_is_raised_once_and_explains_itself(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _history_then_burst(engine)
    trends = Trends(Ctx(_settings(tmp_path), engine, FrozenClock(NOW)))

    report = await trends.check(NOW)
    again = await trends.check(NOW + timedelta(minutes=5))

    assert len(report.opened) == 1
    assert again.opened == ()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.channel))).all()
    assert [(r.kind, r.channel) for r in rows] == [("trend", "desk"), ("trend", "hook")]
    payload = json.loads(rows[0].body)
    assert payload["id"] == report.opened[0]
    assert payload["type"] == "watchlist.surge"
    assert payload["observed"] == 10
    assert payload["expected"] < 1
    assert payload["factor"] >= 3
    assert payload["p_value"] <= 0.001
    assert payload["top_stories"][0]["outlets"] == 6
    assert payload["top_outlets"][0]["stories"] == 10
    assert payload["link"] == "/watchlists/isis-k"
    assert payload["message"].startswith("Surge on watchlist isis-k: 10 stories")

    ended = await trends.check(NOW + timedelta(hours=8))
    assert ended.closed == report.opened


async def test_a_restart_never_raises_the_same_surge_twice(
    database_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    first = engine_for(database_url)
    await _history_then_burst(first)
    opened = (await Trends(Ctx(settings, first, FrozenClock(NOW))).check(NOW)).opened
    await first.dispose()

    for later in (NOW + timedelta(minutes=5), NOW + timedelta(hours=1)):
        restarted = engine_for(database_url)  # a new process: nothing but the database
        report = await Trends(Ctx(settings, restarted, FrozenClock(later))).check(later)
        assert report.opened == ()
        assert await _count(restarted, trend_episodes) == 1
        assert await _count(restarted, outbox) == 2
        await restarted.dispose()
    assert len(opened) == 1


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_two_workers_on_postgresql_raise_one_surge(database_url: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engines = [engine_for(database_url), engine_for(database_url)]
    await _history_then_burst(engines[0])
    try:
        # the same hour, and one worker an hour behind the other (a different episode id)
        for offsets in ((0, 0), (0, 60), (5, 5)):
            reports = await asyncio.gather(
                *(
                    Trends(Ctx(settings, e, FrozenClock(NOW))).check(NOW + timedelta(minutes=m))
                    for e, m in zip(engines, offsets, strict=True)
                )
            )
            assert sum(len(r.opened) for r in reports) <= 1
        assert await _count(engines[0], trend_episodes) == 1
        assert await _count(engines[0], outbox, outbox.c.kind == "trend") == 2
    finally:
        for engine in engines:
            await engine.dispose()


def _coverage(tmp_path: Path) -> Settings:
    return _settings(
        tmp_path,
        coverage={"quiet": {"after": "24h", "min_daily": 3}, "tags": ["af"], "channels": ["desk"]},
    )


async def _region(engine: AsyncEngine, stopped: int, stop_at: datetime) -> None:
    """Twenty `af` feeds, each with a story every 8 hours for 14 days; `stopped` of them
    publish nothing after `stop_at`."""
    region = await add_feeds(engine, 20, NOW - timedelta(days=30), tags=["af", "en"])
    for index, feed in enumerate(region):
        end = stop_at if index < stopped else NOW
        stamps = [NOW - timedelta(days=14) + timedelta(minutes=index)]
        while stamps[-1] + timedelta(hours=8) < end:
            stamps.append(stamps[-1] + timedelta(hours=8))
        await add_stories(engine, stamps, [feed], watchlist=None)


async def test_one_feed_of_twenty_stopping_leaves_the_tag_covered(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _region(engine, 1, NOW - timedelta(days=3))
    report = await Trends(Ctx(_coverage(tmp_path), engine, FrozenClock(NOW))).check(NOW)
    assert report.opened == ()
    assert await _count(engine, trend_episodes) == 0


async def test_a_tag_whose_feeds_all_stop_is_quiet_once(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await _region(engine, 20, NOW - timedelta(hours=30))
    trends = Trends(Ctx(_coverage(tmp_path), engine, FrozenClock(NOW)))

    first = await trends.check(NOW)
    later = await trends.check(NOW + timedelta(hours=6))

    assert len(first.opened) == 1
    assert later.opened == ()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox))).all()
    assert len(rows) == 1
    payload = json.loads(rows[0].body)
    assert (payload["type"], payload["tag"], payload["feeds"]) == ("coverage.quiet", "af", 20)
    assert payload["usual_daily"] >= 3
    assert payload["link"] == "/feeds?tag=af"


async def test_a_backlog_after_downtime_falls_in_the_hours_it_was_published(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    outlets = await add_feeds(engine, 2, NOW - timedelta(days=30))
    calm = [NOW - timedelta(hours=4) * i for i in range(86, 0, -1)]
    await add_stories(engine, calm[:-3], outlets[:1])
    # the service was down for 12 hours: what was published meanwhile arrives at once,
    # with a new feed's back catalogue from last week
    published = [calm[-3], calm[-2], calm[-1]]
    await add_stories(engine, published, outlets[1:], fetched=NOW)
    week_old = [NOW - timedelta(days=7, hours=h) for h in range(12)]
    await add_stories(engine, week_old, outlets[1:], fetched=NOW)

    report = await Trends(Ctx(_settings(tmp_path), engine, FrozenClock(NOW))).check(NOW)

    assert report.opened == ()
    async with engine.connect() as conn:
        counted = await hourly_counts(conn, "isis-k", NOW - timedelta(days=16))
    assert {c.hour for c in counted[-3:]} == {hour_floor(at) for at in published}
    assert sum(c.stories for c in counted) == 86


async def test_a_simulated_timeline_stored_and_checked_hourly(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The DB-backed simulator: 16 days at 24 stories a day, then a 5× burst of known onset,
    checked every hour as the service would: counts match the timeline, nothing before the
    onset, one surge soon after it."""
    start = NOW - timedelta(days=16)
    onset = hour_floor(NOW - timedelta(hours=8))
    burst = Burst(onset, timedelta(hours=6), 5.0)
    counts = timeline(24.0, 16, seed=3, bursts=(burst,), start=hour_floor(start))
    outlets = await add_feeds(engine, 3, start - timedelta(days=1))
    stamps = [hour + timedelta(minutes=59 * i // n) for hour, n in counts.items() for i in range(n)]
    await add_stories(engine, stamps, outlets[:1])
    trends = Trends(Ctx(_settings(tmp_path), engine, FrozenClock(NOW)))

    opened: dict[datetime, tuple[str, ...]] = {}
    for hours in range(-6, 8):
        at = onset + HOUR * hours + timedelta(minutes=55)
        opened[at] = (await trends.check(at)).opened

    async with engine.connect() as conn:
        stored = await hourly_counts(conn, "isis-k", start - timedelta(days=1))
    assert {c.hour: c.stories for c in stored} == {h: n for h, n in counts.items() if h < NOW}
    raised = [at for at, ids in opened.items() if ids]
    assert len(raised) == 1
    assert onset < raised[0] <= onset + timedelta(hours=2, minutes=55)


async def test_a_busy_watchlist_gone_silent_is_quiet_once_per_silence(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    raw_watchlist = {"name": "isis-k", "terms": ["ISIS-K"], "channels": ["desk"], "quiet": True}
    settings = settings_from_dict(
        {"watchlists": [raw_watchlist], "channels": {"desk": {"type": "log"}}}, base=tmp_path
    )
    outlets = await add_feeds(engine, 1, NOW - timedelta(days=30))
    last = NOW - timedelta(hours=30)
    await add_stories(engine, [last - timedelta(hours=4) * i for i in range(84)], outlets)
    trends = Trends(Ctx(settings, engine, FrozenClock(NOW)))

    first = await trends.check(NOW)
    repeat = await trends.check(NOW + timedelta(hours=2))
    await add_stories(engine, [NOW + timedelta(hours=3)], outlets)  # it speaks again
    spoke = await trends.check(NOW + timedelta(hours=3, minutes=5))
    silent_again = await trends.check(NOW + timedelta(hours=28))

    assert len(first.opened) == 1
    assert repeat.opened == ()
    assert spoke.closed == first.opened
    assert spoke.opened == ()
    assert len(silent_again.opened) == 1
    assert silent_again.opened != first.opened
    async with engine.connect() as conn:
        bodies = [json.loads(r.body) for r in await conn.execute(select(outbox.c.body))]
    assert [b["type"] for b in bodies] == ["watchlist.quiet", "watchlist.quiet"]
    assert bodies[0]["last_story_at"] == iso_z(last)
    # 77 of the stories fall in the 14 days before now (the silence included): 5.5 a day
    assert bodies[0]["usual_daily"] == 5.5
    assert bodies[0]["link"] == "/watchlists/isis-k"
