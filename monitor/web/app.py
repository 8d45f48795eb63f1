"""The ASGI app: probes, the REST API under `/api/v1`, and the console's pages.

    from monitor.web.app import create_app
    app = create_app(monitor, readiness=check, clock=SystemClock())

`monitor` is the use-case facade (`monitor.services.open_monitor`); every route calls it and
nothing below it. `readiness` answers `/readyz`. With `monitor=None` the app serves only the
probes (a process that has no facade to give).

Mount order: the probes, then `/api/v1` (OpenAPI at `/api/v1/openapi.json`), then the page
routers of `monitor.web.mounts.page_routers()` — where the console plugs in — at the root.
Every error is an RFC 9457 problem (`monitor.web.problems`); request bodies are capped at
`max_body` bytes (413); a NUL in the path or query is refused (400); HEAD answers wherever
GET does but on the live stream (`monitor.web.head`); failed sign-ins are rate-limited per client
and per user (`app.state.limiter`, see `monitor.web.limits`). Authentication and roles:
`monitor.web.auth`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI

from monitor.clock import Clock
from monitor.config import VERSION
from monitor.metrics import METRICS, Metrics
from monitor.web import openapi, problems
from monitor.web.head import HeadAsGet
from monitor.web.health import Readiness
from monitor.web.health import router as health_router
from monitor.web.limits import BodyCap, FailureLimiter, RefuseNul
from monitor.web.mounts import page_routers
from monitor.web.security import SecurityHeaders

DEFAULT_MAX_BODY = 1_000_000
OPENAPI_URL = "/api/v1/openapi.json"


def create_app(
    monitor: Any,
    *,
    readiness: Readiness,
    clock: Clock,
    metrics: Metrics = METRICS,
    max_body: int = DEFAULT_MAX_BODY,
    pages: Sequence[APIRouter] | None = None,
    limiter: FailureLimiter | None = None,
) -> FastAPI:
    """The app for one process; see the module docstring."""
    app = FastAPI(
        title="feed-monitor",
        version=VERSION,
        summary="Alerts, stories, articles, feeds and watchlists of a feed-monitor service",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # Swagger UI would load scripts from a CDN; the schema is the doc
        redoc_url=None,
    )
    app.state.monitor = monitor
    app.state.readiness = readiness
    app.state.metrics = metrics
    app.state.clock = clock
    app.state.limiter = limiter or FailureLimiter(clock)
    problems.install(app)
    openapi.install(app)
    app.include_router(health_router)
    if monitor is not None:
        from monitor.web.api import router as api_router

        app.include_router(api_router)
        for page in page_routers() if pages is None else pages:
            app.include_router(page)
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyCap, max_bytes=max_body)
    app.add_middleware(RefuseNul)
    app.add_middleware(SecurityHeaders)
    return app
