"""Polite, capped and SSRF-guarded HTTP fetching: one `Fetcher` (one httpx client) per process.

`Fetcher.get` returns a `Response` for 2xx and 304 and raises a `FetchError` subclass
otherwise; `str(error)` is the feed's one-line health text. What it guarantees:

- a total deadline per request (`polling.timeout`), body included: a server dripping a
  byte a second is cut off; time spent queueing for a slot before the first request
  starts does not count (a host with fifty feeds must not time them all out);
- bodies are streamed raw and decoded here (gzip, deflate, brotli) with the output
  bounded, so neither the body nor its decompressed form can pass `max_bytes`;
- redirects are followed by hand (`redirects`): at most 5, loops refused, every hop
  goes through the SSRF guard (`ssrf.GuardedBackend`, on the address actually connected
  to) and the scheme check; a chain of 301/308 from the start sets
  `Response.permanent_url`;
- the caller's extra `headers` (a feed's configured `Authorization`, `Cookie`, …) go only
  to one origin, `headers_for`'s (the URL asked for by default), and to its https upgrade:
  every hop elsewhere, redirects included, gets the client's own headers and nothing else;
- at most `polling.concurrency` requests in flight, `polling.per_host` per host:port,
  and request starts to one host at least `polling.host_spacing` apart;
- conditional GET, Cache-Control max-age and Retry-After (seconds or HTTP date);
- environment proxies are ignored (`trust_env=False`); `polling.proxy` is the only one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType, TracebackType
from typing import NamedTuple, Self

import httpx

from monitor.config import PollingConfig
from monitor.errors import (
    BlockedAddress,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TransportError,
    one_line,
)
from monitor.models import Capture, Exchange, Response
from monitor.pipeline.body import ACCEPT_ENCODING, read_capped
from monitor.pipeline.capture import exchange_of, peer_ip
from monitor.pipeline.headers import (
    parse_max_age,
    parse_retry_after,
    server_date,
    split_content_type,
)
from monitor.pipeline.redirects import (
    REDIRECT_STATUSES,
    RedirectChain,
    ScopedHeaders,
    checked_url,
    origin,
)
from monitor.pipeline.ssrf import (
    allowed_addresses,
    guarded_transport,
    parse_networks,
)

RETRY_AFTER_STATUSES = frozenset({429, 503})
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
POST_BODY_PREFIX = 4096
_NO_BODY_STATUSES = frozenset({204, 304})
_DRAIN_MAX_BYTES = 65_536
_DRAIN_SECONDS = 0.5
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class PostResult(NamedTuple):
    """What a webhook POST got back: status, headers and the first bytes of the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def human_seconds(seconds: float) -> str:
    """20.0 -> "20s", 0.5 -> "0.5s"."""
    return f"{seconds:g}s"


# --- politeness ---------------------------------------------------------------------------


