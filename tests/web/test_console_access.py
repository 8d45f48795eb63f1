"""Who may reach each console route, on SQLite and PostgreSQL: without a session a page sends
to the sign-in page and a form post is refused; a viewer reads every page but changes
nothing; an analyst's forms work only with the session's CSRF token. Every console route
has a row here, and every page carries the strict Content-Security-Policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts

from monitor.web.console import router as console_router
from tests.support.api import PASSWORD, Served

CSP = re.compile(r"script-src 'self'; style-src 'self'")


@dataclass(frozen=True)
class Row:
    """A console route: the path to call, the least role, what a permitted call answers."""

    path: str
    role: str | None  # None: open to anyone (sign-in page, static files)
    ok: int
    form: dict[str, str] | None = None


def matrix(api: Served) -> dict[tuple[str, str], Row]:
    alert, story = api.seeded.alert_id, api.seeded.story_id
    feed = next(iter(api.seeded.feed_ids.values()))
    return {
        ("GET", "/login"): Row("/login", None, 200),
        ("POST", "/login"): Row("/login", None, 403, {"name": "x", "password": "y"}),
        ("POST", "/logout"): Row("/logout", "viewer", 303, {}),
        ("GET", "/"): Row("/?state=new&since=7d", "viewer", 200),
        ("GET", "/alerts/{alert_id}"): Row(f"/alerts/{alert}", "viewer", 200),
        ("POST", "/alerts/{alert_id}/triage"): Row(
            f"/alerts/{alert}/triage", "analyst", 303, {"state": "acknowledged"}
        ),
        ("POST", "/alerts/{alert_id}/retry"): Row(f"/alerts/{alert}/retry", "analyst", 303, {}),
        ("GET", "/live/alerts"): Row(
            "/live/alerts?after=2026-11-27T00:00:00%2B00:00", "viewer", 200
        ),
        ("GET", "/stories"): Row("/stories", "viewer", 200),
        ("GET", "/stories/{story_id}"): Row(f"/stories/{story}", "viewer", 200),
        ("GET", "/search"): Row("/search?q=ISKP", "viewer", 200),
        ("GET", "/feeds"): Row("/feeds", "viewer", 200),
        ("POST", "/feeds"): Row("/feeds", "analyst", 303, {"url": "http://127.0.0.1:9/x.xml"}),
        ("POST", "/feeds/{feed_id}/state"): Row(
            f"/feeds/{feed}/state", "analyst", 303, {"action": "disable"}
        ),
        ("POST", "/feeds/import"): Row("/feeds/import", "analyst", 303, {}),
        ("GET", "/feeds/export.opml"): Row("/feeds/export.opml", "viewer", 200),
        ("GET", "/watchlists"): Row("/watchlists", "viewer", 200),
        ("GET", "/watchlists/{name}"): Row("/watchlists/isis-k?preview=7", "viewer", 200),
        ("POST", "/watchlists/{name}/test"): Row(
            "/watchlists/isis-k/test", "analyst", 200, {"text": "An ISKP statement."}
        ),
        ("GET", "/status"): Row("/status", "viewer", 200),
        ("GET", "/static/{name}"): Row("/static/console.css", None, 200),
    }


def console_routes() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in iter_route_contexts(console_router().routes)
        for method in route.methods or ()
    }


async def sign_in(client: httpx.AsyncClient, name: str) -> str:
    """Sign `client` in as `name` through the form; the session's CSRF token."""
    form = await client.get("/login")
    token = _csrf(form.text)
    signed = await client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 303, signed.text
    inbox = await client.get("/")
    assert inbox.status_code == 200
    return _csrf(inbox.text)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


async def call(
    client: httpx.AsyncClient, method: str, row: Row, token: str | None
) -> httpx.Response:
    if method == "GET":
        if row.path.startswith("/live/"):
            async with client.stream("GET", row.path) as streamed:
                return streamed  # the status and headers; the stream is left unread
        return await client.get(row.path)
    data: dict[str, Any] = dict(row.form or {})
    if token is not None:
        data["csrf_token"] = token
    return await client.post(row.path, data=data)


def test_every_console_route_has_a_row() -> None:
    class Fake:
        seeded = type("S", (), {"alert_id": "a", "story_id": 1, "feed_ids": {"u": 1}})()

    assert console_routes() == set(matrix(Fake())), "a console route without a row, or a stale row"  # type: ignore[arg-type]


async def test_without_a_session_pages_send_to_sign_in_and_posts_are_refused(api: Served) -> None:
    async with api.client(follow_redirects=False) as anonymous:
        for (method, _), row in matrix(api).items():
            if row.role is None:
                continue
            answer = await call(anonymous, method, row, token="0" * 64)
            if method == "GET":
                assert answer.status_code == 303, row.path
                assert answer.headers["location"].startswith("/login?next=%2F"), row.path
            else:
                assert answer.status_code == 403, row.path


async def test_a_viewer_reads_every_page_and_changes_nothing(api: Served) -> None:
    async with api.client(follow_redirects=False) as viewer:
        token = await sign_in(viewer, "viewer")
        for (method, _), row in matrix(api).items():
            if row.role is None or row.path == "/logout":
                continue
            answer = await call(viewer, method, row, token)
            expected = row.ok if row.role == "viewer" else 403
            assert answer.status_code == expected, (method, row.path, answer.text[:300])
            if method == "GET" and answer.headers["content-type"].startswith("text/html"):
                assert CSP.search(answer.headers["content-security-policy"]), row.path
                assert "unsafe-inline" not in answer.headers["content-security-policy"]
    triage = await api.monitor.triage.get(api.seeded.alert_id)
    assert triage.state == "new"


async def test_an_analyst_changes_things_only_with_the_session_token(api: Served) -> None:
    async with api.client(follow_redirects=False) as analyst:
        token = await sign_in(analyst, "analyst")
        for (method, _), row in matrix(api).items():
            if method != "POST" or row.role is None or row.path == "/logout":
                continue
            for forged in (None, "", "f" * 64):
                answer = await call(analyst, method, row, forged)
                assert answer.status_code == 403, (row.path, forged)
            answer = await call(analyst, method, row, token)
            assert answer.status_code == row.ok, (row.path, answer.text[:300])
            if row.path.endswith("/test"):
                assert "<mark>ISKP</mark>" in answer.text
        out = await call(analyst, "POST", matrix(api)[("POST", "/logout")], token)
        assert out.status_code == 303
        assert (await analyst.get("/")).status_code == 303
    triage = await api.monitor.triage.get(api.seeded.alert_id)
    assert (triage.state, triage.by) == ("acknowledged", "analyst")
