"""Following redirects by hand: at most 5 hops, no loops, http(s) only, and which URL moved for good.

A chain of 301/308 from the first request sets `permanent_url` (the feed moved); any
302/303/307 on the way stops it there (the move after a temporary hop is the server's
business, not the feed's new address).

`ScopedHeaders` keeps a feed's configured headers to the feed's own origin: a hop to any
other origin (an item page elsewhere, a redirect away) gets none of them. The one
exception is the https upgrade of that origin (`http://host/` to `https://host/`), as in
httpx's own redirect rule.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from monitor.errors import BlockedAddress, HTTPStatusError, TooManyRedirects, TransportError
from monitor.pipeline.ssrf import ALLOWED_SCHEMES

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})


class RedirectChain:
    """The hops of one request: loop and length checks, and the permanent-move URL."""

    def __init__(self, url: httpx.URL) -> None:
        self.current = url
        self.visited = {str(url)}
        self.permanent = True
        self.permanent_url: str | None = None

    def follow(self, status: int, location: str) -> httpx.URL:
        """Move to the redirect target; raise when the chain is too long, loops or leaves http(s)."""
        location = location.strip()
        if not location:
            raise HTTPStatusError(status, detail="redirect without Location")
        if len(self.visited) > MAX_REDIRECTS:
            raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")
        target = checked_url(str(self.current.join(location)))
        if str(target) in self.visited:
            raise TooManyRedirects(f"redirect loop back to {target}")
        self.visited.add(str(target))
        self.permanent = self.permanent and status in PERMANENT_STATUSES
        if self.permanent:
            self.permanent_url = str(target)
        self.current = target
        return target


def checked_url(url: str) -> httpx.URL:
    """Parse `url`, refusing anything but http(s) URLs with a host."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise TransportError(f"invalid URL {url!r}") from e
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddress(f"refused scheme {parsed.scheme or '(none)'} (only http and https)")
    if not parsed.host:
        raise TransportError(f"invalid URL {url!r} (no host)")
    return parsed


def origin(url: httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port): the unit of per-host limits and of credential stripping."""
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


class ScopedHeaders:
    """Headers that belong to one origin (and its https upgrade) and to no other."""

    def __init__(self, headers: Mapping[str, str], home: httpx.URL) -> None:
        self._headers = dict(headers)
        self._home = origin(home)

    def for_url(self, url: httpx.URL) -> dict[str, str]:
        """The headers to send with a request for `url`: all of them at home, else none."""
        return dict(self._headers) if self._at_home(url) else {}

    def _at_home(self, url: httpx.URL) -> bool:
        here = origin(url)
        if here == self._home:
            return True
        scheme, host, port = self._home
        return scheme == "http" and port == 80 and here == ("https", host, 443)
