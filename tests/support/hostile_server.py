"""A hostile HTTP/1.1 server on 127.0.0.1 with named routes, for fetch and whole-round tests.

It speaks raw HTTP over asyncio streams in a background thread (its own event loop), so
it can serve sync tests, async tests and `monitor run --once` in a subprocess alike, and
it can do what a polite server can't: drip bytes, lie about lengths, reset mid-body,
send broken status lines, decompression bombs. It counts requests in flight (for the
per-host limit), records request headers per path, and runs a canary listener on
127.0.0.2 that must never see a connection (the SSRF guard refuses it first).

    with HostileServer() as server:
        for scenario in SCENARIOS:
            url = server.url(scenario.route)
            ...  # poll it; the feed's health line must contain scenario.health

The expected health lines assume the polling settings in `SCENARIO_POLLING` (a 1 s
timeout, a 5 MB feed cap and `allow_networks = ["127.0.0.1/32"]`).
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any, NamedTuple

import brotli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
SCENARIO_POLLING: dict[str, Any] = {
    "timeout": "1s",
    "max_feed_bytes": "5MB",
    "allow_networks": ["127.0.0.1/32"],
}
RSS = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""
    proxied: bool = False


@dataclass(frozen=True)
class Reply:
    """What the server does: a status, headers and body, and how badly it behaves."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_length: int | None = None  # lie about the length (None: the true length)
    omit_length: bool = False  # no Content-Length: the body ends when the connection closes
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes
    reset_after: int | None = None  # send this many body bytes, then a TCP RST
    raw: bytes | None = None  # send exactly these bytes instead of a response
    hold: float = 0.0  # seconds to hold the request in flight before answering


Handler = Callable[[Request, "HostileServer"], Reply]


class Scenario(NamedTuple):
    """One hostile case: a route on the server and the health line it must produce ("" = ok)."""

    name: str
    route: str
    health: str


@dataclass
class Stats:
    in_flight: int = 0
    max_in_flight: int = 0
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    starts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    headers: dict[str, list[Mapping[str, str]]] = field(default_factory=lambda: defaultdict(list))
    canary_connections: int = 0
    connections: int = 0  # accepted on the main port
    proxied: int = 0
    events: list[tuple[float, int, str]] = field(default_factory=list)  # (time, +1/-1, path)

    def peak(self, prefix: str = "/") -> int:
        """The most requests under `prefix` that were ever in flight at once."""
        current = highest = 0
        for _, step, path in sorted(self.events):
            if path.startswith(prefix):
                current += step
                highest = max(highest, current)
        return highest


