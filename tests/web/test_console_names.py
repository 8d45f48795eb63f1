"""Names and titles other people wrote, on the console's pages (SQLite and PostgreSQL): each
is isolated (`<bdi>`) so text in Arabic script cannot reorder what is around it, and an
alert's "Article" row is the article's title, linked, with its outlet beside it."""

from __future__ import annotations

import re

from tests.support.api import SEED_TITLE, Served
from tests.web.test_console_access import sign_in


async def test_outlet_and_watchlist_names_are_isolated_on_every_page(api: Served) -> None:
    alert, story = api.seeded.alert_id, api.seeded.story_id
    pages = {
        "/": "<bdi>isis-k</bdi>",
        f"/alerts/{alert}": "<strong><bdi>Outlet ",
        f"/stories/{story}": '<td data-label="Outlet"><bdi>Outlet ',
        "/search?q=wheat": "<small><bdi>Outlet ",
        "/feeds": '<td data-label="Feed"><bdi>Outlet ',
        "/watchlists": "<bdi>isis-k</bdi></a>",
        "/watchlists/isis-k": "<h1>Watchlist <bdi>isis-k</bdi></h1>",
    }
    async with api.client() as client:
        await sign_in(client, "viewer")
        for path, isolated in pages.items():
            page = await client.get(path)
            assert page.status_code == 200, path
            assert isolated in page.text, path
            assert "<bdi>viewer</bdi>" in page.text, path  # the signed-in user's name


async def test_an_alerts_article_row_is_its_title_linked_with_the_outlet(api: Served) -> None:
    shown = (await _get_json(api, f"/api/v1/alerts/{api.seeded.alert_id}"))["article"]
    async with api.client() as client:
        await sign_in(client, "viewer")
        page = (await client.get(f"/alerts/{api.seeded.alert_id}")).text
    row = page.split('<dt>Article</dt><dd id="article">', 1)[1].split("</dd>", 1)[0]
    link = re.search(r'<a href="([^"]+)"[^>]*>([^<]*)</a>', row)
    assert link, row
    assert (link.group(1), link.group(2)) == (shown["url"], SEED_TITLE)
    assert f"<bdi>{shown['feed']['name']}</bdi>" in row


async def _get_json(api: Served, path: str) -> dict:  # type: ignore[type-arg]
    async with api.client("viewer") as client:
        return (await client.get(path)).json()  # type: ignore[no-any-return]
