"""The authorisation matrix: every API route and probe × every kind of caller → the status
it gets. A route of the app without a row here fails the first test, so a new route cannot
ship without deciding who may call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.services.accounts import ROLES
from monitor.web.app import create_app
from tests.support.api import PASSWORD, Served, served_api

CALLERS = ("none", "bad", "expired", "revoked", "viewer", "analyst", "admin")


@dataclass(frozen=True)
class Row:
    """Who may call a route (None: anyone), the status they get, and how to call it."""

    role: str | None
    ok: int
    path: str = ""  # the concrete path, when the route has parameters
    body: Any = None
    content: bytes | None = None


ALERT, STORY, ARTICLE, FEED = "{alert}", "{story}", "{article}", "{feed}"
OPML = b'<opml version="2.0"><body><outline xmlUrl="http://new.test/rss"/></body></opml>'

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/healthz"): Row(None, 200),
    ("HEAD", "/healthz"): Row(None, 200),
    ("GET", "/readyz"): Row(None, 200),
    ("HEAD", "/readyz"): Row(None, 200),
    ("GET", "/metrics"): Row(None, 200),
    ("HEAD", "/metrics"): Row(None, 200),
    ("GET", "/api/v1/openapi.json"): Row(None, 200),
    ("HEAD", "/api/v1/openapi.json"): Row(None, 200),
    ("POST", "/api/v1/session"): Row(None, 200, body={"name": "viewer", "password": PASSWORD}),
    ("DELETE", "/api/v1/session"): Row("viewer", 204),
    ("GET", "/api/v1/me"): Row("viewer", 200),
    ("GET", "/api/v1/alerts"): Row("viewer", 200),
    ("GET", "/api/v1/alerts/{alert_id}"): Row("viewer", 200, f"/api/v1/alerts/{ALERT}"),
    ("PUT", "/api/v1/alerts/{alert_id}/triage"): Row(
        "analyst", 200, f"/api/v1/alerts/{ALERT}/triage", {"state": "acknowledged"}
    ),
    ("GET", "/api/v1/alerts/{alert_id}/evidence"): Row(
        "viewer", 200, f"/api/v1/alerts/{ALERT}/evidence"
    ),
    ("POST", "/api/v1/alerts/{alert_id}/retry"): Row(
        "analyst", 200, f"/api/v1/alerts/{ALERT}/retry"
    ),
    ("GET", "/api/v1/stories"): Row("viewer", 200),
    ("GET", "/api/v1/stories/{story_id}"): Row("viewer", 200, f"/api/v1/stories/{STORY}"),
    ("GET", "/api/v1/articles"): Row("viewer", 200),
    ("GET", "/api/v1/articles/search"): Row("viewer", 200, "/api/v1/articles/search?q=ISKP"),
    ("GET", "/api/v1/articles/{article_id}"): Row("viewer", 200, f"/api/v1/articles/{ARTICLE}"),
    ("GET", "/api/v1/feeds"): Row("viewer", 200),
    ("POST", "/api/v1/feeds"): Row(
        "analyst", 409, body={"url": "http://outlet-a.test/rss", "discover": False}
    ),
    ("POST", "/api/v1/feeds/{feed_id}/enable"): Row("analyst", 200, f"/api/v1/feeds/{FEED}/enable"),
    ("POST", "/api/v1/feeds/{feed_id}/disable"): Row(
        "analyst", 200, f"/api/v1/feeds/{FEED}/disable"
    ),
    ("DELETE", "/api/v1/feeds/{feed_id}"): Row("analyst", 409, f"/api/v1/feeds/{FEED}"),
    ("POST", "/api/v1/feeds/import"): Row("analyst", 200, content=OPML),
    ("GET", "/api/v1/feeds/export"): Row("viewer", 200),
    ("GET", "/api/v1/watchlists"): Row("viewer", 200),
    ("POST", "/api/v1/watchlists/test"): Row("analyst", 200, body={"text": "ISKP claimed it"}),
    ("POST", "/api/v1/watchlists/{name}/preview"): Row(
        "analyst", 200, "/api/v1/watchlists/isis-k/preview?days=3"
    ),
    ("GET", "/api/v1/trends"): Row("viewer", 200, "/api/v1/trends?watchlist=isis-k&by=hour"),
    ("GET", "/api/v1/trends/episodes"): Row("viewer", 200),
    ("GET", "/api/v1/channels"): Row("viewer", 200),
    ("POST", "/api/v1/channels/{name}/test"): Row("admin", 200, "/api/v1/channels/desk-log/test"),
    ("GET", "/api/v1/status"): Row("viewer", 200),
    ("GET", "/api/v1/users"): Row("admin", 200),
    ("POST", "/api/v1/users"): Row(
        "admin", 409, body={"name": "viewer", "role": "viewer", "password": PASSWORD}
    ),
    ("GET", "/api/v1/users/{name}"): Row("admin", 200, "/api/v1/users/viewer"),
    ("PATCH", "/api/v1/users/{name}"): Row(
        "admin", 200, "/api/v1/users/viewer", {"role": "viewer"}
    ),
    ("DELETE", "/api/v1/users/{name}"): Row("admin", 404, "/api/v1/users/nobody"),
    ("GET", "/api/v1/tokens"): Row("admin", 200),
    ("POST", "/api/v1/tokens"): Row("admin", 201, body={"user": "viewer", "expires": "1d"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Row("admin", 404, "/api/v1/tokens/999999"),
    ("GET", "/api/v1/audit"): Row("admin", 200),
}


def _routes() -> set[tuple[str, str]]:
    app = create_app(object(), readiness=_ready, clock=None)  # type: ignore[arg-type]
    found = set()
    for route in iter_route_contexts(app.routes):
        if route.path and _served_here(route.path):
            found |= {(method, route.path) for method in route.methods or ()}
    return found


async def _ready() -> None:
    return None


def _served_here(path: str) -> bool:
    """The API and the probes (the console's pages have their own browser tests)."""
    return path.startswith("/api/") or path in ("/healthz", "/readyz", "/metrics")


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    routes = _routes()
    assert routes - set(MATRIX) == set(), "routes without a row in MATRIX"
    assert set(MATRIX) - routes == set(), "rows for routes the app does not have"


def expected(row: Row, caller: str) -> int:
    if row.role is None:
        return row.ok
    if caller not in ROLES:
        return 401
    return row.ok if ROLES.index(caller) >= ROLES.index(row.role) else 403


def _path(served: Served, template: str, row: Row) -> str:
    seeded = served.seeded
    path = row.path or template
    return (
        path.replace(ALERT, seeded.alert_id)
        .replace(STORY, str(seeded.story_id))
        .replace(ARTICLE, str(seeded.article_id))
        .replace(FEED, str(next(iter(seeded.feed_ids.values()))))
    )


@pytest.fixture
async def api(engine: AsyncEngine) -> AsyncIterator[Served]:
    """The API with the sign-in limiter out of the way: bad credentials are the point here
    (the limiter has its own test)."""
    async with served_api(engine, limiter_limit=10**6) as served:
        yield served


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_each_caller_gets_the_expected_status_on_every_route(api: Served) -> None:
    wrong = []
    for caller in CALLERS:
        credential = {"none": None, "bad": "fmt_not-a-token"}.get(caller, caller)
        async with api.client(credential) as client:
            for (method, template), row in sorted(MATRIX.items()):
                response = await client.request(
                    method,
                    _path(api, template, row),
                    json=row.body,
                    content=row.content,
                    headers={"Content-Type": "text/x-opml"} if row.content else None,
                )
                client.cookies.clear()  # signing in sets a cookie; each call stands alone
                want = expected(row, caller)
                if response.status_code != want:
                    wrong.append((caller, method, template, response.status_code, want))
                if response.status_code in (401, 403):
                    assert response.headers["content-type"] == "application/problem+json"
    assert wrong == []
