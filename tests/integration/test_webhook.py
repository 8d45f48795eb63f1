"""Signed webhooks against a real HTTP receiver on 127.0.0.1 that verifies every signature
with the `standardwebhooks` library: retries keep the id and body, Retry-After is honoured,
410 disables the channel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from monitor.clock import FrozenClock
from monitor.config import Settings, settings_from_dict
from monitor.notify.outbox import DeliveryWorker
from monitor.notify.registry import build_notifiers, send_test
from monitor.pipeline.fetch import Fetcher
from monitor.services.alerts import delivery as delivery_record
from monitor.services.shapes import to_json
from monitor.storage import outbox as store
from monitor.storage.tables import channel_state, outbox
from tests.support.notify import (
    NOW,
    WEBHOOK_SECRET,
    WebhookReceiver,
    delivery_worker,
    loopback_fetcher,
    seed_alerts,
)


@pytest.fixture
async def client() -> AsyncIterator[Fetcher]:
    async with loopback_fetcher() as fetcher:
        yield fetcher


def hook_settings(
    url: str, monkeypatch: pytest.MonkeyPatch, secret: str = WEBHOOK_SECRET, **delivery: Any
) -> Settings:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", secret)
    raw = {
        "channels": {"hook": {"type": "webhook", "url": url, "secret_env": "TEST_WEBHOOK_SECRET"}},
        "delivery": {"retry_base": "30s", "retry_max": "10m", "timeout": "5s", **delivery},
    }
    return settings_from_dict(raw, base=Path("."))


async def outbox_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(outbox).order_by(outbox.c.id)))


async def test_alert_is_signed_and_sent_as_stored(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver().running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        [alert] = await seed_alerts(engine, dict(settings.channels), NOW, 1)
        assert await delivery_worker(engine, settings, client).run_once(NOW) == 1
    [got] = receiver.received
    [row] = await outbox_rows(engine)
    assert got.verified
    assert got.id == alert
    assert got.body == row.body.encode()
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body)["id"] == alert
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW)


async def test_a_tampered_body_fails_verification(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver().running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        await seed_alerts(engine, dict(settings.channels), NOW, 1)
        await delivery_worker(engine, settings, client).run_once(NOW)
        genuine = receiver.received[0]
        tampered = genuine.body.replace(b'"severity":"high"', b'"severity":"low"')
        assert tampered != genuine.body
        signed = {k: v for k, v in genuine.headers.items() if k.startswith("webhook-")}
        await client.post(receiver.url, content=tampered, headers=signed, timeout=5)
    assert [r.verified for r in receiver.received] == [True, False]


async def test_raw_secret_without_prefix_signs_with_its_bytes(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(secret=b"not-a-whsec-secret").running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch, secret="not-a-whsec-secret")
        await seed_alerts(engine, dict(settings.channels), NOW, 1)
        await delivery_worker(engine, settings, client).run_once(NOW)
    assert [r.verified for r in receiver.received] == [True]


async def test_three_500s_then_200_arrives_once_with_the_same_id(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(statuses=[500, 500, 500]).running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        [alert] = await seed_alerts(engine, dict(settings.channels), NOW, 1)
        delivery = delivery_worker(engine, settings, client)
        now, waits = NOW, []
        for _ in range(4):
            await delivery.run_once(now)
            [row] = await outbox_rows(engine)
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
        assert await delivery.run_once(now + timedelta(hours=2)) == 0
    assert [r.status for r in receiver.received] == [500, 500, 500, 200]
    assert {r.id for r in receiver.received} == {alert}
    assert len({r.body for r in receiver.received}) == 1
    assert all(r.verified for r in receiver.received)
    assert len(receiver.accepted()) == 1
    # rand() = 0: half of 30s, 60s, 120s; then sent.
    assert waits[:3] == [timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)


async def test_retry_after_is_honoured(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(statuses=[429], retry_after="120").running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        await seed_alerts(engine, dict(settings.channels), NOW, 1)
        delivery = delivery_worker(engine, settings, client)
        await delivery.run_once(NOW)
        [row] = await outbox_rows(engine)
        assert row.next_attempt_at == NOW + timedelta(seconds=120)
        assert row.last_error == "HTTP 429"
        assert await delivery.run_once(NOW + timedelta(seconds=119)) == 0
        assert await delivery.run_once(NOW + timedelta(seconds=120)) == 1
    assert len(receiver.received) == 2


async def test_410_disables_the_channel(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(statuses=[410]).running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        await seed_alerts(engine, dict(settings.channels), NOW, 3)
        delivery = DeliveryWorker(
            engine=engine, notifiers=build_notifiers(settings, client), settings=settings,
            clock=FrozenClock(NOW), owner="test-worker", concurrency=1,
        )  # fmt: skip
        with capture_logs() as logs:
            assert await delivery.run_once(NOW) == 0
        assert len(receiver.received) == 1  # the rest of the batch was not tried
        assert await delivery.run_once(NOW + timedelta(hours=1)) == 0
        assert len(receiver.received) == 1
        async with engine.connect() as conn:
            [state] = await conn.execute(select(channel_state))
        assert state.name == "hook"
        assert state.disabled_at == NOW
        assert "410" in state.disabled_reason
        assert [row.status for row in await outbox_rows(engine)] == ["pending"] * 3
        assert any(e["log_level"] == "error" and e["event"] == "channel disabled" for e in logs)

        async with engine.begin() as conn:  # re-enabled: the held-back alerts go out
            assert await store.enable_channel(conn, "hook")
        assert await delivery.run_once(NOW + timedelta(hours=1)) == 3
    assert len(receiver.accepted()) == 3


async def test_a_410_met_by_many_deliveries_at_once_disables_the_channel_once(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(statuses=[410] * 6).running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        await seed_alerts(engine, dict(settings.channels), NOW, 6)
        delivery = DeliveryWorker(
            engine=engine, notifiers=build_notifiers(settings, client), settings=settings,
            clock=FrozenClock(NOW), owner="test-worker", concurrency=6,
        )  # fmt: skip
        with capture_logs() as logs:
            assert await delivery.run_once(NOW) == 0
    assert len(receiver.received) > 1  # several were in flight when the first 410 came back
    disabled = [e for e in logs if e["event"] == "channel disabled"]
    assert len(disabled) == 1


async def test_channels_test_sends_a_signed_test_event(
    client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver().running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        message_id = await send_test(build_notifiers(settings, client)["hook"], NOW)
    [got] = receiver.received
    assert got.verified
    assert got.id == message_id
    body = json.loads(got.body)
    assert body == {"id": message_id, "type": "channel.test", "created_at": "2026-11-27T16:30:00Z"}
    assert message_id.startswith("tst_")


async def test_webhook_digest_is_one_signed_message_with_its_own_id(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    with WebhookReceiver().running() as receiver:
        raw = {"channels": {"hook": {"type": "webhook", "url": receiver.url, "digest": "1h",
                                     "secret_env": "TEST_WEBHOOK_SECRET"}}}  # fmt: skip
        settings = settings_from_dict(raw, base=Path("."))
        alerts = await seed_alerts(engine, dict(settings.channels), NOW, 4)
        delivery = delivery_worker(engine, settings, client)
        assert await delivery.run_once(NOW) == 0
        assert await delivery.send_digests(NOW + timedelta(minutes=30)) == 1
    [got] = receiver.received
    body = json.loads(got.body)
    assert got.verified
    assert got.id == body["id"]
    assert got.id.startswith("dig_")
    assert body["type"] == "alert.digest"
    assert body["count"] == 4
    assert [a["id"] for a in body["alerts"]] == alerts


async def test_ssrf_guard_refuses_a_loopback_webhook_unless_allowed(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver().running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch)
        await seed_alerts(engine, dict(settings.channels), NOW, 1)
        async with loopback_fetcher(allow_networks=[]) as guarded:
            assert await delivery_worker(engine, settings, guarded).run_once(NOW) == 0
    assert receiver.received == []
    [row] = await outbox_rows(engine)
    assert row.status == "dead"  # a refused target is permanent: no retries
    assert "127.0.0.1" in row.last_error


async def test_a_retried_delivery_keeps_its_attempts_and_gets_a_fresh_budget(
    engine: AsyncEngine, client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver(statuses=[500] * 10).running() as receiver:
        settings = hook_settings(receiver.url, monkeypatch, max_attempts=2)
        [alert] = await seed_alerts(engine, dict(settings.channels), NOW, 1)
        delivery = delivery_worker(engine, settings, client)
        later = NOW + timedelta(hours=1)
        await delivery.run_once(NOW)
        await delivery.run_once(later)  # the second failure: dead-lettered
        [dead] = await outbox_rows(engine)
        async with engine.begin() as conn:
            assert await store.requeue(conn, later, ids=[alert]) == 1
        await delivery.run_once(later)  # one more failure after the retry
        [retried] = await outbox_rows(engine)
    shown = to_json(delivery_record(dead))

    assert (dead.status, dead.attempts) == ("dead", 2)
    assert shown["next_attempt_at"] is None  # a dead-lettered delivery has no next attempt
    assert (retried.status, retried.attempts) == ("pending", 3)  # history kept, budget fresh
    assert len(receiver.received) == 3
