"""The REST API under `/api/v1`: one router per resource, each route one use-case call.

Every route declares the least role it needs (`common.Viewer`, `Analyst`, `Admin`); only
`POST /api/v1/session` (signing in) needs none. Bodies are `services.shapes` JSON.
"""

from __future__ import annotations

from fastapi import APIRouter

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

router = APIRouter(prefix="/api/v1")
for _module in (alerts, stories, articles, feeds, watchlists, trends, channels, status, accounts):
    router.include_router(_module.router)
