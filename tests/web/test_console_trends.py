"""Surges in the console over HTTP with a viewer's session: a surge raised by the real check
is its own kind in the inbox (figures, drivers, escaped titles, a link to the watchlist), the
watchlist page draws the series with the band and the surge marked, by day and by hour."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from monitor.services.trends import Trends
from monitor.storage.tables import stories
from tests.support.api import CONFIG, Served
from tests.support.trend_store import Ctx, add_feeds, add_stories
from tests.support.usecases import settings_over
from tests.web.test_console_access import sign_in

HOSTILE = '<script>alert("story")</script>'


async def _surge(api: Served) -> tuple[str, int]:
    """History for two weeks, then ten stories in 90 minutes; the check opens one surge.
    The episode's id and the story at the top of it (titled with markup)."""
    now = api.clock.now()
    outlets = await add_feeds(api.engine, 6, now - timedelta(days=30))
    calm = [now - timedelta(days=15) + timedelta(hours=12) * i for i in range(29)]
    await add_stories(api.engine, calm, outlets[:1])
    burst = [now - timedelta(minutes=90) + timedelta(minutes=7) * i for i in range(10)]
    top = await add_stories(api.engine, burst[:4], outlets)
    await add_stories(api.engine, burst[4:], outlets[:2])
    async with api.engine.begin() as conn:
        await conn.execute(update(stories).where(stories.c.id == top[0]).values(title=HOSTILE))
    watchlist = CONFIG["watchlists"][0] | {"surge": True}
    settings = settings_over(api.engine, CONFIG | {"watchlists": [watchlist]})
    report = await Trends(Ctx(settings, api.engine, api.clock)).check(now)
    assert len(report.opened) == 1
    return report.opened[0], top[0]


async def test_a_surge_is_its_own_kind_in_the_inbox(api: Served) -> None:
    episode_id, story_id = await _surge(api)
    [episode] = await api.monitor.trends.episodes(now=api.clock.now())
    async with api.client() as viewer:
        await sign_in(viewer, "viewer")
        inbox = (await viewer.get("/")).text
        triaged = (await viewer.get("/?state=new")).text
        older = (await viewer.get("/?since=1h")).text

    band = inbox[inbox.index(f'id="episode-{episode_id}"') : inbox.index('id="live-note"')]
    assert f"<strong>{episode.payload['observed']}</strong> stories observed" in band
    assert f"<strong>×{episode.payload['factor']}</strong>" in band
    assert f"p = {episode.payload['p_value']:.1e}" in band
    assert 'href="/watchlists/isis-k"' in band
    assert f'href="/stories/{story_id}"' in band
    assert "&lt;script&gt;alert(&#34;story&#34;)&lt;/script&gt;" in band
    assert "<script>alert" not in inbox
    assert "ongoing" in band
    assert "episode-" not in triaged  # a triage filter is about alerts only
    assert f"episode-{episode_id}" in older  # raised within the hour


async def test_the_watchlist_page_draws_the_series_with_the_surge(api: Served) -> None:
    episode_id, _ = await _surge(api)
    async with api.client() as viewer:
        await sign_in(viewer, "viewer")
        by_day = await viewer.get("/watchlists/isis-k")
        by_hour = await viewer.get("/watchlists/isis-k?by=hour")

    assert by_day.status_code == by_hour.status_code == 200
    for page, bars in ((by_day.text, 31), (by_hour.text, 72)):
        chart = page[page.index('<svg class="chart trend"') :]
        chart = chart[: chart.index("</svg>")]
        assert len(re.findall(r'<rect class="bar', chart)) == bars
        assert len(re.findall(r'<rect class="bar surging"', chart)) == 1
        assert chart.count('class="surge-marker"') == 1
        assert '<polygon class="band"' in chart
        assert '<polyline class="expected"' in chart
        assert f'id="episode-{episode_id}"' in page
    assert "Stories per hour, last 72 hours" in by_hour.text
