"""The API's safe defaults over a real server: problem+json errors, capped bodies and pages,
sessions with CSRF, rate-limited sign-in failures, no secret in any answer or log line, and
a complete OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from monitor.web.app import create_app
from tests.support.api import PASSWORD, Served

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _is_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert "\n" not in body.get("detail", "")


async def test_errors_are_problem_details(api: Served) -> None:
    async with api.client("viewer") as client:
        _is_problem(await client.get("/api/v1/alerts/alt_nope"), 404)
        _is_problem(await client.get("/api/v1/alerts", params={"since": "soon"}), 400)
        _is_problem(await client.get("/api/v1/alerts", params={"cursor": "!!"}), 400)
        _is_problem(await client.get("/api/v1/articles/search", params={"q": "(ISKP"}), 400)
        _is_problem(await client.get("/api/v1/nowhere"), 404)
        _is_problem(await client.delete("/api/v1/alerts"), 405)
        # PostgreSQL cannot hold a NUL: refused before any use case runs (was a 500 there)
        _is_problem(await client.get("/api/v1/alerts", params={"watchlist": "a\x00b"}), 400)
        _is_problem(await client.get("/api/v1/users/a%00b"), 400)


async def test_pages_are_capped(api: Served) -> None:
    async with api.client("viewer") as client:
        _is_problem(await client.get("/api/v1/alerts", params={"limit": 201}), 422)
        _is_problem(await client.get("/api/v1/stories", params={"limit": 10_000}), 422)
        assert (await client.get("/api/v1/alerts", params={"limit": 200})).status_code == 200


async def test_request_bodies_are_capped_announced_or_streamed(api: Served) -> None:
    big = b"<opml>" + b" " * 1_000_001

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with api.client("analyst") as client:
        _is_problem(await client.post("/api/v1/feeds/import", content=big), 413)
        _is_problem(await client.post("/api/v1/feeds/import", content=chunks()), 413)


async def test_a_session_signs_in_needs_csrf_to_change_and_signs_out(api: Served) -> None:
    async with api.client() as browser:
        opened = await browser.post(
            "/api/v1/session", json={"name": "analyst", "password": PASSWORD}
        )
        assert opened.status_code == 200
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie  # plain http on loopback
        assert (await browser.get("/api/v1/me")).json() == {
            "name": "analyst",
            "role": "analyst",
            "via": "session",
        }
        triage = f"/api/v1/alerts/{api.seeded.alert_id}/triage"
        _is_problem(await browser.put(triage, json={"state": "dismissed"}), 403)
        csrf = {"X-CSRF-Token": opened.json()["csrf_token"]}
        assert (await browser.put(triage, json={"state": "dismissed"}, headers=csrf)).is_success
        assert (await browser.delete("/api/v1/session", headers=csrf)).status_code == 204
        browser.cookies.clear()
        browser.cookies.set("monitor_session", opened.cookies["monitor_session"])
        _is_problem(await browser.get("/api/v1/me"), 401)  # the old cookie is worth nothing


async def test_sign_in_failures_are_rate_limited_then_forgiven(api: Served) -> None:
    wrong = {"name": "viewer", "password": "not the password"}
    async with api.client() as client:
        for _ in range(10):
            _is_problem(await client.post("/api/v1/session", json=wrong), 401)
        blocked = await client.post(
            "/api/v1/session", json={"name": "viewer", "password": PASSWORD}
        )
        _is_problem(blocked, 429)
        assert 1 <= int(blocked.headers["retry-after"]) <= 300
        async with api.client("bad-token") as with_token:  # the same client address
            _is_problem(await with_token.get("/api/v1/me"), 429)
        api.clock.advance(timedelta(minutes=5))
        right = {"name": "viewer", "password": PASSWORD}
        assert (await client.post("/api/v1/session", json=right)).status_code == 200


async def test_bad_tokens_are_rate_limited(api: Served) -> None:
    async with api.client("fmt_guess") as client:
        for _ in range(10):
            _is_problem(await client.get("/api/v1/alerts"), 401)
        _is_problem(await client.get("/api/v1/alerts"), 429)
    async with api.client("viewer") as client:  # the same address, now blocked too
        _is_problem(await client.get("/api/v1/alerts"), 429)


async def test_a_stale_session_cookie_is_not_a_failed_sign_in(api: Served) -> None:
    """Session secrets are random: a browser still holding the cookie of an ended session
    guesses nothing, and must not lock out everyone behind its address."""
    async with api.client() as browser:
        opened = await browser.post(
            "/api/v1/session", json={"name": "viewer", "password": PASSWORD}
        )
        stale = opened.cookies["monitor_session"]
        csrf = {"X-CSRF-Token": opened.json()["csrf_token"]}
        assert (await browser.delete("/api/v1/session", headers=csrf)).status_code == 204
        browser.cookies.clear()
        browser.cookies.set("monitor_session", stale)
        for _ in range(12):
            _is_problem(await browser.get("/api/v1/me"), 401)
            page = await browser.get("/")  # a console page: back to the sign-in form
            assert page.status_code in (302, 303, 307), page.status_code
    async with api.client("analyst") as client:  # the same client address
        assert (await client.get("/api/v1/me")).status_code == 200


async def test_a_live_session_is_not_refused_for_the_address_s_failures(api: Served) -> None:
    async with api.client() as browser:
        opened = await browser.post(
            "/api/v1/session", json={"name": "viewer", "password": PASSWORD}
        )
        assert opened.status_code == 200
        async with api.client("fmt_guess") as guesser:  # the same address
            for _ in range(10):
                _is_problem(await guesser.get("/api/v1/alerts"), 401)
            _is_problem(await guesser.get("/api/v1/alerts"), 429)
        assert (await browser.get("/api/v1/me")).status_code == 200


async def test_no_secret_in_any_answer_or_log_line(
    api: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    async with api.client("admin") as admin:
        created = await admin.post("/api/v1/tokens", json={"user": "viewer"})
        secret = created.json()["token"]
        added = await admin.post(
            "/api/v1/users", json={"name": "newcomer", "role": "viewer", "password": PASSWORD}
        )
        assert added.status_code == 201
        answers = [created.text.replace(secret, "")]
        for path in (
            "/api/v1/tokens",
            "/api/v1/users",
            "/api/v1/audit",
            "/api/v1/channels",
            "/api/v1/status",
            "/api/v1/openapi.json",
            "/metrics",
        ):
            answers.append((await admin.get(path)).text)
    async with api.client() as client:
        answers.append(
            (await client.post("/api/v1/session", json={"name": "x", "password": PASSWORD})).text
        )
    logged = capsys.readouterr()
    secrets = [secret, PASSWORD, "$argon2", *api.seeded.tokens.values()]
    for text in [*answers, logged.out, logged.err]:
        for value in secrets:
            assert value not in text


def _operations() -> set[tuple[str, str]]:
    async def ready() -> None:
        return None

    app = create_app(object(), readiness=ready, clock=None)  # type: ignore[arg-type]
    return {
        (method.lower(), route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and (route.path.startswith("/api/") or route.path.endswith("z"))
        for method in route.methods or ()
        if method != "HEAD" and route.path != "/api/v1/openapi.json"
    }


async def test_the_openapi_document_is_complete(api: Served) -> None:
    async with api.client() as client:
        schema = (await client.get("/api/v1/openapi.json")).json()
    documented = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert _operations() <= documented
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/") and (method, path) != ("post", "/api/v1/session"):
                assert operation["security"] == [{"bearer": []}, {"session": []}], path
                assert {"401", "403", "429"} <= set(operation["responses"]), path
            for status, response in operation["responses"].items():
                if status[0] in "45" and path.startswith("/api/"):
                    assert "application/problem+json" in response["content"], (path, status)
                if status.startswith("2") and status != "204":
                    assert response["content"], (path, status)
