"""Every hostile scenario as a feed in one real round, beside a sound feed: the round
completes, the sound feed is stored, and each feed's health line says what happened."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.app import open_runtime
from monitor.config import settings_from_dict
from monitor.scheduler import run_round
from monitor.storage.tables import articles, feeds
from tests.support.feedserver import FeedServer, rss
from tests.support.hostile_server import SCENARIO_POLLING, SCENARIOS, HostileServer, Scenario

# The 10,000-item feed stores 10,000 articles: in CI it is parsed in tests/integration/test_fetch.py,
# and the whole-round run with it is the slow variant.
BIG = {"10,000 items"}
QUICK = [s for s in SCENARIOS if s.name not in BIG]


async def test_every_scenario_in_one_round(database_url: str, tmp_path: Path) -> None:
    await _round(QUICK, database_url, tmp_path)


@pytest.mark.slow
async def test_every_scenario_in_one_round_with_the_big_feed(
    database_url: str, tmp_path: Path
) -> None:
    await _round(SCENARIOS, database_url, tmp_path)


async def _round(scenarios: list[Scenario], database_url: str, tmp_path: Path) -> None:
    with HostileServer() as hostile, FeedServer() as good:
        items = [
            {
                "title": f"Sound item {i}",
                "link": good.url(f"/p{i}"),
                "guid": f"g{i}",
                "description": f"Body {i} " * 20,
            }
            for i in range(3)
        ]
        sound = good.add("/rss", rss("sound", items), "application/rss+xml")
        urls = {hostile.url(s.route): s for s in scenarios}
        raw = {
            "database": {"url": database_url},
            # Entries of the scenario feeds link to hosts we must not contact: store the feed's own text.
            # A whole round on a busy 2-core machine: 3 s per request rather than the single
            # fetch tests' 1 s, so only the drips time out.
            "polling": {
                **SCENARIO_POLLING,
                "timeout": "3s",
                "fetch_articles": False,
                "concurrency": 64,
                "per_host": 16,
            },
            "feeds": [{"url": sound, "name": "sound"}]
            + [{"url": u, "name": s.name} for u, s in urls.items()],
        }
        settings = settings_from_dict(raw, base=tmp_path)
        async with open_runtime(settings, extract_workers=1) as runtime:
            report = await run_round(runtime, all_feeds=True)
            async with runtime.engine.connect() as conn:
                health = {row.config_url: row for row in await conn.execute(select(feeds))}
                stored_sound = await conn.scalar(
                    select(articles.c.id).where(articles.c.feed_id == health[sound].id).limit(1)
                )
        assert (
            hostile.stats.canary_connections == 0
        )  # the SSRF guard never let a refused connect through
    assert len(report.polls) == len(urls) + 1
    assert stored_sound is not None
    assert health[sound].state == "ok"
    wrong = []
    for url, scenario in urls.items():
        row = health[url]
        expected = scenario.health.replace("timeout after 1s", "timeout after 3s")
        if expected:
            if row.last_error is None or expected not in row.last_error or row.state == "ok":
                wrong.append(
                    f"{scenario.name}: {row.state} {row.last_error!r}, wanted {scenario.health!r}"
                )
        elif row.state != "ok":
            wrong.append(f"{scenario.name}: {row.state} {row.last_error!r}, wanted ok")
    assert not wrong, "\n".join(wrong)
