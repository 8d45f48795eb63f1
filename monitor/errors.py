"""The exception tree of feed-monitor. Library errors are translated at the boundary.

MonitorError                 base of everything raised on purpose
├── ConfigError              bad config file, key or value (exit 2)
├── StorageError             database unreachable or migrations not current (exit 1)
├── FetchError               one fetch failed; `str()` is the feed's one-line health message
│   ├── FetchTimeout         the total deadline passed ("timeout after 20s")
│   ├── HTTPStatusError      a non-success status ("HTTP 500"); carries status, retry_after
│   ├── TooLarge             body or decompressed body above the cap
│   ├── BlockedAddress       SSRF guard refused the target address
│   ├── TooManyRedirects     more than 5 redirects, or a loop
│   └── TransportError       DNS, connect, reset, TLS, broken framing
├── ParseError               the body is not a feed ("not a feed: text/html")
├── ExtractError             no article text could be extracted
├── QuerySyntaxError         a watchlist query does not parse; carries the column
├── DeliveryError            a channel failed to deliver; `retry_after`, `permanent`
├── OutputError              a file asked for could not be written (disk full …) (exit 1)
├── InvalidRequest           a use case was asked something malformed (exit 2, HTTP 400)
├── NotFound                 the alert, story, article, feed … asked for does not exist (404)
│   └── NotConfigured        a watchlist or channel the config does not name (exit 2)
└── Conflict                 clashes with what is stored: feed exists, config feed (409)
"""

from __future__ import annotations

import copy


class MonitorError(Exception):
    """Base class of every error feed-monitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration is invalid; the message names the file, the key and the problem."""


class StorageError(MonitorError):
    """The database cannot be used (unreachable, locked by another process, not migrated)."""


class FetchError(MonitorError):
    """A request failed; the message is the one-line health text shown in `monitor status`."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def naming(self, url: str) -> FetchError:
        """The same error, its line prefixed with the URL: for a user who gave the URL to a
        command (`HTTP 404` alone does not say what was missing)."""
        named = copy.copy(self)
        named.args = (f"{url}: {self}",)
        return named


class FetchTimeout(FetchError):
    """The total deadline for the request passed."""


class HTTPStatusError(FetchError):
    """The server answered with a status we treat as failure."""

    def __init__(self, status: int, *, retry_after: float | None = None, detail: str = "") -> None:
        super().__init__(f"HTTP {status}{': ' + detail if detail else ''}", retry_after=retry_after)
        self.status = status


class TooLarge(FetchError):
    """The body (or its decompressed form) is larger than the configured cap."""


class BlockedAddress(FetchError):
    """The SSRF guard refused to connect to the target address."""


class TooManyRedirects(FetchError):
    """More than the allowed number of redirects, or a redirect loop."""


class TransportError(FetchError):
    """Network-level failure: DNS, connect, reset, TLS or broken HTTP framing."""


class ParseError(MonitorError):
    """The body is not a feed we can read."""


class ExtractError(MonitorError):
    """No article text could be extracted from the page."""


class QuerySyntaxError(MonitorError):
    """A watchlist query does not parse; `column` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


class DeliveryError(MonitorError):
    """A channel could not deliver a message."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class OutputError(MonitorError):
    """A file the user asked for could not be written; the message names the path. (A
    path that cannot be written at all is an InvalidRequest, found before any work.)"""


class InvalidRequest(MonitorError):
    """A use case was asked something malformed (a bad cursor, status or URL): exit 2, HTTP 400."""


class NotFound(MonitorError):
    """The thing asked for does not exist (an alert, story, article, feed): HTTP 404."""


class NotConfigured(NotFound):
    """A watchlist or channel name the config does not have: a usage error on the CLI."""


class Conflict(MonitorError):
    """The request clashes with what is stored (a feed that exists, a config feed): HTTP 409."""


class AuthenticationFailed(MonitorError):
    """A password, token or session was not accepted (unknown, wrong, expired or revoked):
    HTTP 401. The message never says which of these it was, nor echoes the secret."""


def one_line(error: object, *, limit: int = 200) -> str:
    """The first line of an error's message, or its type name when it has none, cut to
    `limit` characters: what a log line, a feed's health or a delivery's last error shows."""
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:limit]
