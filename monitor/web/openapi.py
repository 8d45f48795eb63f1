"""The OpenAPI document at `/api/v1/openapi.json`, completed where FastAPI leaves gaps:
every error answer is documented as `application/problem+json` (RFC 9457), every route
that needs credentials names the bearer token and the session cookie as its security and
documents 401, 403 and 429, routes that need none (signing in, the probes) say
`security: []`, request bodies document 413 and JSON bodies 415."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from monitor.web.problems import PROBLEM, Problem

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_SECURED = {
    "401": "Missing, unknown, expired or revoked credentials",
    "403": "The role is too low for this route (or a cookie request lacks its CSRF token)",
    "429": "Too many failed sign-ins from this client: wait Retry-After seconds",
}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
_OPEN = {("post", "/api/v1/session")}  # the API's only operation that needs no credentials


def install(app: FastAPI) -> None:
    """Serve the completed document (built once, on the first request for it)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(_base(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _base(app: FastAPI) -> dict[str, Any]:
    return get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=_DESCRIPTION,
        routes=app.routes,
    )


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "an API token (fmt_…)"},
        "session": {"type": "apiKey", "in": "cookie", "name": "monitor_session"},
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _complete_operation(path, method, operation)
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    return schema


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if (method, path) in _OPEN or not path.startswith("/api/"):
        operation["security"] = []  # no credentials needed: signing in, and the probes
    else:
        operation["security"] = _SECURITY
        for status, description in _SECURED.items():
            responses.setdefault(status, {"description": description})
    if (method, path) in _OPEN:
        responses.setdefault("401", {"description": "Wrong user name or password"})
        responses.setdefault("429", {"description": _SECURED["429"]})
    if "requestBody" in operation:
        responses.setdefault("413", {"description": "Body too large"})
        if "application/json" in operation["requestBody"].get("content", {}):
            responses.setdefault("415", {"description": "The body is not application/json"})
    if operation.get("parameters") or "requestBody" in operation:
        responses.setdefault("422", {"description": "Invalid request"})
    for status, response in responses.items():
        if not status.startswith(("2", "3")) and not path.endswith(("/healthz", "/readyz")):
            response["content"] = {PROBLEM: {"schema": _PROBLEM_REF}}


_DESCRIPTION = """\
The REST API of feed-monitor. Send `Authorization: Bearer <token>` (tokens come from
`monitor tokens create`), or sign in with `POST /api/v1/session` for a session cookie
(changes made with the cookie also need the `X-CSRF-Token` it returned).
Roles: viewer reads; analyst also triages, tests watchlists, retries deliveries and manages
feeds; admin also manages users, tokens and channels. Errors are RFC 9457
`application/problem+json`. Lists are capped per page; alerts and the audit log page
with `cursor`.
"""
