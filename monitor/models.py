"""Frozen records passed between pipeline stages, storage and notifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

# NUL (PostgreSQL text cannot hold it) and lone surrogates (no UTF-8 encoding exists).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with what no database text column holds (NUL, lone surrogates) replaced by
    U+FFFD: one character for one, so offsets into the text stay right."""
    return _UNSTORABLE.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as the poller needs it (a row of the feeds table)."""

    id: int
    url: str
    name: str = ""
    tags: tuple[str, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    fetch_articles: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    last_body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """A successful (2xx or 304) HTTP response, body already capped and decoded to bytes."""

    url: str  # the final URL after redirects
    status: int
    body: bytes
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # set when a 301/308 chain moved the resource
    max_age: float | None = None  # Cache-Control max-age in seconds

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a parsed feed."""

    guid: str
    url: str
    title: str = ""
    author: str = ""
    published_at: datetime | None = None
    summary: str = ""  # plain text
    content: str = ""  # plain text of the feed's full content, if any


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The result of parsing a feed body."""

    title: str
    link: str
    entries: tuple[Entry, ...]
    warning: str = ""  # e.g. feedparser's bozo message when entries were still recovered


@dataclass(frozen=True, slots=True)
class Extracted:
    """What the extractor found on an article page."""

    text: str
    title: str = ""
    author: str = ""
    published_at: datetime | None = None
    canonical_url: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class Article:
    """An article ready to store: the entry, the extracted page and the dedupe keys."""

    feed_id: int
    guid: str
    url: str
    canonical_url: str
    title: str
    author: str
    published_at: datetime | None
    fetched_at: datetime
    summary: str
    text: str
    language: str
    content_hash: str
    signature: bytes = b""  # packed near-duplicate signature (pipeline.dedupe)
    bands: tuple[str, ...] = ()  # LSH band keys of the signature

    def storable(self) -> Article:
        """This article with every text field `storable`."""
        return replace(
            self,
            guid=storable(self.guid),
            url=storable(self.url),
            canonical_url=storable(self.canonical_url),
            title=storable(self.title),
            author=storable(self.author),
            summary=storable(self.summary),
            text=storable(self.text),
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a term or alias in an article, with offsets into the original text."""

    term: str  # the term or alias as written in the watchlist
    actor: str | None  # the actor whose alias fired, or None for a plain term
    normalized: str  # the term's matching form
    start: int  # offsets into the original text (title + "\n\n" + body)
    end: int


@dataclass(frozen=True, slots=True)
class TermCount:
    """How often one term (or alias) hit, for the alert payload."""

    term: str
    actor: str | None
    count: int


@dataclass(frozen=True, slots=True)
class WatchlistMatch:
    """A watchlist that matched an article, with why."""

    watchlist: str
    severity: str
    channels: tuple[str, ...]
    matches: tuple[TermCount, ...]
    snippets: tuple[str, ...]
    hits: tuple[Hit, ...] = field(default=())

    def storable(self) -> WatchlistMatch:
        """This match with its snippets `storable` (they quote the article)."""
        return replace(self, snippets=tuple(map(storable, self.snippets)))


@dataclass(frozen=True, slots=True)
class AlertContext:
    """The facts an alert payload needs about the article that raised it and its story."""

    article_id: int
    article: Article
    feed_url: str
    feed_name: str
    story_id: int
    story_articles: int
    installation: str  # the database's random id, part of every alert id
