"""`/api/v1/trends`: watchlist series (stories, outlets, expected, band, surges) and the surge
and quiet episodes raised — the same use cases `monitor trends` calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from monitor.errors import InvalidRequest
from monitor.services.shapes import to_json
from monitor.web.api import schemas
from monitor.web.api.common import Facade, Limit, Since, Viewer, errors, since_time

router = APIRouter(prefix="/trends", tags=["trends"])
MAX_SPAN = timedelta(days=400)
Name = Annotated[str | None, Query(max_length=200)]
EpisodeType = Literal["watchlist.surge", "watchlist.quiet", "coverage.quiet"]


def _span(m: Facade, since: str | None, default: timedelta) -> timedelta:
    now = m.ctx.clock.now()
    start = since_time(since, now)
    span = default if start is None else now - start
    if not timedelta(0) < span <= MAX_SPAN:
        raise InvalidRequest("since: must be in the past, at most 400 days ago")
    return span


@router.get("", response_model=list[schemas.WatchlistTrend], responses=errors(400, 404))
async def trends(
    m: Facade,
    who: Viewer,
    watchlist: Name = None,
    actor: Name = None,
    since: Since = None,
    by: Literal["hour", "day"] = "day",
) -> Any:
    """Each watchlist's (or one's) stories and outlets per hour or day since `since` (14 days
    by default), with the count the surge test expected, its band, and the surges raised."""
    span = _span(m, since, timedelta(days=14))
    return to_json(await m.trends.series(watchlist, since=span, by=by, actor=actor))


@router.get("/episodes", response_model=list[schemas.TrendEpisode], responses=errors(400))
async def episodes(
    m: Facade,
    who: Viewer,
    since: Since = None,
    subject: Name = None,
    type: EpisodeType | None = None,
    limit: Limit = 100,
) -> Any:
    """Surge and quiet episodes raised since `since` (30 days by default), newest first."""
    span = _span(m, since, timedelta(days=30))
    found = await m.trends.episodes(since=span, subject=subject, type=type, limit=limit)
    return to_json(found)
