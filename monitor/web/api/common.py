"""What every API router shares: the facade, the role dependencies, query parameters that
mean the same everywhere (`since`, `limit`), the media-type check of JSON bodies, and the
error responses the schema documents."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, params

from monitor.errors import InvalidRequest
from monitor.services.accounts import Principal
from monitor.services.core import Monitor
from monitor.units import parse_duration
from monitor.web.auth import current_principal, require

MAX_PAGE = 200


def monitor_of(request: Request) -> Monitor:
    facade: Monitor = request.app.state.monitor
    return facade


Facade = Annotated[Monitor, Depends(monitor_of)]
Viewer = Annotated[Principal, Depends(require("viewer"))]
Analyst = Annotated[Principal, Depends(require("analyst"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}")]
Since = Annotated[
    str | None,
    Query(
        max_length=40,
        description="a duration back from now (`30m`, `7d`) or an ISO 8601 time with offset",
    ),
]


async def json_only(request: Request) -> None:
    """415 for a body sent to a JSON-body route as another media type (or as none): without
    this, FastAPI validates the raw bytes and answers a puzzling 422. A dependency of the
    whole API router, so every route with a JSON body gets it; an empty body passes, to be
    refused (or not) by the route's own validation. The request is authenticated first
    (but on sign-in), so a caller without valid credentials gets 401, not a hint about the
    route's body."""
    body = getattr(request.scope.get("route"), "body_field", None)
    if body is None or isinstance(body.field_info, params.Form) or not _has_body(request):
        return
    if not (request.method == "POST" and request.url.path.endswith("/session")):
        await current_principal(request)  # cached on the request for the route's own check
    if not _is_json(request.headers.get("content-type", "")):
        raise HTTPException(
            415, f"{request.method} {request.url.path} takes an application/json body"
        )


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length != "0")


def _is_json(content_type: str) -> bool:
    message = Message()
    message["content-type"] = content_type or "text/plain"
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def since_time(value: str | None, now: datetime) -> datetime | None:
    """`since` as a time: `7d` means seven days before `now`; InvalidRequest otherwise."""
    if not value:
        return None
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(
            f"since: {value!r} is neither a duration (7d) nor an ISO time"
        ) from None
    if when.tzinfo is None:
        raise InvalidRequest("since: an ISO time needs its UTC offset (Z or +00:00)")
    return when.astimezone(UTC)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Responses to document for a route: the given problem statuses."""
    return {status: {"description": _DESCRIPTIONS[status]} for status in statuses}


_DESCRIPTIONS = {
    400: "Bad request (a value the use case refuses)",
    404: "Not found",
    409: "Conflict with what is stored",
    413: "Body too large",
    422: "Invalid request or unusable target",
    502: "The channel did not accept the message",
}
