"""`/api/v1/channels`: the alert channels and their state; send a test message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from monitor.services.shapes import to_json
from monitor.web.api import schemas
from monitor.web.api.common import Admin, Facade, Viewer, errors

router = APIRouter(prefix="/channels", tags=["channels"])


@router.get("", response_model=list[schemas.Channel])
async def list_channels(m: Facade, who: Viewer) -> Any:
    """Every configured channel (never its secret) and whether it is disabled."""
    return to_json(await m.channels.list())


@router.post("/{name}/test", response_model=schemas.ChannelTest, responses=errors(404, 502))
async def test_channel(m: Facade, who: Admin, name: Annotated[str, Path(max_length=200)]) -> Any:
    """Send a clearly marked test message through the channel."""
    result = await m.channels.test(name)
    await m.audit.record(
        actor=who.name,
        action="channel.test",
        target=f"channel:{name}",
        after={"message_id": result.message_id},
    )
    return to_json(result)
