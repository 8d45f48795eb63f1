"""Real receivers on 127.0.0.1 for delivery tests — a webhook endpoint that verifies every
signature with the `standardwebhooks` library, an aiosmtpd SMTP server, a private CA — and
a helper that seeds alerts with their outbox rows the way the ingest transaction does."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.clock import FrozenClock
from monitor.config import ChannelConfig, PollingConfig, Settings
from monitor.models import AlertContext, Article, TermCount, WatchlistMatch
from monitor.notify.outbox import DeliveryWorker
from monitor.notify.payload import alert_rows
from monitor.notify.registry import build_notifiers
from monitor.pipeline.fetch import Fetcher
from monitor.storage.articles import installation_id
from monitor.storage.tables import alerts, articles, feeds, outbox, stories

WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
INSTALLATION = "5f0c2a7e9b1d4c3a8e6f0b2d4a6c8e0f"


@contextlib.asynccontextmanager
async def loopback_fetcher(**polling: Any) -> AsyncIterator[Fetcher]:
    """The service's guarded HTTP client, allowed to reach 127.0.0.0/8 (as tests must)."""
    config = PollingConfig.model_validate({"allow_networks": ["127.0.0.0/8"], **polling})
    async with Fetcher(config) as fetcher:
        yield fetcher


def free_port() -> int:
    """A port nothing listens on (bound once, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- webhook receiver -----------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    id: str
    body: bytes
    headers: dict[str, str]
    verified: bool
    status: int


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops concurrent connects (1 s SYN retries)
    daemon_threads = True


@dataclass
class WebhookReceiver:
    """Answers POSTs with scripted statuses (then 200) and records what arrived; listens on
    `port`, or on a free one when it is 0."""

    secret: str | bytes = WEBHOOK_SECRET
    statuses: list[int] = field(default_factory=list)
    retry_after: str | None = None
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            Webhook(self.secret).verify(body, headers, json_parse=False)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.received.append(
                Received(headers.get("webhook-id", ""), body, headers, verified, status)
            )
        return status

    @contextlib.contextmanager
    def running(self) -> Iterator[WebhookReceiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver.answer(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                if receiver.retry_after and status >= 400:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = _Server(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


# --- SMTP server ------------------------------------------------------------------------------


@dataclass
class MailSink:
    """An aiosmtpd handler keeping every message; `reply` overrides the DATA answer."""

    messages: list[EmailMessage] = field(default_factory=list)
    reply: str = "250 Message accepted"
    port: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.reply.startswith("250"):
            raw = envelope.original_content or b""
            self.messages.append(message_from_bytes(raw, policy=policy.default))
        return self.reply


@contextlib.asynccontextmanager
async def smtp_server(
    sink: MailSink,
    *,
    tls: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    logins: dict[str, str] | None = None,
) -> AsyncIterator[MailSink]:
    """aiosmtpd on 127.0.0.1 in this event loop: plain, STARTTLS or implicit TLS, optional AUTH."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and (logins or {}).get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False)

    def factory() -> SMTP:
        return SMTP(
            sink,
            hostname="mail.test",
            tls_context=None if implicit_tls else tls,
            require_starttls=bool(tls) and not implicit_tls,
            authenticator=authenticate if logins is not None else None,
            auth_required=logins is not None,
            auth_require_tls=tls is not None,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=tls if implicit_tls else None)
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


@dataclass(frozen=True)
class PrivateCA:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_private_ca(folder: Path) -> PrivateCA:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost, made with openssl."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=feed-monitor test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return PrivateCA(folder / "ca.pem", folder / "server.pem", folder / "server.key")


# --- seeding alerts ---------------------------------------------------------------------------


def make_match(
    channels: Sequence[str], watchlist: str = "isis-k", severity: str = "high"
) -> WatchlistMatch:
    return WatchlistMatch(
        watchlist=watchlist,
        severity=severity,
        channels=tuple(channels),
        matches=(TermCount("ISIS-K", "ISIS-Khorasan", 4), TermCount("suicide bombing", None, 1)),
        snippets=(
            "…accused three neighbouring countries of aiding the expansion of ISIS-K. Without…",
            "…a suicide bombing in Kabul…",
        ),
    )


def make_context(story_id: int = 45, article_id: int = 123, now: datetime = NOW) -> AlertContext:
    article = Article(
        feed_id=7,
        guid="g1",
        url="https://news.example/a/1",
        canonical_url="https://news.example/a/1",
        title="Pakistan accuses neighbours of aiding ISIS-K",
        author="",
        published_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
        fetched_at=now,
        summary="",
        text="…",
        language="en",
        content_hash="h",
    )
    return AlertContext(
        article_id,
        article,
        "https://news.example/rss",
        "Example News",
        story_id,
        3,
        installation=INSTALLATION,
    )


async def seed_alerts(
    engine: AsyncEngine,
    channels: dict[str, ChannelConfig],
    now: datetime,
    count: int,
    *,
    channel_names: Sequence[str] | None = None,
    watchlists: Sequence[str] = ("isis-k",),
    start: int = 0,
) -> list[str]:
    """Store `count` articles (one story each) and their alerts + outbox rows in one
    transaction per article, as ingest does; return the alert ids."""
    names = list(channel_names if channel_names is not None else channels)
    ids = []
    async with engine.begin() as conn:
        feed_id = (
            await conn.execute(
                insert(feeds)
                .values(
                    url=f"https://news.example/{start}/rss",
                    name="Example News",
                    next_poll_at=now,
                    created_at=now,
                )
                .returning(feeds.c.id)
            )
        ).scalar_one()
    for n in range(start, start + count):
        async with engine.begin() as conn:
            story_id = (
                await conn.execute(
                    insert(stories)
                    .values(title=f"story {n}", first_seen=now, last_seen=now)
                    .returning(stories.c.id)
                )
            ).scalar_one()
            article = Article(
                feed_id=feed_id,
                guid=f"g{n}",
                url=f"https://news.example/a/{n}",
                canonical_url=f"https://news.example/a/{n}",
                title=f"Headline {n}: Pakistan accuses neighbours of aiding ISIS-K",
                author="",
                published_at=now,
                fetched_at=now,
                summary="",
                text="text",
                language="en",
                content_hash=f"hash{n}",
            )
            article_id = (
                await conn.execute(
                    insert(articles)
                    .values(
                        feed_id=feed_id,
                        guid=article.guid,
                        url=article.url,
                        canonical_url=article.canonical_url,
                        title=article.title,
                        published_at=now,
                        fetched_at=now,
                        text="text",
                        language="en",
                        content_hash=article.content_hash,
                        story_id=story_id,
                    )
                    .returning(articles.c.id)
                )
            ).scalar_one()
            context = AlertContext(
                article_id,
                article,
                f"https://news.example/{start}/rss",
                "Example News",
                story_id,
                1,
                installation=await installation_id(conn),
            )
            match = make_match(names, watchlists[n % len(watchlists)])
            alert, rows = alert_rows(match, context, channels, now)
            await conn.execute(insert(alerts).values(**alert))
            if rows:
                await conn.execute(insert(outbox), rows)
            ids.append(str(alert["id"]))
    return ids


def delivery_worker(
    engine: AsyncEngine, settings: Settings, client: Fetcher, *, now: datetime = NOW
) -> DeliveryWorker:
    """The delivery worker of `settings`' channels, its clock frozen at `now`, no jitter."""
    return DeliveryWorker(
        engine=engine,
        notifiers=build_notifiers(settings, client),
        settings=settings,
        clock=FrozenClock(now),
        owner="test-worker",
        rand=lambda: 0.0,
    )
