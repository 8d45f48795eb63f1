"""Silent feeds on both backends: flagged once per silence with one system message, cleared
when the feed speaks again, shown in `status` JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.notify.system import silence_notice
from monitor.services.shapes import to_json
from monitor.silence import SilencePolicy
from monitor.storage.silence import check_silent_feeds
from monitor.storage.tables import feeds, outbox
from tests.support.usecases import use_cases

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = SilencePolicy(factor=4.0, fallback_gap=timedelta(hours=6))


async def _feed(engine: AsyncEngine, url: str, **values: Any) -> int:
    row = {"tags": [], "headers": {}, "next_poll_at": NOW, "created_at": NOW - timedelta(days=30)}
    async with engine.begin() as conn:
        result = await conn.execute(
            insert(feeds).values(url=url, **(row | values)).returning(feeds.c.id)
        )
        return int(result.scalar_one())


async def _outbox(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(outbox).order_by(outbox.c.id)))


async def test_a_silent_feed_is_flagged_once_and_cleared_when_it_speaks(
    engine: AsyncEngine,
) -> None:
    quiet = await _feed(engine, "http://127.0.0.1/quiet", last_new_at=NOW - timedelta(days=3))
    busy = await _feed(engine, "http://127.0.0.1/busy", last_new_at=NOW - timedelta(hours=1))
    await _feed(
        engine, "http://127.0.0.1/off", state="disabled", last_new_at=NOW - timedelta(days=90)
    )
    notice = silence_notice("ops")

    flagged = await check_silent_feeds(engine, POLICY, notice, NOW)
    assert [f.id for f in flagged] == [quiet]
    assert await check_silent_feeds(engine, POLICY, notice, NOW + timedelta(hours=1)) == []
    (row,) = await _outbox(engine)
    assert (row.kind, row.channel, row.status, row.alert_id) == ("system", "ops", "pending", None)
    body = json.loads(row.body)
    assert body["type"] == "feed.silent"
    assert body["feed"]["url"] == "http://127.0.0.1/quiet"
    assert body["id"] == row.message_id

    # The feed speaks again: the flag clears; when it goes quiet again, a new notice.
    async with engine.begin() as conn:
        await conn.execute(
            update(feeds).where(feeds.c.id == quiet).values(last_new_at=NOW + timedelta(hours=2))
        )
    assert await check_silent_feeds(engine, POLICY, notice, NOW + timedelta(hours=3)) == []
    later = NOW + timedelta(days=2)
    assert [f.id for f in await check_silent_feeds(engine, POLICY, notice, later)] == [quiet, busy]
    rows = await _outbox(engine)
    assert len(rows) == 3
    assert len({r.message_id for r in rows}) == 3


async def test_without_a_channel_feeds_are_flagged_but_nothing_is_sent(
    engine: AsyncEngine,
) -> None:
    await _feed(engine, "http://127.0.0.1/quiet", last_new_at=NOW - timedelta(days=3))
    assert len(await check_silent_feeds(engine, POLICY, silence_notice(""), NOW)) == 1
    assert await _outbox(engine) == []


async def test_a_feeds_own_silent_after_applies_below_the_one_day_minimum(
    engine: AsyncEngine,
) -> None:
    own = await _feed(
        engine,
        "http://127.0.0.1/fast",
        last_new_at=NOW - timedelta(minutes=10),
        silent_after_seconds=300.0,
    )
    flagged = await check_silent_feeds(engine, POLICY, silence_notice("ops"), NOW)
    assert [f.id for f in flagged] == [own]
    assert flagged[0].silent_after == timedelta(minutes=5)


async def test_status_json_says_which_feeds_are_silent(engine: AsyncEngine) -> None:
    await _feed(engine, "http://127.0.0.1/quiet", last_new_at=NOW - timedelta(days=3))
    await _feed(
        engine,
        "http://127.0.0.1/busy",
        last_new_at=NOW - timedelta(hours=30),
        mean_gap_seconds=86400.0,
    )
    monitor, _ = use_cases(engine, NOW)  # default polling: the policy of POLICY
    rows = to_json(await monitor.feeds.list())
    assert {r["url"]: r["silent"] for r in rows} == {
        "http://127.0.0.1/quiet": True,
        "http://127.0.0.1/busy": False,  # its usual gap is a day: silent after 4 days
    }
