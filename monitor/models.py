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
class FeedSchedule:
    """What a feed's next poll is decided from (`pipeline.schedule`): its error streak, since
    when it answers 404, when it last had new entries, its smoothed gap between new entries
    and the operator's interval override."""

    error_count: int = 0
    first_404_at: datetime | None = None
    last_new_at: datetime | None = None
    mean_gap_seconds: float | None = None
    interval_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    """A claimed feed as the poller needs it: how to fetch it and its schedule state."""

    id: int
    url: str
    name: str = ""
    tags: tuple[str, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    fetch_articles: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    last_body_hash: str | None = None
    schedule: FeedSchedule = FeedSchedule()


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


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message for one channel, as stored in the outbox (its body rendered once)."""

    message_id: str  # unique per outbox row; the email Message-ID is derived from it
    channel: str
    # alert: one alert; digest: a channel's period of alerts; summary: alerts held back by
    # max_per_hour; test: `channels test`; system: a notice written by the service itself.
    kind: str
    body: str  # JSON, sent unchanged on every attempt
    alert_id: str | None = None
    row_id: int | None = None
    attempts: int = 0  # attempts made before this one, all told (kept across `alerts retry`)
    retried_from: int = 0  # `attempts` when it was last requeued: the budget counts from here
    created_at: datetime | None = None

    @property
    def event_id(self) -> str:
        """The id receivers de-duplicate on: the payload `id` (= `webhook-id`)."""
        if self.kind == "alert" and self.alert_id:
            return self.alert_id
        return self.message_id


@dataclass(frozen=True, slots=True)
class HeldRow:
    """An outbox row waiting for its digest or throttle summary."""

    row_id: int
    channel: str
    due: datetime  # the row's next_attempt_at: the end of its period
    body: str
