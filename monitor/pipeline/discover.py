"""Feed autodiscovery: from a site URL to its feed URL.

`find_feed_links` (pure) reads `<link rel="alternate" type="application/rss+xml" …>` and
friends from a page, in document order, resolved against the page URL (and `<base>`).
`discover_feed` fetches the URL; if it already is a feed it is returned unchanged,
otherwise the page's feed links and then `COMMON_FEED_PATHS` are tried in order and the
first candidate that parses as a feed wins.
"""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from monitor.errors import FetchError, ParseError

if TYPE_CHECKING:
    from monitor.pipeline.fetch import Fetcher

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/xml",
        "text/xml",
    }
)
COMMON_FEED_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/posts/default",
    "/feed/",
    "/rss/",
    "/index.rss",
    "/feed.json",
    "/?feed=rss2",
)
_PAGE_SCAN_BYTES = 512_000  # <link> tags live in <head>


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "link" and _is_feed_link(values):
            self.hrefs.append(values["href"])


def _is_feed_link(attrs: dict[str, str]) -> bool:
    rels = attrs.get("rel", "").lower().split()
    kind = attrs.get("type", "").lower().split(";")[0].strip()
    return "alternate" in rels and kind in FEED_TYPES and bool(attrs.get("href"))


def find_feed_links(html: bytes | str, base_url: str) -> list[str]:
    """Feed URLs a page advertises with <link rel="alternate">, absolute, in order, unique."""
    text = html[:_PAGE_SCAN_BYTES].decode("utf-8", "replace") if isinstance(html, bytes) else html
    collector = _LinkCollector()
    collector.feed(text[:_PAGE_SCAN_BYTES])
    collector.close()
    base = urljoin(base_url, collector.base) if collector.base else base_url
    links = (urljoin(base, href) for href in collector.hrefs)
    return list(dict.fromkeys(u for u in links if urlsplit(u).scheme in ("http", "https")))


def common_feed_urls(url: str) -> list[str]:
    """The COMMON_FEED_PATHS on the site's origin."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [origin + path for path in COMMON_FEED_PATHS]


async def discover_feed(fetcher: Fetcher, url: str, *, now: datetime) -> str:
    """The feed URL for a site or feed URL; ParseError when none is found."""
    page = await fetcher.get(url, max_bytes=fetcher.polling.max_feed_bytes)
    if await _is_feed(fetcher, url, now, body=page.body, content_type=page.content_type):
        return url
    candidates = find_feed_links(page.body, page.url) + common_feed_urls(page.url)
    for candidate in dict.fromkeys(candidates):
        if await _is_feed(fetcher, candidate, now):
            return candidate
    raise ParseError(f"no feed found at {url} (tried its feed links and common feed paths)")


async def _is_feed(
    fetcher: Fetcher,
    url: str,
    now: datetime,
    *,
    body: bytes | None = None,
    content_type: str = "",
) -> bool:
    # Imported here: parse uses find_feed_links for its "not a feed" hint.
    from monitor.pipeline.parse import parse_feed

    try:
        if body is None:
            response = await fetcher.get(url, max_bytes=fetcher.polling.max_feed_bytes)
            body, content_type = response.body, response.content_type
        parse_feed(body, url=url, content_type=content_type, now=now)
    except (FetchError, ParseError):
        return False
    return True
