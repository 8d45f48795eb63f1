"""`/api/v1/feeds`: health list, add (with discovery), enable, disable, remove, OPML."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from monitor.services.records import FeedChanged
from monitor.services.shapes import to_json
from monitor.web.api import schemas
from monitor.web.api.common import Analyst, Facade, Viewer, errors

router = APIRouter(prefix="/feeds", tags=["feeds"])
FeedId = Annotated[int, Path(ge=1, le=2**62)]
OPML = "text/x-opml"


async def _changed(m: Facade, who: Analyst, action: str, result: FeedChanged) -> Any:
    await m.audit.record(
        actor=who.name,
        action=f"feed.{action}",
        target=f"feed:{result.url}",
        after={"id": result.id, "state": result.state},
    )
    return to_json(result)


@router.get("", response_model=list[schemas.Feed])
async def list_feeds(m: Facade, who: Viewer) -> Any:
    """Every feed with its health, schedule and article count."""
    return to_json(await m.feeds.list())


@router.post("", response_model=schemas.FeedAdded, status_code=201, responses=errors(400, 409, 422))
async def add_feed(m: Facade, who: Analyst, body: schemas.FeedIn) -> Any:
    """Add a feed by its URL, or by a site URL whose feed is discovered: the feed as
    `GET /feeds` lists it (its `id` to enable, disable or remove it), with the URL given."""
    added = await m.feeds.add(
        body.url, name=body.name, tags=body.tags, discover=body.discover, origin="api"
    )
    await m.audit.record(
        actor=who.name,
        action="feed.add",
        target=f"feed:{added.url}",
        after={"url": added.url, "given": added.given, "name": body.name, "tags": body.tags},
    )
    return to_json(added)


@router.post("/{feed_id}/enable", response_model=schemas.FeedChanged, responses=errors(404))
async def enable_feed(m: Facade, who: Analyst, feed_id: FeedId) -> Any:
    """Poll the feed again from the next tick (a retired one too), its errors cleared."""
    return await _changed(m, who, "enable", await m.feeds.enable(str(feed_id)))


@router.post("/{feed_id}/disable", response_model=schemas.FeedChanged, responses=errors(404))
async def disable_feed(m: Facade, who: Analyst, feed_id: FeedId) -> Any:
    """Stop polling the feed; its articles are kept."""
    return await _changed(m, who, "disable", await m.feeds.disable(str(feed_id)))


@router.delete("/{feed_id}", response_model=schemas.FeedChanged, responses=errors(404, 409))
async def remove_feed(m: Facade, who: Analyst, feed_id: FeedId) -> Any:
    """Delete a feed and its articles (one the config in use lists: 409, edit the config)."""
    return await _changed(m, who, "remove", await m.feeds.remove(str(feed_id)))


@router.post(
    "/import",
    response_model=schemas.OpmlImport,
    responses=errors(400, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                OPML: {"schema": {"type": "string"}},
                "application/xml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_opml(m: Facade, who: Analyst, request: Request) -> Any:
    """Add every feed of an OPML document (the body); categories become tags."""
    result = await m.feeds.import_opml(await request.body(), source="the request body")
    await m.audit.record(
        actor=who.name,
        action="feed.import",
        target="feeds",
        after={"added": result.added, "listed": result.listed},
    )
    return to_json(result)


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {OPML: {"schema": {"type": "string"}}}}},
)
async def export_opml(m: Facade, who: Viewer) -> Response:
    """Every feed as an OPML 2.0 document."""
    return Response(
        await m.feeds.export_opml(),
        media_type=OPML,
        headers={"Content-Disposition": 'attachment; filename="feeds.opml"'},
    )
