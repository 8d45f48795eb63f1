"""The API speaks HTTP as a client expects, over a real server: a body over the cap is 413
however it is sent, a JSON route refuses another media type with 415, HEAD works wherever
GET does, a role too low is named with its article, and routes that need no credentials
say so in the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.api import Served

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
JSON = {"Content-Type": "application/json"}


def _is_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    return body


def _chunked(body: bytes) -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    return chunks()


def _chunked(body: bytes) -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    return chunks()


async def test_a_streamed_json_body_over_the_cap_is_413_on_every_route(api: Served) -> None:
    big = b'{"note": "' + b"x" * 1_100_000 + b'"}'
    triage = f"/api/v1/alerts/{api.seeded.alert_id}/triage"
    async with api.client("analyst", headers=JSON) as client:
        _is_problem(await client.put(triage, content=_chunked(big)), 413)
        _is_problem(await client.post("/api/v1/watchlists/test", content=_chunked(big)), 413)
        _is_problem(await client.post("/api/v1/feeds", content=_chunked(big)), 413)
        _is_problem(await client.put(triage, content=big), 413)


async def test_a_json_route_refuses_another_media_type_with_415(api: Served) -> None:
    triage = f"/api/v1/alerts/{api.seeded.alert_id}/triage"
    body = b'{"state": "acknowledged"}'
    async with api.client("analyst") as client:
        for headers in ({"Content-Type": "text/plain"}, {}, {"Content-Type": "application/xml"}):
            refused = _is_problem(await client.put(triage, content=body, headers=headers), 415)
            assert "application/json" in str(refused["detail"])
        refused = await client.post("/api/v1/watchlists/test", content=b"ISKP", headers={})
        _is_problem(refused, 415)
        with_charset = {"Content-Type": "application/json; charset=utf-8"}
        assert (await client.put(triage, content=body, headers=with_charset)).status_code == 200
        assert (await client.put(triage, content=b"{", headers=JSON)).status_code == 422
    plain = {"Content-Type": "text/plain"}
    async with api.client() as anonymous:  # no credentials: 401 first, no word on the body
        _is_problem(await anonymous.put(triage, content=body, headers=plain), 401)
        signing_in = await anonymous.post("/api/v1/session", content=b"x", headers=plain)
        _is_problem(signing_in, 415)  # sign-in needs no credentials: its body is checked


async def test_head_answers_wherever_get_does_without_a_body(api: Served) -> None:
    async with api.client("viewer") as client:
        for path in ("/api/v1/alerts", f"/api/v1/alerts/{api.seeded.alert_id}", "/api/v1/me"):
            got, head = await client.get(path), await client.head(path)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"]
            assert head.headers["content-length"] == got.headers["content-length"]
        missing = await client.head("/api/v1/alerts/alt_nope")
        assert missing.status_code == 404
        assert missing.content == b""
    async with api.client() as anonymous:
        assert (await anonymous.head("/api/v1/alerts")).status_code == 401
        for path in ("/login", "/static/console.css", "/"):  # console pages and files too
            got, head = await anonymous.get(path), await anonymous.head(path)
            assert head.status_code == got.status_code, path
            assert head.headers.get("location") == got.headers.get("location"), path
            assert head.content == b"", path
        assert (await anonymous.head("/live/alerts")).status_code == 405  # an endless stream


async def test_a_role_too_low_is_named_with_its_article(api: Served) -> None:
    async with api.client("analyst") as client:
        refused = _is_problem(await client.get("/api/v1/users"), 403)
        assert str(refused["detail"]).endswith("analyst is an analyst")
    async with api.client("viewer") as client:
        refused = _is_problem(await client.post("/api/v1/alerts/x/retry"), 403)
        assert str(refused["detail"]).endswith("viewer is a viewer")


async def test_routes_without_credentials_document_no_security(api: Served) -> None:
    async with api.client() as client:
        schema = (await client.get("/api/v1/openapi.json")).json()
    assert schema["paths"]["/api/v1/session"]["post"]["security"] == []
    assert schema["paths"]["/api/v1/session"]["delete"]["security"] != []
    for probe in ("/healthz", "/readyz", "/metrics"):
        assert schema["paths"][probe]["get"]["security"] == [], probe
