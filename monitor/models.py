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
    config_url: str | None = None  # the URL written in the config; None for CLI feeds
    title: str = ""  # the feed's own title, as its last poll read it

    @property
    def headers_for(self) -> str:
        """The URL whose origin the feed's `headers` belong to: the one the operator wrote,
        not where a permanent redirect has since moved the feed."""
        return self.config_url or self.url


Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the status line and headers of its response, as they went over the
    wire: a hop of a fetch (a redirect, or the final answer)."""

    url: str
    method: str
    request_headers: Headers  # credentials redacted
    http_version: str  # "HTTP/1.1"
    status: int
    reason: str
    response_headers: Headers
    peer_ip: str | None  # the address actually connected to
    started_at: datetime


@dataclass(frozen=True, slots=True)
class Capture:
    """What fetching a page received: every hop in order (redirects, then the final answer)
    and the final body as received, before its Content-Encoding was undone."""

    exchanges: tuple[Exchange, ...]
    raw_body: bytes
    fetched_at: datetime  # when the final answer's body was read to its end

    @property
    def final(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def request_url(self) -> str:
        return self.exchanges[0].url


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
    capture: Capture | None = None  # the exchanges and raw body, when asked for (pages)

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
    # The canonical URL as declared (same site), else the fetched one; `canonical_url` is the
    # dedupe key normalised from it (https, no www., no tracking parameters: not an address).
    canonical_link: str = ""
    signature: bytes = b""  # packed near-duplicate signature (pipeline.dedupe)
    bands: tuple[str, ...] = ()  # LSH band keys of the signature
    snapshot: Snapshot | None = None  # kept as evidence if the article's story alerts

    def storable(self) -> Article:
        """This article with every text field `storable`."""
        return replace(
            self,
            guid=storable(self.guid),
            url=storable(self.url),
            canonical_url=storable(self.canonical_url),
            canonical_link=storable(self.canonical_link),
            title=storable(self.title),
            author=storable(self.author),
            summary=storable(self.summary),
            text=storable(self.text),
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What an alert keeps of an article (`pipeline.evidence.snapshot_of`): the page as
    fetched (when it was) and digests of it and of the text as stored.

    `body` is the raw body cut at the snapshot cap; `received_sha256` and `received_bytes`
    describe the whole body as received, `body_sha256` the bytes kept.
    """

    capture: Capture | None
    body: bytes
    body_sha256: str
    received_sha256: str | None
    received_bytes: int
    cut_note: str  # empty unless the body was cut
    text_sha256: str


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a term or alias in an article, with offsets into the original text."""

    term: str  # the term or alias as written in the watchlist
    actor: str | None  # the actor whose alias fired, or None for a plain term
    normalized: str  # the term's matching form
    start: int  # offsets into the original text (title + "\n\n" + body)
    end: int
    rules: tuple[str, ...] = ()  # the matching rules the hit needed; () for the term as written

    @property
    def rule(self) -> str:
        """The rule that produced the hit: "exact" for the term as written, else the rules it
        needed joined by "+" (`joined`, `spaced`, `diacritics`, `invisible`, `hashtag`,
        `clitic`, `inflection`; README "Matching rules")."""
        return "+".join(self.rules) or "exact"


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
    version: int | None = None  # the recorded watchlist version that matched

    def storable(self) -> WatchlistMatch:
        """This match with its snippets `storable` (they quote the article)."""
        return replace(self, snippets=tuple(map(storable, self.snippets)))


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """What an alert payload says about one kept snapshot."""

    article_id: int | None
    url: str
    final_url: str | None
    status: int | None
    fetched_at: datetime
    response_sha256: str | None
    text_sha256: str
    truncated: bool


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
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message for one channel, as stored in the outbox (its body rendered once)."""

    message_id: str  # unique per outbox row; the email Message-ID is derived from it
    channel: str
    # alert: one alert; digest: a channel's period of alerts; summary: alerts held back by
    # max_per_hour; test: `channels test`; system: a notice written by the service itself;
    # trend: a surge or quiet episode (one row per channel, ids `<episode id>.<channel>`).
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
        if self.kind == "trend":
            return self.message_id.partition(".")[0]
        return self.message_id


@dataclass(frozen=True, slots=True)
class HeldRow:
    """An outbox row waiting for its digest or throttle summary."""

    row_id: int
    channel: str
    due: datetime  # the row's next_attempt_at: the end of its period
    body: str
