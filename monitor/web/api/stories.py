"""`/api/v1/stories`: near-duplicate clusters, newest first, and one with every copy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from monitor.services.shapes import to_json
from monitor.web.api import schemas
from monitor.web.api.common import Facade, Limit, Since, Viewer, errors, since_time

router = APIRouter(prefix="/stories", tags=["stories"])


@router.get("", response_model=list[schemas.Story], responses=errors(400))
async def list_stories(m: Facade, who: Viewer, since: Since = None, limit: Limit = 50) -> Any:
    """Stories newest first with their article and outlet counts."""
    return to_json(await m.stories.list(since=since_time(since, m.ctx.clock.now()), limit=limit))


@router.get("/{story_id}", response_model=schemas.StoryDetail, responses=errors(404))
async def show_story(m: Facade, who: Viewer, story_id: Annotated[int, Path(ge=1, le=2**62)]) -> Any:
    """One story with every copy, oldest first."""
    return to_json(await m.stories.get(story_id))
