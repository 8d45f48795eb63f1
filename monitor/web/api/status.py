"""`/api/v1/status`: feeds' health, outbox backlog, workers' heartbeats, readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from monitor.services.shapes import to_json
from monitor.web.api import schemas
from monitor.web.api.common import Facade, Viewer

router = APIRouter(tags=["status"])


@router.get("/status", response_model=schemas.Status)
async def status(m: Facade, who: Viewer) -> Any:
    """The deployment at a glance; `health` is the same decision as `monitor health`."""
    return to_json(await m.health.status())
