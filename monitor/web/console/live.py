"""New alerts pushed to an open inbox as server-sent events.

Whenever the process's shared watch (`newest.NewestAlert`) sees an alert newer than the
stream last saw, the stream asks the alerts use case for the alerts created since its cursor
that pass its filters (an index range on `created_at`), and sends each as an `alert` event
carrying the inbox row rendered by the same template as the page. A stream ends after
`LIFETIME`, so a server stopping never waits long on it; the browser reconnects by itself
with the last event id, from which the next stream resumes, so nothing raised in between is
missed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from monitor.errors import InvalidRequest
from monitor.web.console.alerts import InboxFilter
from monitor.web.console.deps import Viewer, console_of, monitor_of
from monitor.web.console.newest import NewestAlert
from monitor.web.console.pages import ConsoleRoute
from monitor.web.console.render import SECURITY_HEADERS, render_fragment

router = APIRouter(route_class=ConsoleRoute)
KEEP_ALIVE = 15.0  # seconds between comments that keep idle connections open
LIFETIME = 30.0  # seconds a stream stays open before the browser is asked to reconnect
RETRY_MS = 1000
BATCH = 50


@router.get("/live/alerts", name="console.inbox_events")
async def inbox_events(
    request: Request,
    who: Viewer,
    after: str = "",
    watchlist: str = "",
    state: str = "",
    language: str = "",
) -> Response:
    """`text/event-stream` of alerts created at or after `after` that pass the filters."""
    monitor = monitor_of(request)
    filters = InboxFilter(watchlist[:200], state[:32], language[:16])
    try:
        cursor = _resume_point(after, request.headers.get("last-event-id", ""))
        arguments = filters.arguments(monitor.ctx.clock.now()) | {"since": cursor}
    except (InvalidRequest, ValueError):
        return Response("bad cursor or filter", status_code=400, media_type="text/plain")
    headers = SECURITY_HEADERS | {"X-Accel-Buffering": "no"}
    return StreamingResponse(
        _events(request, who, arguments), media_type="text/event-stream", headers=headers
    )


def _resume_point(after: str, last_event_id: str) -> datetime:
    """The later of the page's newest alert time and the last event the browser received."""
    times = [datetime.fromisoformat(value) for value in (after, last_event_id) if value]
    if not times or any(t.tzinfo is None for t in times):
        raise ValueError("an aware ISO time is needed")
    return max(times)


async def _events(request: Request, who: Viewer, arguments: dict[str, Any]) -> AsyncIterator[str]:
    monitor, loop = monitor_of(request), asyncio.get_running_loop()
    sent: dict[str, datetime] = {}  # ids already sent, with their creation time
    deadline = loop.time() + LIFETIME
    yield f"retry: {RETRY_MS}\n\n"
    async with _newest(request).watching() as watch:
        seen = None
        while loop.time() < deadline and not await request.is_disconnected():
            if await watch.newer_than(seen, timeout=min(KEEP_ALIVE, deadline - loop.time())):
                seen = watch.newest
                page = await monitor.alerts.list(**arguments, limit=BATCH)
                fresh = [a for a in reversed(page.items) if a.id not in sent]
                for event in await _render(request, who, fresh):
                    yield event
                sent |= {a.id: a.created_at for a in fresh}
                if sent:
                    arguments["since"] = cursor = max(sent.values())
                    sent = {k: v for k, v in sent.items() if v >= cursor}
            yield ": keep-alive\n\n"


def _newest(request: Request) -> NewestAlert:
    """The process's shared watch on the newest alert (one per app)."""
    state = request.app.state
    if getattr(state, "console_newest", None) is None:
        state.console_newest = NewestAlert(console_of(request).newest_alert_at)
    watch: NewestAlert = state.console_newest
    return watch


async def _render(request: Request, who: Viewer, fresh: list[Any]) -> list[str]:
    """One `alert` event per alert, oldest first, each carrying its inbox row."""
    if not fresh:
        return []
    outlets = await console_of(request).outlets([a.story.id for a in fresh])
    events = []
    for alert in fresh:
        context = who.page(request, alert=alert, fresh=True, outlets=outlets)
        html = render_fragment(request, "console/_alert_row.html", context)
        data = json.dumps({"id": alert.id, "title": alert.article.title, "html": html})
        events.append(f"event: alert\nid: {alert.created_at.isoformat()}\ndata: {data}\n\n")
    return events
