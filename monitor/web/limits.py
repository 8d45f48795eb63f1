"""Request limits: a body-size cap (ASGI middleware), the failed-sign-in rate limiter, and
the guard on a search query's length in a URL.

`BodyCap` answers 413 (problem+json) before the app reads more than `max_bytes` of a body,
whether announced by Content-Length or streamed in chunks.

`FailureLimiter` counts failed sign-ins (password or token) in a sliding window, per key —
the client address and, for passwords, the user name — and blocks a key that reached
`limit` failures until the oldest one leaves the window. Counts are per process: a web tier
of N processes lets N × `limit` attempts through per window, still a few per second at most.

What counts, and what a blocked client may still do (`monitor.web.auth` applies it):

- A wrong password or a bearer token that does not authenticate counts against the client
  (and the password against the user name). Once blocked, the client's passwords and tokens
  are refused with 429 *before* they are checked — valid ones too. Checking first and
  refusing only failures would answer a guesser which guess was right, so the block would
  protect nothing; the price is that one client address (an office behind one NAT or
  proxy) whose scripts keep sending a bad token waits out the window for its token calls.
- A session cookie is never counted nor refused: its secret is random (nothing to guess),
  and a browser holding the cookie of an ended session keeps sending it — it gets 401 (the
  console: its sign-in page). So people signed in keep working while the address is
  blocked, and stale cookies cannot block it.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from monitor.clock import Clock
from monitor.services.articles import MAX_QUERY_CHARS

# Only a guard against oversized URLs: well above the search use case's own limit, so a
# query a little too long is refused by the use case with its clear line, never cut here.
QUERY_GUARD = 4 * MAX_QUERY_CHARS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """A request body grew past the cap while it was read."""


class BodyCap:
    """ASGI middleware refusing request bodies above `max_bytes` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        watch = _Watched(receive, send, self.max_bytes, lambda: self._refuse(scope, send))
        try:
            await self.app(scope, watch.receive, watch.send)
        except BodyTooLarge:
            await watch.refuse()

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"request bodies are capped at {self.max_bytes} bytes",
                "instance": scope.get("path", ""),
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _Watched:
    """One exchange under the cap: `receive` counts the body and raises BodyTooLarge past
    it; from then on whatever the app answers (FastAPI turns the exception into a 400
    "error parsing the body", a form parser into its own error) is replaced by the 413."""

    def __init__(
        self,
        receive: Receive,
        send: Send,
        max_bytes: int,
        refusal: Callable[[], Awaitable[None]],
    ) -> None:
        self._receive, self._send, self._refusal = receive, send, refusal
        self.max_bytes, self.seen = max_bytes, 0
        self.exceeded = self.started = False

    async def receive(self) -> Message:
        message = await self._receive()
        self.seen += len(message.get("body", b""))
        if self.seen > self.max_bytes:
            self.exceeded = True
            raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:
            await self.refuse()  # the app's own answer to the body it could not read
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)

    async def refuse(self) -> None:
        """Answer the 413, once, unless an answer has begun."""
        if not self.started:
            self.started = True
            await self._refusal()


class RefuseNul:
    """ASGI middleware answering 400 to a path or query string holding a NUL character:
    PostgreSQL cannot store or compare one, and no name, URL or query needs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            await _problem(send, scope, 400, "Bad Request", "NUL characters are not allowed")
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    raw = bytes(scope.get("raw_path") or b"") + b"?" + bytes(scope.get("query_string") or b"")
    return b"\x00" in raw or b"%00" in raw or b"\x00" in str(scope.get("path", "")).encode()


async def _problem(send: Send, scope: Scope, status: int, title: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FailureLimiter:
    """Failed sign-ins per key in a sliding window; a key at `limit` failures waits."""

    def __init__(
        self, clock: Clock, *, limit: int = 10, window: timedelta = timedelta(minutes=5)
    ) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self._failures: dict[str, deque[datetime]] = {}

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until the most blocked of `keys` may try again, or None if none is."""
        now = self.clock.now()
        waits = [self._wait(key, now) for key in keys]
        blocked = [w for w in waits if w is not None]
        return max(blocked) if blocked else None

    def failed(self, *keys: str) -> None:
        now = self.clock.now()
        for key in keys:
            self._prune(key, now).append(now)
        if len(self._failures) > 100_000:  # bound memory under a spray of distinct keys
            for key in [k for k in self._failures if not self._prune(k, now)]:
                del self._failures[key]

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _prune(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def _wait(self, key: str, now: datetime) -> int | None:
        times = self._prune(key, now)
        if len(times) < self.limit:
            return None
        return max(1, math.ceil((times[0] + self.window - now).total_seconds()))
