"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1): STARTTLS with a
private CA and AUTH, implicit TLS, a plain relay, SMTP errors, test mails, and digests."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import FrozenClock
from monitor.config import Settings, settings_from_dict
from monitor.errors import DeliveryError
from monitor.notify.base import OutboxMessage
from monitor.notify.outbox import DeliveryWorker
from monitor.notify.payload import alert_rows
from monitor.notify.registry import build_notifiers, send_test
from monitor.pipeline.fetch import Fetcher
from monitor.storage.tables import outbox
from tests.support.notify import (
    NOW,
    MailSink,
    PrivateCA,
    free_port,
    loopback_fetcher,
    make_context,
    make_match,
    make_private_ca,
    seed_alerts,
    smtp_server,
)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    return make_private_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
async def no_client() -> AsyncIterator[Fetcher]:
    """Email needs no HTTP client; build_notifiers still takes the shared one."""
    async with loopback_fetcher() as fetcher:
        yield fetcher


def email_settings(port: int, **channel: Any) -> Settings:
    config = {
        "type": "email",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "from": "feed-monitor <alerts@example.org>",
        "to": ["desk@example.org", "duty@example.org"],
        "timeout": "5s",
        **channel,
    }
    return settings_from_dict({"channels": {"mail": config}}, base=Path("."), check_secrets=False)


def alert_message(settings: Settings) -> OutboxMessage:
    _, [row] = alert_rows(make_match(["mail"]), make_context(), settings.channels, NOW)
    return OutboxMessage(row["message_id"], "mail", "alert", row["body"], alert_id=row["alert_id"])


def parts(mail: EmailMessage) -> tuple[str, str]:
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


async def send(settings: Settings, message: OutboxMessage, client: Fetcher) -> None:
    await build_notifiers(settings, client)["mail"].send(message)


async def test_starttls_with_private_ca_and_auth_delivers_a_full_alert_mail(
    private_ca: PrivateCA, no_client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "hunter2")
    sink = MailSink()
    async with smtp_server(sink, tls=private_ca.server_context(), logins={"alerts": "hunter2"}):
        settings = email_settings(
            sink.port, username="alerts", password_env="TEST_SMTP_PASSWORD",
            ca_file=str(private_ca.ca_file),
        )  # fmt: skip
        message = alert_message(settings)
        await send(settings, message, no_client)
    [mail] = sink.messages
    assert mail["Subject"] == "[HIGH] isis-k: Pakistan accuses neighbours of aiding ISIS-K"
    assert mail["From"] == "feed-monitor <alerts@example.org>"
    assert mail["To"] == "desk@example.org, duty@example.org"
    assert mail["Message-ID"] == f"<{message.message_id}@feed-monitor>"
    assert re.fullmatch(r"<alt_[0-9a-z]{16}\.[0-9a-z]{8}@feed-monitor>", mail["Message-ID"])
    assert mail["Date"] == "Fri, 27 Nov 2026 16:30:00 +0000"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = parts(mail)
    assert "aiding the expansion of «ISIS-K». Without" in text
    assert "a «suicide bombing» in Kabul" in text
    assert "Link: https://news.example/a/1" in text
    assert "Source: Example News (https://news.example/rss)" in text
    assert "Published: 2026-11-27 15:00 UTC" in text
    assert "Matched: ISIS-K (ISIS-Khorasan) ×4, suicide bombing ×1" in text
    assert "expansion of <mark>ISIS-K</mark>. Without" in html
    assert "<mark>suicide bombing</mark>" in html
    assert 'href="https://news.example/a/1"' in html


async def test_a_resend_carries_the_same_message_id(no_client: Fetcher) -> None:
    sink = MailSink()
    async with smtp_server(sink):
        settings = email_settings(sink.port, starttls=False)
        message = alert_message(settings)
        await send(settings, message, no_client)
        await send(settings, alert_message(settings), no_client)
    assert len(sink.messages) == 2
    assert sink.messages[0]["Message-ID"] == sink.messages[1]["Message-ID"]
    assert sink.messages[0].as_bytes() == sink.messages[1].as_bytes()


async def test_implicit_tls(private_ca: PrivateCA, no_client: Fetcher) -> None:
    sink = MailSink()
    async with smtp_server(sink, tls=private_ca.server_context(), implicit_tls=True):
        settings = email_settings(sink.port, tls=True, ca_file=str(private_ca.ca_file))
        await send(settings, alert_message(settings), no_client)
    assert len(sink.messages) == 1


async def test_certificate_verification_stays_on(private_ca: PrivateCA, no_client: Fetcher) -> None:
    sink = MailSink()
    async with smtp_server(sink, tls=private_ca.server_context()):
        settings = email_settings(sink.port)  # STARTTLS, but the private CA is not trusted
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED") as caught:
            await send(settings, alert_message(settings), no_client)
    assert not caught.value.permanent
    assert sink.messages == []