class _HostGate:
    """At most `limit` requests in flight to one host:port, starts `spacing` seconds apart."""

    def __init__(self, limit: int, spacing: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._spacing = spacing
        self._next_start = 0.0

    async def acquire(self) -> None:
        await self._slots.acquire()
        try:
            now = asyncio.get_running_loop().time()
            start = max(now, self._next_start)
            self._next_start = start + self._spacing
            if start > now:
                await asyncio.sleep(start - now)
        except BaseException:
            self._slots.release()
            raise

    def release(self) -> None:
        self._slots.release()


class _Deadline:
    """One total deadline per request; it starts when the first hop gets its host slot."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at: float | None = None

    def waiting(self) -> asyncio.Timeout:
        return asyncio.timeout_at(self._at)

    def running(self) -> asyncio.Timeout:
        if self._at is None:
            self._at = asyncio.get_running_loop().time() + self.seconds
        return asyncio.timeout_at(self._at)


@dataclass(frozen=True, slots=True)
class _Reply:
    url: httpx.URL
    status: int
    headers: httpx.Headers
    body: bytes
    exchange: Exchange | None = None  # when capturing
    raw: bytes = b""  # the body as received, when capturing


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _causes(error: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """The error, what it was raised from, and the members of any exception group on the way."""
    if depth > 8:
        return
    yield error
    if isinstance(error, BaseExceptionGroup):
        for member in error.exceptions:
            yield from _causes(member, depth + 1)
    inner = error.__cause__ or error.__context__
    if inner is not None:
        yield from _causes(inner, depth + 1)


def _describe(error: Exception) -> str:
    """A short human line for an httpx transport error."""
    text = one_line(error, limit=160) if str(error).strip() else ""
    lowered = text.lower()
    causes = list(_causes(error))
    if isinstance(error, httpx.RemoteProtocolError):
        if "incomplete" in lowered or "peer closed" in lowered:
            return "connection closed mid-body"
        return f"broken HTTP response ({text.split(':')[0] or 'unreadable'})"
    if any(isinstance(c, ConnectionResetError) for c in causes) or "reset" in lowered:
        return "connection reset"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in lowered:
        return "connection refused"
    if "ssl" in lowered or "certificate" in lowered:
        return f"TLS error: {text}"
    return text or f"network error ({type(error).__name__})"


@contextmanager
def _translated(timeout: float) -> Iterator[None]:
    """Translate library errors into the FetchError tree at the boundary."""
    try:
        yield
    except FetchError:
        raise
    except (TimeoutError, httpx.TimeoutException) as e:
        raise FetchTimeout(f"timeout after {human_seconds(timeout)}") from e
    except httpx.UnsupportedProtocol as e:
        raise BlockedAddress(f"refused scheme: {e}") from e
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        raise TransportError(_describe(e)) from e


# --- the fetcher --------------------------------------------------------------------------


class Fetcher:
    """The process's one HTTP client, with the SSRF guard, caps, deadlines and host limits.

    `transport` replaces the guarded transport (tests only: an injected transport skips
    the SSRF guard); `now` is the clock that stamps captured exchanges.
    """

    def __init__(
        self,
        polling: PollingConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.polling = polling
        self._now = now
        self._timeout = polling.timeout.total_seconds()
        self._allow = parse_networks(polling.allow_networks)
        self._transport = transport or guarded_transport(
            self._allow,
            proxy=polling.proxy,
            max_keepalive=polling.concurrency,
            per_origin=polling.per_host,
        )
        self._defaults = {"User-Agent": polling.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        self._timeouts = {"timeout": httpx.Timeout(self._timeout).as_dict()}
        self._client = httpx.AsyncClient(
            transport=self._transport,
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(self._timeout),
            headers=self._defaults,
        )
        self._slots = asyncio.Semaphore(polling.concurrency)
        self._gates: dict[tuple[str, str, int], _HostGate] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def client(self) -> httpx.AsyncClient:
        """The underlying client (guarded transport, env proxies ignored)."""
        return self._client

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] = _NO_HEADERS,
        headers_for: str | None = None,
        max_bytes: int,
        accept: str = FEED_ACCEPT,
        capture: bool = False,
    ) -> Response:
        """GET `url` following redirects; a Response for 2xx/304, else a FetchError.

        With `capture`, the Response also carries every hop and the raw body (`Capture`).
        `headers` are sent only to the origin of `headers_for` (default `url`).
        """
        request_headers = {"Accept": accept}
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        with _translated(self._timeout):
            chain = RedirectChain(checked_url(url))
            scoped = ScopedHeaders(
                headers, checked_url(headers_for) if headers_for else chain.current
            )
        hops: list[_Reply] | None = [] if capture else None
        reply = await self._follow(chain, request_headers, scoped, max_bytes, hops)
        response = _response(reply, chain, etag=etag, last_modified=last_modified)
        if hops is None:
            return response
        exchanges = tuple(hop.exchange for hop in hops if hop.exchange is not None)
        return replace(response, capture=Capture(exchanges, reply.raw, self._now()))

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        timeout: float | timedelta,
    ) -> PostResult:
        """POST once (no redirects followed), through the same guard and host limits."""
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        deadline = _Deadline(seconds)
        with _translated(seconds):
            target = checked_url(url)
            async with self._turn(target, deadline), deadline.running():
                return await self._post(target, content, headers)

    async def _post(self, url: httpx.URL, content: bytes, headers: Mapping[str, str]) -> PostResult:
        request = self._client.build_request("POST", url, content=content, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            body = await read_capped(response, POST_BODY_PREFIX, truncate=True)
        finally:
            await response.aclose()
        return PostResult(response.status_code, dict(response.headers), body)

    async def _follow(
        self,
        chain: RedirectChain,
        headers: Mapping[str, str],
        scoped: ScopedHeaders,
        max_bytes: int,
        hops: list[_Reply] | None,
    ) -> _Reply:
        deadline = _Deadline(self._timeout)
        while True:
            hop_headers = {**headers, **scoped.for_url(chain.current)}
            reply = await self._hop(chain.current, hop_headers, max_bytes, deadline, hops)
            if hops is not None:
                hops.append(reply)
            if reply.status not in REDIRECT_STATUSES:
                return reply
            with _translated(self._timeout):
                chain.follow(reply.status, reply.headers.get("location", ""))

    async def _hop(
        self,
        url: httpx.URL,
        headers: Mapping[str, str],
        max_bytes: int,
        deadline: _Deadline,
        hops: list[_Reply] | None,
    ) -> _Reply:
        with _translated(self._timeout):
            async with self._turn(url, deadline), deadline.running():
                return await self._exchange(url, headers, max_bytes, capture=hops is not None)

    @asynccontextmanager
    async def _turn(self, url: httpx.URL, deadline: _Deadline) -> AsyncIterator[None]:
        """Wait for a slot on the host, then a global one (host first: a crowd queueing
        for one host must not hold global slots other hosts could use)."""
        gate = self._gate(url)
        async with deadline.waiting():
            await self._precheck(url)
            await gate.acquire()
        try:
            async with deadline.waiting():
                await self._slots.acquire()
            try:
                yield
            finally:
                self._slots.release()
        finally:
            gate.release()

    async def _exchange(
        self, url: httpx.URL, headers: Mapping[str, str], max_bytes: int, *, capture: bool
    ) -> _Reply:
        # Straight to the guarded transport: a GET needs none of the client's layers (cookie
        # jar, auth flow, event hooks, URL merging), which cost more CPU than a 304 itself.
        # The SSRF guard, the proxy and the connection pools live in the transport; the
        # deadline is `_turn`'s, the caps are `read_capped`'s.
        given = {name.lower() for name in headers}  # a feed's own User-Agent replaces ours
        merged = [(k, v) for k, v in self._defaults.items() if k.lower() not in given]
        request = httpx.Request("GET", url, headers=[*merged, *headers.items()])
        request.extensions = self._timeouts
        started = self._now()
        response = await self._transport.handle_async_request(request)
        response.request = request
        raw = bytearray() if capture else None
        peer = peer_ip(response) if capture else None  # before the body: see `peer_ip`
        try:
            body = b""
            if 200 <= response.status_code < 300:
                body = await read_capped(response, max_bytes, raw_sink=raw)
            else:
                await _drain(response)
            exchange = exchange_of(response, started, peer) if capture else None
            return _Reply(
                url, response.status_code, response.headers, body, exchange, bytes(raw or b"")
            )
        finally:
            await response.aclose()

    async def _precheck(self, url: httpx.URL) -> None:
        """Behind a proxy the backend only sees the proxy, so check the target here.

        Best effort: if the target doesn't resolve locally the proxy decides.
        """
        if not self.polling.proxy:
            return
        try:
            await allowed_addresses(url.host, origin(url)[2], self._allow)
        except TransportError:
            return

    def _gate(self, url: httpx.URL) -> _HostGate:
        key = origin(url)
        gate = self._gates.get(key)
        if gate is None:
            spacing = self.polling.host_spacing.total_seconds()
            gate = self._gates[key] = _HostGate(self.polling.per_host, spacing)
        return gate


async def _drain(response: httpx.Response) -> None:
    """Read a short non-2xx body (a 304, a redirect, an error page) to its end and drop it:
    httpcore closes a connection whose response was not read to the end, and a round of
    304s would then open a new connection per feed. Best effort, briefly: a body that is
    long, of unknown length or slow to come is left unread and its connection closed."""
    declared = response.headers.get("content-length", "")
    if response.status_code not in _NO_BODY_STATUSES and not (
        declared.isdigit() and int(declared) <= _DRAIN_MAX_BYTES
    ):
        return
    with suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in response.aiter_raw():
                pass


def _response(
    reply: _Reply, chain: RedirectChain, *, etag: str | None, last_modified: str | None
) -> Response:
    """The Response for a final reply, or the HTTPStatusError it stands for."""
    if reply.status != 304 and not 200 <= reply.status < 300:
        raise _status_error(reply)
    content_type, charset = split_content_type(reply.headers.get("content-type"))
    not_modified = reply.status == 304
    return Response(
        url=str(reply.url),
        status=reply.status,
        body=reply.body,
        content_type=content_type,
        charset=charset,
        etag=reply.headers.get("etag") or (etag if not_modified else None),
        last_modified=reply.headers.get("last-modified")
        or (last_modified if not_modified else None),
        permanent_url=chain.permanent_url,
        max_age=parse_max_age(reply.headers.get("cache-control")),
    )


def _status_error(reply: _Reply) -> HTTPStatusError:
    if reply.status not in RETRY_AFTER_STATUSES:
        return HTTPStatusError(reply.status)
    server_now = server_date(reply.headers.get("date"), datetime.now(UTC))
    retry_after = parse_retry_after(reply.headers.get("retry-after"), server_now)
    detail = f"retry after {human_seconds(retry_after)}" if retry_after is not None else ""
    return HTTPStatusError(reply.status, retry_after=retry_after, detail=detail)
