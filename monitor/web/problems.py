"""RFC 9457 problem details: every error the app answers is `application/problem+json`.

`problem(status, detail)` builds one; `install(app)` maps the use cases' errors (NotFound →
404, InvalidRequest and QuerySyntaxError → 400, Conflict → 409, AuthenticationFailed → 401,
a given URL that cannot be fetched, parsed or extracted → 422, a channel that refused a test
message → 502), request validation (422) and HTTP errors to it. An unexpected exception answers a 500
problem that names nothing of its cause; the cause is logged with the request id.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from monitor.errors import (
    AuthenticationFailed,
    Conflict,
    DeliveryError,
    ExtractError,
    FetchError,
    InvalidRequest,
    MonitorError,
    NotFound,
    ParseError,
    QuerySyntaxError,
)

PROBLEM = "application/problem+json"
log = structlog.get_logger("monitor.web")

_STATUS_OF: tuple[tuple[type[MonitorError], int], ...] = (
    (NotFound, 404),
    (InvalidRequest, 400),
    (QuerySyntaxError, 400),
    (Conflict, 409),
    (AuthenticationFailed, 401),
    # a URL the caller gave could not be fetched, read as a feed or extracted
    (FetchError, 422),
    (ParseError, 422),
    (ExtractError, 422),
    (DeliveryError, 502),
)


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


def problem(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response; `title` is the status's standard phrase."""
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, instance=instance)
    content = body.model_dump(exclude_none=True) | (extra or {})
    return JSONResponse(content, status_code=status, headers=headers, media_type=PROBLEM)


def status_of(error: MonitorError) -> int:
    for kind, status in _STATUS_OF:
        if isinstance(error, kind):
            return status
    return 500


async def _monitor_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MonitorError)
    status = status_of(error)
    if status == 500:
        return await _unexpected(request, error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, str(error), instance=request.url.path, headers=headers)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else None
    return problem(error.status_code, detail, instance=request.url.path, headers=error.headers)


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in error.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    detail = f"{'.'.join(first['loc']) or 'request'}: {first['msg']}"
    return problem(422, detail, instance=request.url.path, extra={"errors": errors})


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error(
        "request failed", path=request.url.path, method=request.method, error=repr(error)[:300]
    )
    return problem(500, "the server failed to answer; see its log", instance=request.url.path)


def install(app: FastAPI) -> None:
    """Answer every error of `app` with a problem+json body."""
    app.add_exception_handler(MonitorError, _monitor_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)
