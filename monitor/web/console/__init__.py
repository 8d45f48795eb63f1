"""The analyst console: server-rendered pages over the same use cases as the REST API.

`router()` is what `monitor.web.mounts.page_routers` mounts at the root of the app: sign in
and out, the alerts inbox (live), one alert, stories, search, feeds, watchlists, status, and
the one stylesheet and script under `/static/`. Pages call the `Monitor` facade
(`app.state.monitor`) only; authentication and roles are `monitor.web.auth`'s.
"""

from __future__ import annotations

from fastapi import APIRouter

from monitor.web.console import alerts, feeds, live, search, session, static, status, stories
from monitor.web.console import watchlists as watchlist_pages


def router() -> APIRouter:
    """Every console page, each turning a missing session into a trip to the sign-in page."""
    console = APIRouter(include_in_schema=False)
    for part in (session, alerts, live, stories, search, feeds, watchlist_pages, status, static):
        console.include_router(part.router)
    return console
