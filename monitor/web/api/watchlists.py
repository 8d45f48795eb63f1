"""`/api/v1/watchlists`: list with hit counts and precision, test a text or URL, preview."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from monitor.errors import InvalidRequest
from monitor.services.shapes import to_json
from monitor.services.triage import Precision
from monitor.web.api import schemas
from monitor.web.api.common import Analyst, Facade, Viewer, errors

router = APIRouter(prefix="/watchlists", tags=["watchlists"])


@router.get("", response_model=list[schemas.Watchlist])
async def list_watchlists(m: Facade, who: Viewer) -> Any:
    """Each watchlist as loaded, with articles matched, alerts raised and precision."""
    precision = await m.triage.precision()
    return [
        to_json(w) | {"precision": to_json(precision.get(w.name, Precision(w.name, 0, 0)))}
        for w in await m.watchlists.list()
    ]


@router.post("/test", response_model=schemas.WatchlistTest, responses=errors(400, 422))
async def test_watchlists(m: Facade, who: Analyst, body: schemas.WatchlistTestIn) -> Any:
    """Match a posted text, or the article at `url`, against every watchlist; nothing is
    stored or sent."""
    if body.url:
        return to_json(await m.watchlists.test_url(body.url, feed_tags=body.feed_tags))
    if not body.text.strip() and not body.title.strip():
        raise InvalidRequest("give a text (or title) to match, or a url")
    return to_json(
        await m.watchlists.test_text(body.text, title=body.title, feed_tags=body.feed_tags)
    )


@router.post("/{name}/preview", response_model=schemas.Backfill, responses=errors(400, 404))
async def preview_watchlist(
    m: Facade,
    who: Analyst,
    name: Annotated[str, Path(max_length=200)],
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> Any:
    """What the watchlist would have alerted over the last `days` days (nothing is sent)."""
    return to_json(await m.watchlists.preview(name, days=days))
