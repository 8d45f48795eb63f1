"""The frozen records the use cases return: what every face (CLI, REST API, console) shows.

Times are timezone-aware UTC datetimes; their JSON form (`services.shapes`) is ISO 8601 with a
`Z`. A record names things by their domain name, never by a table's column layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.models import EvidenceRef, TermCount, WatchlistMatch


@dataclass(frozen=True, slots=True)
class FeedRef:
    """The feed an article came from, as articles and alerts show it."""

    url: str
    name: str


@dataclass(frozen=True, slots=True)
class StoryRef:
    """The near-duplicate cluster of an article: its id and live article count."""

    id: int
    articles: int


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """One stored article as lists show it."""

    id: int
    url: str
    canonical_url: str  # the declared canonical URL, else `url` (not the dedupe key)
    title: str
    published_at: datetime | None
    fetched_at: datetime
    language: str
    feed: FeedRef
    story_id: int


@dataclass(frozen=True, slots=True)
class ArticleMatch:
    """A watchlist term that matched a stored article, with its count."""

    watchlist: str
    term: str
    actor: str | None
    count: int


@dataclass(frozen=True, slots=True)
class ArticleDetail:
    """One article with its full text, story and matches."""

    article: ArticleSummary
    author: str
    summary: str
    text: str
    story: StoryRef
    matches: tuple[ArticleMatch, ...]


@dataclass(frozen=True, slots=True)
class FoundArticle:
    """An article a search confirmed, with one snippet around its strongest hit."""

    article: ArticleSummary
    snippet: str


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What a search found (newest first) and how it chose the articles it read."""

    articles: tuple[FoundArticle, ...]
    method: str  # "fts" | "like" | "scan"
    candidates: int  # articles the matcher read
    words: tuple[str, ...] = ()  # the query's terms, for highlighting


@dataclass(frozen=True, slots=True)
class StorySummary:
    """One story as lists show it."""

    id: int
    title: str
    first_seen: datetime
    last_seen: datetime
    articles: int
    outlets: int


@dataclass(frozen=True, slots=True)
class StoryDetail:
    """One story with every copy (oldest first) and the outlets that carried it: `outlets`
    counts them as `StorySummary` does, `outlet_names` names them."""

    id: int
    title: str
    first_seen: datetime
    last_seen: datetime
    articles: int
    outlets: int
    outlet_names: tuple[str, ...]
    items: tuple[ArticleSummary, ...]


@dataclass(frozen=True, slots=True)
class AlertArticle:
    """What an alert says about the article that raised it."""

    id: int | None
    url: str
    title: str
    published_at: datetime | None
    language: str
    feed: FeedRef


@dataclass(frozen=True, slots=True)
class Delivery:
    """One channel's delivery of an alert (an outbox row)."""

    channel: str
    message_id: str
    status: str  # pending | held | sent | dead | rolled
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Triage:
    """An analyst's verdict on an alert: new | acknowledged | dismissed | false_positive, the
    note, and who set it when (None until someone first sets a state, `new` included)."""

    state: str = "new"
    note: str | None = None
    by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert (the §4 payload facts) with its deliveries per channel."""

    id: str
    created_at: datetime
    watchlist: str
    severity: str
    matches: tuple[TermCount, ...]
    snippets: tuple[str, ...]
    article: AlertArticle
    story: StoryRef
    deliveries: tuple[Delivery, ...] = ()
    triage: Triage = Triage()
    watchlist_version: int | None = None  # the recorded version that raised it
    evidence: tuple[EvidenceRef, ...] = ()  # what was kept of the story's pages


@dataclass(frozen=True, slots=True)
class AlertPage:
    """One page of alerts, newest first; `next_cursor` fetches the next page (None at the end)."""

    items: tuple[Alert, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class AlertDetail:
    """One alert with every copy of its story."""

    alert: Alert
    story: StoryDetail | None


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One feed's health and schedule (`monitor status`, `feeds list`)."""

    id: int
    url: str
    config_url: str | None
    name: str
    tags: tuple[str, ...]
    state: str  # ok | erroring | disabled | retired
    last_error: str | None
    error_count: int
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    next_poll_at: datetime | None
    interval_seconds: float | None
    articles: int
    silent: bool
    note: str | None = None  # what the last poll that read the feed left undone
    origin: str | None = None  # how a feed not from the config was added (None: before 0011)

    @property
    def source(self) -> str:
        """Where the feed was defined: the config file, or how it was added (cli, api,
        console, opml; a feed added before origins were recorded reads cli)."""
        return "config" if self.config_url else (self.origin or "cli")


@dataclass(frozen=True, slots=True)
class FeedAdded:
    """A feed added by URL: the feed as stored and the URL it was discovered from."""

    feed: FeedStatus
    given: str

    @property
    def url(self) -> str:
        """The feed URL stored."""
        return self.feed.url


@dataclass(frozen=True, slots=True)
class FeedChanged:
    """A feed enabled, disabled or removed."""

    id: int
    url: str
    state: str  # the new state, or "removed"


@dataclass(frozen=True, slots=True)
class OpmlImport:
    """How many feeds an OPML import added of how many it listed."""

    added: int
    listed: int


@dataclass(frozen=True, slots=True)
class WatchlistSummary:
    """A configured watchlist with its scope, term count and what it has matched so far."""

    name: str
    severity: str
    channels: tuple[str, ...]
    terms: int
    exclude: int
    tags: tuple[str, ...]
    languages: tuple[str, ...]
    query: str
    articles: int | None = None  # stored articles it matched (None: not counted)
    alerts: int | None = None  # alerts it raised


@dataclass(frozen=True, slots=True)
class WatchlistTest:
    """The watchlists one text matched; nothing was stored or sent."""

    language: str
    matches: tuple[WatchlistMatch, ...]
    unapplied: tuple[str, ...]  # watchlists limited to feed tags the test did not name
    title: str = ""


@dataclass(frozen=True, slots=True)
class TermTally:
    """How often one term hit in a backfill, and in how many articles."""

    term: str
    actor: str | None
    hits: int
    articles: int


@dataclass(frozen=True, slots=True)
class BackfillReport:
    """What a backfill (or its dry run, a preview) found and did."""

    watchlist: str
    scanned: int
    matched: int
    new_alerts: int
    dry_run: bool
    terms: tuple[TermTally, ...] = ()
    snippets: tuple[str, ...] = ()  # the first few, newest articles first
    would_alert: tuple[int, ...] = ()  # article ids a dry run would alert on (first few)


@dataclass(frozen=True, slots=True)
class Channel:
    """A configured channel and its state (a webhook answering 410 is disabled)."""

    name: str
    type: str
    digest_seconds: float | None
    max_per_hour: int
    disabled_reason: str | None


@dataclass(frozen=True, slots=True)
class ChannelTest:
    """A test message a channel accepted."""

    channel: str
    message_id: str


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """Outbox rows by state and the oldest pending row's age."""

    pending: int
    held: int
    dead: int
    sent: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A worker's last heartbeat."""

    worker: str
    host: str
    pid: int
    beat_at: datetime


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the deployment is healthy; `problem` is one line saying what failed."""

    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class Status:
    """Everything `monitor status` and `GET /api/v1/status` show."""

    feeds: tuple[FeedStatus, ...]
    backlog: OutboxBacklog
    heartbeats: tuple[Heartbeat, ...]
    health: Health
