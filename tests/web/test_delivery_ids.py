"""The message id of a delivery, on SQLite and PostgreSQL, is the one its receiver got, and
the API and the console show the same one: for the seed's log channel, the alert id its log
line carries (a webhook's `webhook-id` is that id too)."""

from __future__ import annotations

from tests.support.api import Served
from tests.web.test_console_access import sign_in


async def test_api_and_console_show_the_id_the_receiver_got(api: Served) -> None:
    alert = api.seeded.alert_id
    async with api.client("viewer") as viewer:
        shown = (await viewer.get(f"/api/v1/alerts/{alert}")).json()
    async with api.client() as browser:
        await sign_in(browser, "viewer")
        page = (await browser.get(f"/alerts/{alert}")).text

    [delivery] = shown["deliveries"]
    assert (delivery["channel"], delivery["message_id"]) == ("desk-log", alert)
    assert f'<td data-label="Message id" class="mono">{alert}</td>' in page
