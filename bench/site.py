"""What the benchmark server serves, generated deterministically from a `SiteSpec`.

Feeds: `/feeds/{i}.xml`, RSS 2.0 for even i and Atom for odd i, `items` entries of about
1 KB each (title, link, guid, date, a description of generated prose). Feed i lives on port
`i % len(ports)`, so a run can spread its feeds over several hosts.

Pages: entry j of feed i links to `/a/{i}/{j}.html`, one of the 60 real corpus pages
(number `(i * items + j) % 60`). Served as published they would all be exact duplicates
of 60 articles, so each URL gets its own copy: every third word of the page's visible text
(outside tags, scripts, styles and comments) is swapped for a word of the corpus vocabulary
chosen by the copy's seeded random generator. Each copy is then a distinct article (own
content hash, own story) with the page's real structure, size and boilerplate, so
extraction does the same work as on the original. `originals=True` serves the unmodified
pages instead (the extraction-quality scenario).
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from bench import corpus

FEED_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
PAGE_TYPE = "text/html; charset=utf-8"
NEWEST = datetime(2026, 11, 27, 12, tzinfo=UTC)
_SEGMENTS = re.compile(
    r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I
)
_WORD = re.compile(r"(?<![&#\w])[A-Za-z]{4,}\b")


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """The shape of one generated site."""

    feeds: int
    items: int
    ports: int = 1
    pages: bool = True  # entries link to article pages (else the feed's own text is all)
    originals: bool = False  # serve the corpus pages unmodified
    item_bytes: int = 1000  # rough size of one entry's description


@dataclass(frozen=True, slots=True)
class Site:
    """A spec bound to the ports its server listens on: the URLs and bodies of every route."""

    spec: SiteSpec
    ports: tuple[int, ...]

    def base(self, feed: int) -> str:
        return f"http://127.0.0.1:{self.ports[feed % len(self.ports)]}"

    def feed_path(self, feed: int) -> str:
        return f"/feeds/{feed}.xml"

    def feed_url(self, feed: int) -> str:
        return self.base(feed) + self.feed_path(feed)

    def feed_urls(self) -> list[str]:
        return [self.feed_url(i) for i in range(self.spec.feeds)]

    def page_path(self, feed: int, item: int) -> str:
        return f"/a/{feed}/{item}.html"

    def page_url(self, feed: int, item: int) -> str:
        return self.base(feed) + self.page_path(feed, item)

    def copy_number(self, feed: int, item: int) -> int:
        return feed * self.spec.items + item

    def page_index(self, feed: int, item: int) -> int:
        return self.copy_number(feed, item) % len(corpus.pages())

    def feed_kind(self, feed: int) -> str:
        return "rss" if feed % 2 == 0 else "atom"

    def feed_body(self, feed: int) -> bytes:
        items = [self._item(feed, j) for j in range(self.spec.items)]
        if self.feed_kind(feed) == "rss":
            return rss(f"Bench feed {feed}", items).encode("utf-8")
        return atom(f"Bench feed {feed}", f"urn:bench:{feed}", items).encode("utf-8")

    def page_body(self, feed: int, item: int) -> bytes:
        """The page served for an entry (a copy of a corpus page, or the original)."""
        page = corpus.pages()[self.page_index(feed, item)]
        if self.spec.originals:
            return page.html
        return page_copy(page.html.decode("utf-8"), self.copy_number(feed, item)).encode("utf-8")

    def routes(self) -> dict[str, tuple[str, bytes]]:
        """path -> (content type, body) for every feed and page."""
        table: dict[str, tuple[str, bytes]] = {}
        for i in range(self.spec.feeds):
            table[self.feed_path(i)] = (FEED_TYPES[self.feed_kind(i)], self.feed_body(i))
            if self.spec.pages:
                for j in range(self.spec.items):
                    table[self.page_path(i, j)] = (PAGE_TYPE, self.page_body(i, j))
        return table

    def _item(self, feed: int, item: int) -> dict[str, str]:
        rng = random.Random(f"item {feed} {item}")
        link = (
            self.page_url(feed, item) if self.spec.pages else f"{self.base(feed)}/x/{feed}/{item}"
        )
        return {
            "title": prose(rng, 10).rstrip(".").title(),
            "link": link,
            "guid": f"bench-{feed}-{item}",
            "published": (NEWEST - timedelta(minutes=7 * item + feed)).isoformat(),
            "description": prose(rng, self.spec.item_bytes // 10),
        }


def prose(rng: random.Random, words: int) -> str:
    """`words` words of the corpus vocabulary in sentences of 8-20 words."""
    vocabulary = corpus.vocabulary()
    out: list[str] = []
    while len(out) < words:
        sentence = [rng.choice(vocabulary) for _ in range(rng.randint(8, 20))]
        out.append(sentence[0].capitalize())
        out.extend(sentence[1:-1])
        out.append(sentence[-1] + ".")
    return " ".join(out[:words])


def page_copy(html: str, copy: int) -> str:
    """The page with every third visible word swapped for a vocabulary word (seeded by copy)."""
    rng = random.Random(copy)
    vocabulary = corpus.vocabulary()
    counter = itertools.count()

    def swap(match: re.Match[str]) -> str:
        return rng.choice(vocabulary) if next(counter) % 3 == 0 else match.group(0)

    parts = _SEGMENTS.split(html)
    parts[::2] = [_WORD.sub(swap, text) for text in parts[::2]]
    return "".join(parts)


def rss(title: str, items: list[dict[str, str]]) -> str:
    """An RSS 2.0 document; descriptions carry HTML, escaped, as most feeds do."""
    parts = []
    for item in items:
        published = format_datetime(datetime.fromisoformat(item["published"]), usegmt=True)
        parts.append(
            f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
            f'<guid isPermaLink="false">{escape(item["guid"])}</guid><pubDate>{published}</pubDate>'
            f"<description>{escape('<p>' + item['description'] + '</p>')}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://127.0.0.1/</link>"
        f"<description>benchmark feed</description>{''.join(parts)}</channel></rss>"
    )


def atom(title: str, feed_id: str, items: list[dict[str, str]]) -> str:
    """An Atom 1.0 document with HTML summaries."""
    entries = "".join(
        f'<entry><title>{escape(i["title"])}</title><link rel="alternate" href="{escape(i["link"])}"/>'
        f"<id>{escape(i['guid'])}</id><updated>{i['published']}</updated>"
        f'<summary type="html">{escape("<p>" + i["description"] + "</p>")}</summary></entry>'
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>{feed_id}</id>"
        f"<updated>{NEWEST.isoformat()}</updated>{entries}</feed>"
    )
