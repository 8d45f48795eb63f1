"""Stories (near-duplicate clusters): the list, and one story with every copy."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from monitor.errors import InvalidRequest, NotFound
from monitor.web.console.alerts import timeline
from monitor.web.console.deps import Viewer, monitor_of, parse_since
from monitor.web.console.pages import ConsoleRoute, error_page
from monitor.web.console.render import render

router = APIRouter(route_class=ConsoleRoute)
LIMIT = 200


@router.get("/stories", name="console.stories")
async def stories(request: Request, who: Viewer, since: str = "", shared: str = "") -> Response:
    monitor = monitor_of(request)
    try:
        found = await monitor.stories.list(
            since=parse_since(since[:8], monitor.ctx.clock.now()), limit=LIMIT
        )
    except InvalidRequest as e:
        return error_page(request, who, 400, "Bad filter", str(e))
    if shared:
        found = tuple(s for s in found if s.outlets > 1)
    context = who.page(
        request,
        title="Stories",
        section="console.stories",
        stories=found,
        since=since,
        shared=bool(shared),
    )
    return render(request, "console/stories.html", context)


@router.get("/stories/{story_id}", name="console.story")
async def story(request: Request, who: Viewer, story_id: int) -> Response:
    monitor = monitor_of(request)
    try:
        detail = await monitor.stories.get(story_id)
    except NotFound as e:
        return error_page(request, who, 404, "No such story", str(e))
    context = who.page(
        request,
        title=detail.title or f"Story {story_id}",
        section="console.stories",
        story=detail,
        timeline=timeline(detail.items),
    )
    return render(request, "console/story.html", context)
