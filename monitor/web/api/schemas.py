"""The API's JSON bodies as pydantic models: what the OpenAPI document describes and what
every response is checked against. Responses are `monitor.services.shapes.to_json` of the
use cases' records — the same form as `--json` — so these models mirror that module, and a
key added there without a field here fails the API tests (extra keys are forbidden)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
TriageState = Literal["new", "acknowledged", "dismissed", "false_positive"]
Role = Literal["viewer", "analyst", "admin"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedRef(Out):
    url: str
    name: str


class TermCount(Out):
    term: str
    actor: str | None
    count: int


class AlertArticle(Out):
    id: int | None
    url: str
    title: str
    published_at: Timestamp | None
    language: str
    feed: FeedRef


class StoryRef(Out):
    id: int
    articles: int


class Delivery(Out):
    channel: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: Timestamp | None
    sent_at: Timestamp | None


class Triage(Out):
    """An alert's triage: who set the current state and when (null only while nobody has
    triaged it; a reset to `new` records its author too)."""

    state: TriageState
    note: str | None
    by: str | None
    at: Timestamp | None


class EvidencePage(Out):
    """One kept page: sha256 of the body as received and of the text as stored."""

    article_id: int | None
    url: str
    final_url: str | None
    status: int | None
    fetched_at: Timestamp
    response_sha256: str | None
    text_sha256: str
    truncated: bool


class Evidence(Out):
    """What was kept for the alert's story, the watchlist version that raised it, and how
    to export it (the CLI command and this API's route)."""

    watchlist_version: int | None
    articles: list[EvidencePage]
    export: str
    api: str


class Alert(Out):
    """The alert payload (the webhook body's facts) with deliveries and triage."""

    id: str
    type: str
    created_at: Timestamp
    watchlist: str
    severity: str
    matches: list[TermCount]
    snippets: list[str]
    article: AlertArticle
    story: StoryRef
    evidence: Evidence
    deliveries: list[Delivery]
    triage: Triage


class Article(Out):
    id: int
    url: str
    canonical_url: str
    title: str
    published_at: Timestamp | None
    fetched_at: Timestamp
    language: str
    feed: FeedRef
    story_id: int


class AlertDetail(Alert):
    """An alert with every copy of its story, oldest first."""

    copies: list[Article]


class AlertPage(Out):
    items: list[Alert]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class Retried(Out):
    requeued: int


class TriageIn(In):
    state: TriageState
    note: str | None = Field(default=None, max_length=2000)


class ArticleMatch(Out):
    watchlist: str
    term: str
    actor: str | None
    count: int


class ArticleDetail(Article):
    author: str
    summary: str
    text: str
    matches: list[ArticleMatch]
    story: StoryRef


class FoundArticle(Article):
    snippet: str


class SearchResult(Out):
    articles: list[FoundArticle]
    method: str = Field(description="how candidates were chosen: fts, like or scan")
    candidates: int


class Story(Out):
    id: int
    title: str
    first_seen: Timestamp
    last_seen: Timestamp
    articles: int
    outlets: int


class StoryDetail(Out):
    id: int
    title: str
    first_seen: Timestamp
    last_seen: Timestamp
    articles: int
    outlets: int
    outlet_names: list[str]
    items: list[Article]


class Feed(Out):
    id: int
    url: str
    config_url: str | None
    name: str
    tags: list[str]
    state: str
    last_error: str | None
    note: str | None = Field(description="a health note: items skipped or left for the next poll")
    error_count: int
    last_poll_at: Timestamp | None
    last_success_at: Timestamp | None
    last_new_at: Timestamp | None
    next_poll_at: Timestamp | None
    interval_seconds: float | None
    articles: int
    source: str = Field(description="config, or how the feed was added: cli, api, console, opml")
    silent: bool


class FeedIn(In):
    url: str = Field(
        max_length=2000,
        pattern=r"^https?://",
        description="a feed URL, or a site URL to discover from",
    )
    name: str = Field(default="", max_length=200)
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    discover: bool = True


class FeedAdded(Feed):
    given: str = Field(description="the URL given, from which `url` was discovered")


class FeedChanged(Out):
    id: int
    url: str
    state: str


class OpmlImport(Out):
    added: int
    listed: int


class Precision(Out):
    triaged: int
    false_positives: int
    precision: float | None = Field(description="(triaged − false positives) / triaged")


class Watchlist(Out):
    name: str
    severity: str
    channels: list[str]
    terms: int
    exclude: int
    tags: list[str]
    languages: list[str]
    query: str
    articles: int
    alerts: int
    precision: Precision


class TrendPoint(Out):
    start: Timestamp
    stories: int
    outlets: int
    expected: float | None = Field(description="stories the surge test expected")
    band: list[int] | None = Field(description="[low, high]: 95 % Poisson band of expected")
    surge: bool = Field(description="a surge episode was raised in this bucket")


class TrendEpisode(Out):
    id: str
    type: Literal["watchlist.surge", "watchlist.quiet", "coverage.quiet"]
    subject: str
    started_at: Timestamp
    ended_at: Timestamp | None
    payload: dict[str, Any] = Field(description="the alert payload the channels were sent")


class WatchlistTrend(Out):
    watchlist: str
    actor: str | None
    actors: list[str]
    by: Literal["hour", "day"]
    surge_detection: bool
    points: list[TrendPoint]
    episodes: list[TrendEpisode]


class TestHit(Out):
    """One hit of a tested text: offsets into `title + "\n\n" + text` and the matching rule
    that produced it (`exact`, or rule names joined by `+`: README "Matching rules")."""

    term: str
    actor: str | None
    start: int
    end: int
    rule: str


class WatchlistMatch(Out):
    watchlist: str
    matches: list[TermCount]
    snippets: list[str]
    hits: list[TestHit]


class WatchlistTest(Out):
    language: str
    matches: list[WatchlistMatch]
    unapplied: list[str]


class WatchlistTestIn(In):
    """Text to match (`text`, optional `title`), or a `url` to fetch and extract."""

    text: str = Field(default="", max_length=500_000)
    title: str = Field(default="", max_length=1000)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    feed_tags: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=20
    )


