"""`/api/v1/trends` over a real server: the series `monitor trends --json` prints, episodes,
and one-line problems for bad input."""

from __future__ import annotations

import pytest

from tests.support.api import Served

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_the_series_counts_the_seeded_stories(api: Served) -> None:
    await api.monitor.trends.check(api.clock.now())
    async with api.client("viewer") as client:
        response = await client.get(
            "/api/v1/trends", params={"watchlist": "isis-k", "since": "3d", "by": "hour"}
        )
        episodes = await client.get("/api/v1/trends/episodes")

    assert response.status_code == 200, response.text
    [trend] = response.json()
    assert (trend["watchlist"], trend["by"], trend["actor"]) == ("isis-k", "hour", None)
    assert len(trend["points"]) == 72
    assert sum(p["stories"] for p in trend["points"]) >= 1
    assert episodes.status_code == 200
    assert episodes.json() == []


async def test_bad_input_is_a_problem(api: Served) -> None:
    async with api.client("viewer") as client:
        since = await client.get("/api/v1/trends", params={"since": "soon"})
        future = await client.get("/api/v1/trends", params={"since": "2999-01-01T00:00:00Z"})
        unknown = await client.get("/api/v1/trends", params={"watchlist": "nobody"})
        kind = await client.get("/api/v1/trends/episodes", params={"type": "alert.created"})
    assert (since.status_code, future.status_code, unknown.status_code) == (400, 400, 404)
    assert kind.status_code == 422
    for response in (since, future, unknown):
        assert response.headers["content-type"] == "application/problem+json"
    assert "no watchlist 'nobody'" in unknown.json()["detail"]


async def test_an_actor_the_watchlist_lacks_is_a_404_naming_its_actors(api: Served) -> None:
    async with api.client("viewer") as client:
        unknown = await client.get(
            "/api/v1/trends", params={"watchlist": "isis-k", "actor": "Nobody"}
        )
        known = await client.get(
            "/api/v1/trends", params={"watchlist": "isis-k", "actor": "ISIS-Khorasan"}
        )
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["content-type"] == "application/problem+json"
    detail = unknown.json()["detail"]
    assert "watchlist 'isis-k' has no actor 'Nobody'" in detail
    assert "ISIS-Khorasan" in detail
    assert known.status_code == 200, known.text
    assert known.json()[0]["actor"] == "ISIS-Khorasan"