# --- bodies ---------------------------------------------------------------------------------


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@cache
def big_feed(items: int = 10_000) -> bytes:
    """A realistic RSS 2.0 feed with `items` items (about 440 bytes each)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>Wire archive</title><link>https://wire.example/</link>"
        "<description>Every item the wire ever sent</description>\n"
    ]
    for i in range(items):
        parts.append(
            f"<item><title>Bulletin {i}: Kabul &amp; Herat officials meet on trade</title>"
            f"<link>https://wire.example/news/{i}</link>"
            f'<guid isPermaLink="false">wire-{i}</guid>'
            f"<pubDate>Fri, 27 Nov 2026 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} +0000</pubDate>"
            f"<description><![CDATA[<p>Item {i}: delegations discussed customs rules at the "
            f"Torkham and Spin Boldak crossings.</p>]]></description></item>\n"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


@cache
def gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * 30_000_000, compresslevel=9)


@cache
def brotli_bomb() -> bytes:
    return bytes(brotli.compress(b"\0" * 50_000_000, quality=5))


@cache
def deflate_bomb() -> bytes:
    return zlib.compress(b"<rss>" + b" " * 30_000_000, 9)


def billion_laughs() -> bytes:
    """Nested entities that expand to 10^9 "lol"s in a parser that expands them."""
    lols = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{lols}]><rss version="2.0"><channel>'
        "<title>&lol9;</title><item><title>laughs</title><link>https://lol.example/1</link>"
        "</item></channel></rss>"
    ).encode()


# --- routes ---------------------------------------------------------------------------------


def serve(name: str, content_type: str = RSS, **extra: Any) -> Handler:
    return lambda req, srv: Reply(
        headers=(("Content-Type", content_type),), body=fixture(name), **extra
    )


def body(data: Callable[[], bytes] | bytes, *headers: tuple[str, str], **extra: Any) -> Handler:
    def handler(req: Request, srv: HostileServer) -> Reply:
        return Reply(headers=headers, body=data() if callable(data) else data, **extra)

    return handler


def status(code: int, *headers: tuple[str, str]) -> Handler:
    page = f"<html><body><h1>{code} {HTTPStatus(code).phrase}</h1></body></html>".encode()
    return lambda req, srv: Reply(code, (("Content-Type", "text/html"), *headers), page)


def redirect(code: int, location: str | Callable[[HostileServer], str]) -> Handler:
    def handler(req: Request, srv: HostileServer) -> Reply:
        target = location(srv) if callable(location) else location
        return Reply(code, (("Location", target),))

    return handler


def redirect_chain(req: Request, srv: HostileServer) -> Reply:
    """/redirect/chain/N redirects N times, then serves rss2."""
    hops = int(req.path.rsplit("/", 1)[1])
    target = f"/redirect/chain/{hops - 1}" if hops > 1 else "/feeds/rss2.xml"
    return Reply(302, (("Location", target),))


def conditional(req: Request, srv: HostileServer) -> Reply:
    etag, modified = '"rss2-v1"', "Fri, 27 Nov 2026 14:05:11 GMT"
    validators = (("ETag", etag), ("Last-Modified", modified))
    if req.headers.get("if-none-match") == etag or req.headers.get("if-modified-since") == modified:
        return Reply(304, validators)
    return Reply(200, (("Content-Type", RSS), *validators), fixture("rss2.xml"))


def retry_after_date(req: Request, srv: HostileServer) -> Reply:
    now = time.time()
    headers = (
        ("Date", formatdate(now, usegmt=True)),
        ("Retry-After", formatdate(now + 300, usegmt=True)),
    )
    return Reply(503, headers, b"down for maintenance")


def unlabelled_russian(req: Request, srv: HostileServer) -> Reply:
    data = fixture("russian-windows-1251.xml").replace(b' encoding="windows-1251"', b"")
    return Reply(headers=(("Content-Type", "text/xml"),), body=data)


def html_with_feed_link(req: Request, srv: HostileServer) -> Reply:
    return Reply(
        headers=(("Content-Type", "text/html; charset=utf-8"),), body=fixture("site-homepage.html")
    )


def slow(req: Request, srv: HostileServer) -> Reply:
    """Holds each request 0.3 s in flight (for concurrency counting)."""
    return Reply(headers=(("Content-Type", RSS),), body=fixture("rss2.xml"), hold=0.3)


def echo_post(req: Request, srv: HostileServer) -> Reply:
    return Reply(
        202, (("Content-Type", "text/plain"),), b"accepted " + req.body[:64] + b" " + b"x" * 10_000
    )


def _encoded(name: str, encoding: str, encode: Callable[[bytes], bytes]) -> Handler:
    return lambda req, srv: Reply(
        headers=(("Content-Type", RSS), ("Content-Encoding", encoding)), body=encode(fixture(name))
    )


ROUTES: dict[str, Handler] = {
    **{
        f"/feeds/{p.name}": serve(p.name, "text/html" if p.suffix == ".html" else RSS)
        for p in FIXTURES.iterdir()
    },
    "/feeds/jsonfeed-1.1.json": serve("jsonfeed-1.1.json", "application/feed+json"),
    "/feeds/jsonfeed-1.json": serve("jsonfeed-1.json", "application/json"),
    "/feeds/arabic-windows-1256.xml": serve(
        "arabic-windows-1256.xml", "text/xml; charset=iso-8859-1"
    ),
    "/feeds/russian-windows-1251.xml": serve("russian-windows-1251.xml", "application/rss+xml"),
    "/feeds/mislabelled-utf8.xml": serve("mislabelled-utf8.xml", "text/xml; charset=windows-1252"),
    "/feed/rss2.xml": serve("rss2.xml"),
    "/quirks/russian-unlabelled": unlabelled_russian,
    "/quirks/big-10000": body(big_feed, ("Content-Type", RSS)),
    "/quirks/gzip": _encoded("rss2.xml", "gzip", gzip.compress),
    "/quirks/deflate": _encoded("rss2.xml", "deflate", zlib.compress),
    "/quirks/brotli": _encoded("rss2.xml", "br", brotli.compress),
    "/quirks/cache-control": body(
        lambda: fixture("rss2.xml"), ("Content-Type", RSS), ("Cache-Control", "public, max-age=600")
    ),
    "/quirks/conditional": conditional,
    "/quirks/no-length": body(
        lambda: fixture("atom.xml"), ("Content-Type", "application/atom+xml"), omit_length=True
    ),
    "/quirks/billion-laughs": body(billion_laughs, ("Content-Type", RSS)),
    "/status/500": status(500),
    "/status/404": status(404),
    "/status/410": status(410),
    "/status/429": status(429, ("Retry-After", "120")),
    "/status/503-date": retry_after_date,
    "/redirect/301": redirect(301, "/feeds/rss2.xml"),
    "/redirect/302": redirect(302, "/feeds/rss2.xml"),
    "/redirect/307": redirect(307, "/feeds/rss2.xml"),
    "/redirect/308": redirect(308, "/feeds/atom.xml"),
    "/redirect/301-then-302": redirect(301, "/redirect/302"),
    "/redirect/302-then-301": redirect(302, "/redirect/301"),
    "/redirect/chain/5": redirect_chain,
    "/redirect/chain/6": redirect_chain,
    **{f"/redirect/chain/{n}": redirect_chain for n in range(1, 5)},
    "/redirect/loop-a": redirect(302, "/redirect/loop-b"),
    "/redirect/loop-b": redirect(301, "/redirect/loop-a"),
    "/redirect/to-127.0.0.2": redirect(302, lambda srv: srv.canary_url("/feeds/rss2.xml")),
    "/redirect/to-file": redirect(302, "file:///etc/passwd"),
    "/redirect/no-location": lambda req, srv: Reply(302),
    "/redirect/to-localhost": redirect(
        302, lambda srv: srv.url("/feeds/rss2.xml", host="localhost")
    ),
    "/hostile/drip": body(lambda: fixture("rss2.xml"), ("Content-Type", RSS), drip=0.05),
    "/hostile/slow-headers": body(lambda: fixture("rss2.xml"), ("Content-Type", RSS), delay=5.0),
    "/hostile/oversized": body(lambda: big_feed(15_000), ("Content-Type", RSS)),
    "/hostile/oversized-no-length": body(
        lambda: big_feed(15_000), ("Content-Type", RSS), omit_length=True
    ),
    "/hostile/gzip-bomb": body(gzip_bomb, ("Content-Type", RSS), ("Content-Encoding", "gzip")),
    "/hostile/brotli-bomb": body(brotli_bomb, ("Content-Type", RSS), ("Content-Encoding", "br")),
    "/hostile/deflate-bomb": body(
        deflate_bomb, ("Content-Type", RSS), ("Content-Encoding", "deflate")
    ),
    "/hostile/corrupt-gzip": body(
        b"\x1f\x8b\x08\x00garbage-not-gzip", ("Content-Type", RSS), ("Content-Encoding", "gzip")
    ),
    "/hostile/reset-mid-body": body(
        lambda: fixture("rss2.xml"), ("Content-Type", RSS), reset_after=700
    ),
    "/hostile/short-body": body(
        lambda: fixture("rss2.xml"), ("Content-Type", RSS), content_length=50_000
    ),
    "/hostile/broken-status": lambda req, srv: Reply(raw=b"HTTP/1.1 OK-ish\r\nnonsense\r\n\r\n"),
    "/hostile/garbage": lambda req, srv: Reply(raw=b"\x00\x01\x02 not http at all\r\n\r\n"),
    "/hostile/empty": body(b"", ("Content-Type", RSS)),
    "/hostile/html-error-page": body(
        lambda: fixture("error-page.html"), ("Content-Type", "text/html; charset=utf-8")
    ),
    "/hostile/html-instead-of-feed": html_with_feed_link,
    "/hostile/png": body(b"\x89PNG\r\n\x1a\n" + b"\0" * 200, ("Content-Type", "image/png")),
    "/hostile/json-not-feed": body(
        b'{"status": "ok", "data": []}', ("Content-Type", "application/json")
    ),
    "/hostile/invalid-json": body(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
        ("Content-Type", "application/feed+json"),
    ),
    "/feed": serve("rss2.xml"),
    "/plain-site": body(
        b"<!DOCTYPE html><html><head><title>No feed links</title></head><body>Hi</body></html>",
        ("Content-Type", "text/html"),
    ),
    "/slow/a": slow,
    "/slow/b": slow,
    "/slow/c": slow,
    "/webhook": echo_post,
}

SCENARIOS: list[Scenario] = [
    # sound feeds in every format and encoding
    Scenario("rss 2.0", "/feeds/rss2.xml", ""),
    Scenario("rss 1.0 / rdf", "/feeds/rss1-rdf.xml", ""),
    Scenario("atom", "/feeds/atom.xml", ""),
    Scenario("json feed 1.1", "/feeds/jsonfeed-1.1.json", ""),
    Scenario("json feed 1", "/feeds/jsonfeed-1.json", ""),
    Scenario("windows-1256 arabic, header says iso-8859-1", "/feeds/arabic-windows-1256.xml", ""),
    Scenario("windows-1251 russian, no header charset", "/feeds/russian-windows-1251.xml", ""),
    Scenario("windows-1251 russian, no labels at all", "/quirks/russian-unlabelled", ""),
    Scenario("mislabelled utf-8", "/feeds/mislabelled-utf8.xml", ""),
    Scenario("bozo but sound (&nbsp;, bare &)", "/feeds/bozo-sound.xml", ""),
    Scenario("truncated xml", "/feeds/truncated.xml", ""),
    Scenario("duplicate guids", "/feeds/duplicate-guids.xml", ""),
    Scenario("entries without guid or link", "/feeds/no-guid-no-link.xml", ""),
    Scenario("future and odd dates", "/feeds/odd-dates.xml", ""),
    Scenario("relative links", "/feeds/relative-links.xml", ""),
    Scenario("html entities in titles", "/feeds/entities-titles.xml", ""),
    Scenario("10,000 items", "/quirks/big-10000", ""),
    Scenario("gzip body", "/quirks/gzip", ""),
    Scenario("deflate body", "/quirks/deflate", ""),
    Scenario("brotli body", "/quirks/brotli", ""),
    Scenario("no content-length, close-delimited", "/quirks/no-length", ""),
    Scenario("cache-control max-age", "/quirks/cache-control", ""),
    Scenario("conditional get", "/quirks/conditional", ""),
    Scenario("billion laughs entities", "/quirks/billion-laughs", ""),
    Scenario("301 permanent redirect", "/redirect/301", ""),
    Scenario("302 temporary redirect", "/redirect/302", ""),
    Scenario("307 temporary redirect", "/redirect/307", ""),
    Scenario("308 permanent redirect", "/redirect/308", ""),
    Scenario("5 redirects", "/redirect/chain/5", ""),
    # failures: each must leave one clear health line
    Scenario("HTTP 500", "/status/500", "HTTP 500"),
    Scenario("HTTP 404", "/status/404", "HTTP 404"),
    Scenario("HTTP 410 gone", "/status/410", "HTTP 410"),
    Scenario("429 with Retry-After seconds", "/status/429", "HTTP 429: retry after 120s"),
    Scenario("503 with Retry-After date", "/status/503-date", "HTTP 503: retry after"),
    Scenario("more than 5 redirects", "/redirect/chain/6", "more than 5 redirects"),
    Scenario("redirect loop", "/redirect/loop-a", "redirect loop"),
    Scenario(
        "redirect without location", "/redirect/no-location", "HTTP 302: redirect without Location"
    ),
    Scenario("redirect to 127.0.0.2", "/redirect/to-127.0.0.2", "refused address 127.0.0.2"),
    Scenario("redirect to file://", "/redirect/to-file", "refused scheme file"),
    Scenario("drip one byte at a time", "/hostile/drip", "timeout after 1s"),
    Scenario("headers never come", "/hostile/slow-headers", "timeout after 1s"),
    Scenario("oversized body", "/hostile/oversized", "body larger than 5 MB"),
    Scenario(
        "oversized body without length", "/hostile/oversized-no-length", "body larger than 5 MB"
    ),
    Scenario("gzip bomb", "/hostile/gzip-bomb", "gzip body expands past 5 MB"),
    Scenario("brotli bomb", "/hostile/brotli-bomb", "br body expands past 5 MB"),
    Scenario("deflate bomb", "/hostile/deflate-bomb", "deflate body expands past 5 MB"),
    Scenario("corrupt gzip", "/hostile/corrupt-gzip", "corrupt gzip body"),
    Scenario("connection reset mid-body", "/hostile/reset-mid-body", "connection reset"),
    Scenario(
        "body shorter than content-length", "/hostile/short-body", "connection closed mid-body"
    ),
    Scenario(
        "broken status line", "/hostile/broken-status", "broken HTTP response (illegal status line)"
    ),
    Scenario("not http at all", "/hostile/garbage", "broken HTTP response (illegal status line)"),
    Scenario("empty body", "/hostile/empty", "not a feed: empty body"),
    Scenario("200 with an html error page", "/hostile/html-error-page", "not a feed: text/html"),
    Scenario(
        "html instead of a feed",
        "/hostile/html-instead-of-feed",
        "not a feed: text/html (the page links a feed at http://127.0.0.1:",
    ),
    Scenario("an image", "/hostile/png", "not a feed: image/png"),
    Scenario(
        "json that is not a json feed",
        "/hostile/json-not-feed",
        "not a feed: JSON without a jsonfeed.org version",
    ),
    Scenario("truncated json feed", "/hostile/invalid-json", "feed failed to parse: invalid JSON"),
]


# --- the server -----------------------------------------------------------------------------


class HostileServer:
    """The server; a context manager that starts it in a thread and stops it after."""

    def __init__(self, routes: Mapping[str, Handler] | None = None) -> None:
        self.routes: dict[str, Handler] = {**ROUTES, **(routes or {})}
        self.stats = Stats()
        self.port = 0
        self.canary_port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []

    def __enter__(self) -> HostileServer:
        for make in (big_feed, gzip_bomb, brotli_bomb, deflate_bomb):
            make()  # build the big bodies now, not inside a request's 1 s deadline
        big_feed(15_000)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def canary_url(self, path: str) -> str:
        return f"http://127.0.0.2:{self.canary_port}{path}"

    async def _start(self) -> None:
        main = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        canary = await asyncio.start_server(self._canary, "127.0.0.2", 0)
        self._servers = [main, canary]
        self.port = main.sockets[0].getsockname()[1]
        self.canary_port = canary.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        for server in self._servers:
            server.close()
        tasks = [t for t in asyncio.all_tasks(self._loop) if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _canary(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.canary_connections += 1
        writer.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        try:
            while await self._one_request(reader, writer):
                pass
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            asyncio.CancelledError,  # the server is stopping
        ):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        request = await _parse_request(head, reader)
        handler = self.routes.get(request.path)
        reply = handler(request, self) if handler else Reply(404, body=b"no such route")
        self._count_start(request)
        try:
            if reply.hold:
                await asyncio.sleep(reply.hold)
            return await _send(writer, reply)
        finally:
            self.stats.in_flight -= 1
            self.stats.events.append((time.monotonic(), -1, request.path))

    def _count_start(self, request: Request) -> None:
        stats = self.stats
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        stats.requests[request.path] += 1
        stats.starts[request.path].append(time.monotonic())
        stats.headers[request.path].append(request.headers)
        stats.proxied += request.proxied
        stats.events.append((time.monotonic(), 1, request.path))


async def _parse_request(head: bytes, reader: asyncio.StreamReader) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    payload = await reader.readexactly(length) if length else b""
    proxied = target.startswith("http://")  # absolute form: we are being used as a proxy
    if proxied:
        target = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    path, _, query = target.partition("?")
    return Request(method, path, query, headers, payload, proxied)


async def _send(writer: asyncio.StreamWriter, reply: Reply) -> bool:
    """Write one reply; True when the connection may serve another request."""
    if reply.delay:
        await asyncio.sleep(reply.delay)
    if reply.raw is not None:
        writer.write(reply.raw)
        await writer.drain()
        return False
    writer.write(_head(reply))
    if reply.reset_after is not None:
        writer.write(reply.body[: reply.reset_after])
        await writer.drain()
        _reset(writer)
        return False
    if reply.drip:
        for i in range(len(reply.body)):
            writer.write(reply.body[i : i + 1])
            await writer.drain()
            await asyncio.sleep(reply.drip)
    else:
        writer.write(reply.body)
        await writer.drain()
    return not (reply.omit_length or reply.content_length is not None)


def _head(reply: Reply) -> bytes:
    lines = [f"HTTP/1.1 {reply.status} {_phrase(reply.status)}"]
    names = {name.lower() for name, _ in reply.headers}
    if "date" not in names:
        lines.append(f"Date: {formatdate(usegmt=True)}")
    lines += [f"{name}: {value}" for name, value in reply.headers]
    if reply.omit_length or reply.content_length is not None:
        lines.append("Connection: close")
    if not reply.omit_length and reply.status != 304:
        length = reply.content_length if reply.content_length is not None else len(reply.body)
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def _reset(writer: asyncio.StreamWriter) -> None:
    """Abort with a TCP RST (SO_LINGER 0), not a clean FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
