"""The REST API under `/api/v1`: one router per resource, each route one use-case call.

Every route declares the least role it needs (`common.Viewer`, `Analyst`, `Admin`); only
`POST /api/v1/session` (signing in) needs none. Bodies are `services.shapes` JSON; a JSON
body sent as another media type is refused with 415 (`common.json_only`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from monitor.web.api import (
    accounts,
    alerts,
    articles,
    channels,
    feeds,
    status,
    stories,
    trends,
    watchlists,
)
from monitor.web.api.common import json_only

router = APIRouter(prefix="/api/v1", dependencies=[Depends(json_only)])
for _module in (alerts, stories, articles, feeds, watchlists, trends, channels, status, accounts):
    router.include_router(_module.router)
