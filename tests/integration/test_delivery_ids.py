"""The message id shown for a delivery (`alerts show --json`, `/api/v1/alerts/{id}`, the
console) is the id its receiver got: the `webhook-id` header of a webhook, the `Message-ID`
header of a mail — so an operator can match a receiver's log to the alert."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import settings_from_dict
from monitor.services import open_monitor, to_json
from tests.support.notify import (
    NOW,
    WEBHOOK_SECRET,
    MailSink,
    WebhookReceiver,
    delivery_worker,
    loopback_fetcher,
    seed_alerts,
    smtp_server,
)


async def test_shown_message_ids_are_the_ids_receivers_got(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    sink = MailSink()
    with WebhookReceiver(statuses=[500]).running() as receiver:
        async with smtp_server(sink), loopback_fetcher() as client:
            settings = settings_from_dict(
                {
                    "channels": {
                        "hook": {
                            "type": "webhook",
                            "url": receiver.url,
                            "secret_env": "TEST_WEBHOOK_SECRET",
                        },
                        "mail": {
                            "type": "email",
                            "smtp_host": "127.0.0.1",
                            "smtp_port": sink.port,
                            "starttls": False,
                            "from": "feed-monitor <alerts@example.org>",
                            "to": ["desk@example.org"],
                        },
                        "desk": {"type": "log"},
                    },
                    "delivery": {"retry_base": "30s", "retry_max": "10m", "timeout": "5s"},
                },
                base=Path("."),
            )
            [alert] = await seed_alerts(engine, dict(settings.channels), NOW, 1)
            worker = delivery_worker(engine, settings, client)
            await worker.run_once(NOW)  # the webhook answers 500: retried below
            await worker.run_once(NOW + timedelta(hours=1))
    async with open_monitor(settings, engine=engine) as m:
        shown = await m.alerts.get(alert)
    ids = {d["channel"]: d["message_id"] for d in to_json(shown)["deliveries"]}

    assert [r.status for r in receiver.received] == [500, 200]
    assert {r.headers["webhook-id"] for r in receiver.received} == {ids["hook"]}
    [mail] = sink.messages
    assert ids["mail"] == mail["Message-ID"]
    assert ids["desk"] == alert  # the log channel's line carries the alert id