class TermTally(Out):
    term: str
    actor: str | None
    hits: int
    articles: int


class Backfill(Out):
    watchlist: str
    dry_run: bool
    scanned: int
    matched: int
    new_alerts: int
    terms: list[TermTally]
    snippets: list[str]
    articles: list[int]


class Channel(Out):
    name: str
    type: str
    digest_seconds: float | None
    max_per_hour: int
    state: str
    disabled_reason: str | None


class ChannelTest(Out):
    channel: str
    message_id: str


class Backlog(Out):
    pending: int
    held: int
    dead: int
    sent: int
    oldest_pending_at: Timestamp | None


class Heartbeat(Out):
    worker: str
    host: str
    pid: int
    beat_at: Timestamp


class Health(Out):
    ok: bool
    problem: str | None


class Status(Out):
    feeds: list[Feed]
    outbox: Backlog
    workers: list[Heartbeat]
    health: Health


class LoginIn(In):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class Me(Out):
    name: str
    role: Role
    via: str


class Session(Out):
    name: str
    role: Role
    expires_at: Timestamp
    csrf_token: str = Field(description="send as X-CSRF-Token on changes made with the cookie")


class User(Out):
    name: str
    role: Role
    created_at: Timestamp
    password_changed_at: Timestamp


class UserIn(In):
    name: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    role: Role
    password: str = Field(min_length=8, max_length=1024)


class UserPatch(In):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class Token(Out):
    id: int
    user: str
    prefix: str
    state: Literal["active", "expired", "revoked"]
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    last_used_at: Timestamp | None


class TokenIn(In):
    user: str = Field(max_length=64)
    expires: str | None = Field(
        default="90d",
        pattern=r"^[1-9][0-9]{0,5}[smhd]$",
        description="lifetime such as 90d; null for a token that lives until revoked",
    )


class IssuedToken(Token):
    token: str = Field(description="the secret: shown this once, stored only as a hash")


class AuditEntry(Out):
    id: int
    at: Timestamp
    actor: str
    action: str
    target: str
    before: dict[str, object] | None
    after: dict[str, object] | None


class AuditPage(Out):
    items: list[AuditEntry]
    next_cursor: str | None
