"""Status: workers and their heartbeats, the outbox backlog and its oldest pending row,
channels that are failing or disabled, feeds by state, and readiness."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request, Response

from monitor.web.console.deps import Viewer, console_of, monitor_of
from monitor.web.console.pages import ConsoleRoute
from monitor.web.console.render import render

router = APIRouter(route_class=ConsoleRoute)


@router.get("/status", name="console.status")
async def status(request: Request, who: Viewer) -> Response:
    monitor = monitor_of(request)
    current = await monitor.health.status()
    states = Counter(feed.state for feed in current.feeds)
    context = who.page(
        request,
        title="Status",
        section="console.status",
        status=current,
        channels=await monitor.channels.list(),
        failing=await console_of(request).failing_deliveries(),
        feed_states=sorted(states.items()),
    )
    return render(request, "console/status.html", context)