async def test_wrong_password_is_refused(
    private_ca: PrivateCA, no_client: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    sink = MailSink()
    async with smtp_server(sink, tls=private_ca.server_context(), logins={"alerts": "hunter2"}):
        settings = email_settings(
            sink.port, username="alerts", password_env="TEST_SMTP_PASSWORD",
            ca_file=str(private_ca.ca_file),
        )  # fmt: skip
        with pytest.raises(DeliveryError, match="SMTP 535"):
            await send(settings, alert_message(settings), no_client)
    assert sink.messages == []


@pytest.mark.parametrize(("reply", "permanent"), [("451 try later", False), ("554 no", True)])
async def test_smtp_errors_are_retried_or_permanent(
    reply: str, permanent: bool, no_client: Fetcher
) -> None:
    sink = MailSink(reply=reply)
    async with smtp_server(sink):
        settings = email_settings(sink.port, starttls=False)
        with pytest.raises(DeliveryError, match=reply.split()[0]) as caught:
            await send(settings, alert_message(settings), no_client)
    assert caught.value.permanent is permanent


async def test_server_down_is_a_retryable_error(no_client: Fetcher) -> None:
    settings = email_settings(free_port(), starttls=False)
    with pytest.raises(DeliveryError, match=r"SMTP 127\.0\.0\.1") as caught:
        await send(settings, alert_message(settings), no_client)
    assert not caught.value.permanent


async def test_channels_test_sends_a_marked_mail(no_client: Fetcher) -> None:
    sink = MailSink()
    async with smtp_server(sink):
        settings = email_settings(sink.port, starttls=False)
        message_id = await send_test(build_notifiers(settings, no_client)["mail"], NOW)
    [mail] = sink.messages
    assert mail["Subject"].startswith("[feed-monitor test]")
    assert mail["Message-ID"] == f"<{message_id}@feed-monitor>"
    assert message_id.startswith("tst_")


def worker(engine: AsyncEngine, settings: Settings, client: Fetcher) -> DeliveryWorker:
    return DeliveryWorker(
        engine=engine,
        notifiers=build_notifiers(settings, client),
        settings=settings,
        clock=FrozenClock(NOW),
        owner="test-worker",
    )


async def test_thirty_alerts_in_a_period_make_one_digest_mail(
    engine: AsyncEngine, no_client: Fetcher
) -> None:
    sink = MailSink()
    async with smtp_server(sink):
        settings = email_settings(sink.port, starttls=False, digest="1h")
        ids = await seed_alerts(
            engine, dict(settings.channels), NOW, 30, watchlists=("isis-k", "ttp", "baloch")
        )
        delivery = worker(engine, settings, no_client)
        assert await delivery.run_once(NOW) == 0  # held for the digest
        assert await delivery.send_digests(NOW + timedelta(minutes=29)) == 0  # period not over
        assert await delivery.send_digests(NOW + timedelta(minutes=30)) == 1
        assert await delivery.send_digests(NOW + timedelta(minutes=31)) == 0
    [mail] = sink.messages
    assert mail["Subject"] == "[feed-monitor digest] 30 alerts, 2026-11-27 16:00 to 17:00 UTC"
    text, html = parts(mail)
    assert [line for line in text.splitlines() if not line.startswith(" ")][2:5] == [
        "baloch (10)", "", "isis-k (10)"
    ]  # fmt: skip
    for n in range(30):
        assert f"Headline {n}: Pakistan" in text
        assert f'href="https://news.example/a/{n}"' in html
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.status, outbox.c.kind))).all()
    assert sorted(rows) == [("rolled", "alert")] * 30 + [("sent", "digest")]
    assert len(ids) == 30


async def test_throttled_alerts_roll_into_a_summary(
    engine: AsyncEngine, no_client: Fetcher
) -> None:
    sink = MailSink()
    async with smtp_server(sink):
        settings = email_settings(sink.port, starttls=False, max_per_hour=5)
        await seed_alerts(engine, dict(settings.channels), NOW, 12)
        delivery = worker(engine, settings, no_client)
        assert await delivery.run_once(NOW) == 5
        await seed_alerts(engine, dict(settings.channels), NOW, 2, start=100)
        assert await delivery.run_once(NOW + timedelta(minutes=10)) == 0  # budget spent
        assert await delivery.send_digests(NOW + timedelta(minutes=30)) == 1
    assert len(sink.messages) == 6
    summary = sink.messages[-1]
    assert summary["Subject"] == "[feed-monitor] 9 alerts rolled up (over 5/hour)"
    text, _ = parts(summary)
    assert text.startswith("9 alerts were rolled up")
    assert "limit of 5 alerts per hour" in text
    assert text.count("Headline ") == 9


async def test_a_system_notice_mails_its_message(no_client: Fetcher) -> None:
    body = {
        "id": "sys_0123456789abcdef",
        "type": "feed.silent",
        "created_at": "2026-11-27T16:30:00Z",
        "message": "feed Example News has produced nothing new since 2026-11-20T08:00:00Z",
    }
    message = OutboxMessage("sys_0123456789abcdef", "mail", "system", json.dumps(body))
    sink = MailSink()
    async with smtp_server(sink):
        await send(email_settings(sink.port, starttls=False), message, no_client)
    [mail] = sink.messages
    assert mail["Subject"] == f"[feed-monitor] {body['message']}"
    assert mail["Message-ID"] == "<sys_0123456789abcdef@feed-monitor>"
    text, html = parts(mail)
    assert text.startswith(body["message"])
    assert '"type": "feed.silent"' in text
    assert "nothing new since" in html
