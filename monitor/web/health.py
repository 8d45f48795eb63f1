"""`/healthz`, `/readyz` and `/metrics`: unauthenticated, for probes and Prometheus.

- `/healthz` — 200 `ok` while the process (its event loop) answers.
- `/readyz` — 200 `ready`, or 503 with one line saying what is wrong (database, migrations,
  scheduler tick, shutting down); the check is the `readiness` callable given to the app.
- `/metrics` — the Prometheus text exposition of the process's metrics.

They reveal nothing a probe does not need: no feed, user or secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from monitor.metrics import CONTENT_TYPE, Metrics

Readiness = Callable[[], Awaitable[str | None]]
router = APIRouter(tags=["health"])
_NO_STORE = {"Cache-Control": "no-store"}
_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}


@router.head("/healthz", include_in_schema=False)
@router.get(
    "/healthz",
    response_class=PlainTextResponse,
    responses={200: _TEXT},
    summary="Liveness: 200 while the process answers",
)
async def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok\n", headers=_NO_STORE)


@router.head("/readyz", include_in_schema=False)
@router.get(
    "/readyz",
    response_class=PlainTextResponse,
    responses={200: _TEXT, 503: _TEXT | {"description": "Not ready: one line saying why"}},
    summary="Readiness: database reachable, migrations current, scheduler ticking",
)
async def readyz(request: Request) -> PlainTextResponse:
    readiness: Readiness = request.app.state.readiness
    problem = await readiness()
    if problem:
        return PlainTextResponse(f"{problem}\n", status_code=503, headers=_NO_STORE)
    return PlainTextResponse("ready\n", headers=_NO_STORE)


@router.head("/metrics", include_in_schema=False)
@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics of this process",
)
async def metrics(request: Request) -> Response:
    source: Metrics = request.app.state.metrics
    return Response(source.exposition(), media_type=CONTENT_TYPE, headers=_NO_STORE)
