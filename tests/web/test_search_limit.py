"""The one limit on a search's length (`articles.MAX_QUERY_CHARS`), as the API and the console
show it on SQLite and PostgreSQL: a query over it is refused with the use case's own line,
never cut, and the faces' guards on a URL sit above it."""

from __future__ import annotations

import html

from monitor.services.articles import MAX_QUERY_CHARS
from monitor.web.limits import QUERY_GUARD
from tests.support.api import Served
from tests.web.test_console_access import sign_in

TOO_LONG = "Kabul OR " * (MAX_QUERY_CHARS // 9) + "wheat"  # parses, a few characters over
LIMITED = f"queries are limited to {MAX_QUERY_CHARS:,} characters; this one has {len(TOO_LONG):,}"
AT_LIMIT = "wheat" + " " * (MAX_QUERY_CHARS - 10) + "wheat"


async def test_the_api_refuses_a_query_over_the_limit_with_a_problem(api: Served) -> None:
    assert MAX_QUERY_CHARS < len(TOO_LONG) < QUERY_GUARD
    assert len(AT_LIMIT) == MAX_QUERY_CHARS
    async with api.client("viewer") as client:
        refused = await client.get("/api/v1/articles/search", params={"q": TOO_LONG})
        assert refused.status_code == 400
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert LIMITED in refused.json()["detail"]
        found = await client.get("/api/v1/articles/search", params={"q": AT_LIMIT})
        assert found.status_code == 200, found.text
        assert len(found.json()["articles"]) == 1
        guarded = await client.get("/api/v1/articles/search", params={"q": "a" * QUERY_GUARD})
        assert guarded.status_code == 400  # the use case's line, not the guard's 422
        huge = await client.get("/api/v1/articles/search", params={"q": "a" * (QUERY_GUARD + 1)})
        assert huge.status_code == 422


async def test_the_console_shows_the_limit_and_keeps_the_whole_query(api: Served) -> None:
    async with api.client() as client:
        await sign_in(client, "viewer")
        page = await client.get("/search", params={"q": TOO_LONG})
        found = await client.get("/search", params={"q": AT_LIMIT})
    assert page.status_code == 400
    text = html.unescape(page.text)
    assert f'<p class="flash error" id="q-error" role="alert">{LIMITED}</p>' in text
    assert f'name="q" value="{TOO_LONG}"' in text  # kept whole, to shorten it
    assert "maxlength" not in text.split('id="q"', 1)[1].split(">", 1)[0]
    assert found.status_code == 200
    assert "1 article on this page" in found.text
