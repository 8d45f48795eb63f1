"""The database schema (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Every insert the pipeline makes is idempotent through a unique key: entries on
(feed_id, guid), articles on canonical_url, matches on (article_id, watchlist, term),
alerts on (watchlist, story_id), outbox rows on (alert_id, channel). An article's
content_hash is indexed, not unique: another outlet's word-for-word copy is an article of
its own (in the same story); the store drops a copy from the same feed under the advisory
lock of the hash.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CompressedBytes(TypeDecorator[bytes]):
    """Bytes stored zlib-compressed (evidence blobs), handed back as they were given."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else zlib.compress(value, 6)

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else zlib.decompress(bytes(value))


def _id() -> Column[int]:
    return Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True)


feeds = Table(
    "feeds",
    metadata,
    _id(),
    Column("url", Text, nullable=False, unique=True),
    Column("config_url", Text, unique=True),  # the URL as written in the config; NULL for CLI feeds
    # How a feed not from the config was added: cli | api | console | opml (NULL: before 0011)
    Column("origin", String(16)),
    Column("name", Text, nullable=False, default=""),
    Column("title", Text, nullable=False, default=""),  # the feed's own title
    Column("tags", JSON, nullable=False, default=list),
    Column("headers", JSON, nullable=False, default=dict),
    Column("interval_seconds", Float),  # per-feed override
    Column("fetch_articles", Boolean),  # per-feed override; NULL = polling.fetch_articles
    Column("silent_after_seconds", Float),
    Column("state", String(16), nullable=False, default="ok"),  # ok|erroring|retired|disabled
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_body_hash", String(32)),
    Column("next_poll_at", UTCDateTime, nullable=False),
    Column("retry_after_until", UTCDateTime),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    # What the last poll that read the feed left undone: entries that failed, entries deferred.
    Column("note", Text),
    Column("first_404_at", UTCDateTime),
    Column("last_poll_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_new_at", UTCDateTime),
    Column("mean_gap_seconds", Float),  # smoothed gap between polls that found new entries
    Column("silent_flagged_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_feeds_due", feeds.c.state, feeds.c.next_poll_at)
# Claims walk the active feeds in next_poll_at order and stop at the batch: a partial index
# gives that order (the one above, led by state, made PostgreSQL sort every due feed).
# The predicate must match `storage.feeds.ACTIVE` word for word, literals included.
CLAIMABLE = text("state IN ('ok', 'erroring')")
Index("ix_feeds_claim", feeds.c.next_poll_at, postgresql_where=CLAIMABLE, sqlite_where=CLAIMABLE)

stories = Table(
    "stories",
    metadata,
    _id(),
    Column("title", Text, nullable=False, default=""),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("article_count", Integer, nullable=False, default=1),
    Column("representative_article_id", BigInteger),
)
Index("ix_stories_first_seen", stories.c.first_seen)

articles = Table(
    "articles",
    metadata,
    _id(),
    Column("feed_id", BigInteger, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("guid", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text, nullable=False, unique=True),  # the dedupe key (normalised)
    # The address the key was made from, to show and follow: the page's declared canonical URL
    # (same site), else the fetched URL (migration 0009 filled older rows with `url`).
    Column("canonical_link", Text, nullable=False, server_default=""),
    Column("title", Text, nullable=False, default=""),
    Column("author", Text, nullable=False, default=""),
    Column("published_at", UTCDateTime),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("text", Text),  # NULL once retention pruned it
    Column("language", String(16), nullable=False, default=""),
    Column("content_hash", String(32), nullable=False),
    Column("story_id", BigInteger, ForeignKey("stories.id"), nullable=False),
    Column("signature", LargeBinary),  # packed MinHash signature (dedupe.pack_signature)
    sqlite_autoincrement=True,  # an id is never given again once its article is deleted
)
Index("ix_articles_fetched_at", articles.c.fetched_at)
Index("ix_articles_feed_id", articles.c.feed_id, articles.c.fetched_at)
Index("ix_articles_story_id", articles.c.story_id)
Index("ix_articles_content_hash", articles.c.content_hash)

# Every (feed, guid) the poller has seen, stored or dropped as a duplicate, so a
# duplicate entry is not fetched again on the next poll.
entries = Table(
    "entries",
    metadata,
    _id(),
    Column("feed_id", BigInteger, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("guid", Text, nullable=False),
    Column("article_id", BigInteger, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("duplicate_of", String(16)),  # NULL, or the dedupe key that dropped it
    Column("error", Text),  # why the entry could not be stored (its feed's other entries were)
    Column("seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("feed_id", "guid", name="uq_entries_feed_guid"),
)
Index("ix_entries_article_id", entries.c.article_id)

# Near-duplicate candidate index: LSH band keys of recent articles.
story_bands = Table(
    "story_bands",
    metadata,
    Column("band_key", String(40), nullable=False),
    Column("article_id", BigInteger, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("story_id", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("band_key", "article_id", name="uq_story_bands_key_article"),
)
Index("ix_story_bands_created_at", story_bands.c.created_at)
# Candidate lookup: band keys within the window, answered from the index alone.
Index(
    "ix_story_bands_lookup",
    story_bands.c.band_key,
    story_bands.c.created_at,
    story_bands.c.article_id,
)
Index("ix_story_bands_article_id", story_bands.c.article_id)
Index("ix_story_bands_story_id", story_bands.c.story_id, story_bands.c.band_key)

matches = Table(
    "matches",
    metadata,
    _id(),
    Column("article_id", BigInteger, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("watchlist", Text, nullable=False),
    Column("term", Text, nullable=False),
    Column("actor", Text),
    Column("normalized", Text, nullable=False),
    Column("count", Integer, nullable=False),
    # [[start, end], ...] into title + "\n\n" + text (+ "\n\n" + summary: match.matching_body)
    Column("offsets", JSON, nullable=False),
    Column("language", String(16), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("article_id", "watchlist", "term", name="uq_matches_article_watchlist_term"),
)
Index("ix_matches_watchlist", matches.c.watchlist, matches.c.created_at)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(40), primary_key=True),  # alt_… derived from (watchlist, story)
    Column("watchlist", Text, nullable=False),
    Column("story_id", BigInteger, ForeignKey("stories.id"), nullable=False),
    Column("article_id", BigInteger, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("severity", String(16), nullable=False),
    Column("matches", JSON, nullable=False),  # [{"term", "actor", "count"}]
    Column("snippets", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("watchlist_version", Integer),  # watchlist_versions.version that raised it
    # triage: new | acknowledged | dismissed | false_positive, by whom, when, with a note
    Column("triage_state", String(16), nullable=False, server_default="new"),
    Column("triage_note", Text),
    Column("triage_by", Text),
    Column("triage_at", UTCDateTime),
    # The article's url, title, published_at, language, feed_url, feed_name when the alert was
    # raised: shown once the article is gone (`feeds remove`, retention).
    Column("article_snapshot", JSON),
    UniqueConstraint("watchlist", "story_id", name="uq_alerts_watchlist_story"),
)
Index("ix_alerts_created_at", alerts.c.created_at)
Index("ix_alerts_triage_state", alerts.c.triage_state, alerts.c.created_at)
Index("ix_alerts_article_id", alerts.c.article_id)
Index("ix_alerts_story_id", alerts.c.story_id)

# Evidence (`storage.evidence`): what an alerted story's articles looked like when fetched.
# Blobs are content-addressed (sha256 of the uncompressed bytes) and shared by snapshots;
# snapshots outlive their article (retention deletes articles, not evidence).
evidence_blobs = Table(
    "evidence_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),  # uncompressed bytes
    Column("data", CompressedBytes, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

evidence_snapshots = Table(
    "evidence_snapshots",
    metadata,
    _id(),
    Column("story_id", BigInteger, ForeignKey("stories.id"), nullable=False),
    Column(
        "article_id",
        BigInteger,
        ForeignKey("articles.id", ondelete="SET NULL"),
        unique=True,
    ),
    Column("request_url", Text),  # NULL when no page was fetched (the feed's text was kept)
    Column("final_url", Text),
    Column("peer_ip", String(64)),
    Column("status", Integer),
    Column("exchanges", JSON, nullable=False),  # every hop: request and response headers
    Column("body_sha256", String(64), nullable=False),  # evidence_blobs key of the kept body
    Column("received_sha256", String(64)),  # of the whole body as received
    Column("received_bytes", BigInteger, nullable=False, default=0),
    Column("cut_note", Text, nullable=False, default=""),
    Column("text_sha256", String(64), nullable=False),  # evidence_blobs key of the text
    Column("meta", JSON, nullable=False),  # the article's metadata as stored
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_evidence_snapshots_story_id", evidence_snapshots.c.story_id)
Index("ix_evidence_snapshots_created_at", evidence_snapshots.c.created_at)

# Every distinct watchlist definition loaded, once (`storage.watchlist_versions`).
watchlist_versions = Table(
    "watchlist_versions",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),  # of the canonical JSON
    Column("definition", Text, nullable=False),  # the canonical JSON itself
    Column("first_loaded_at", UTCDateTime, nullable=False),
    Column("last_loaded_at", UTCDateTime, nullable=False),
    Column("host", Text, nullable=False),
    UniqueConstraint("name", "version", name="uq_watchlist_versions_name_version"),
    UniqueConstraint("name", "sha256", name="uq_watchlist_versions_name_sha256"),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("message_id", String(48), nullable=False, unique=True),  # webhook-id / Message-ID
    Column("alert_id", String(40), ForeignKey("alerts.id", ondelete="CASCADE")),
    Column("channel", Text, nullable=False),
    Column("kind", String(16), nullable=False, default="alert"),  # alert|digest|summary|system
    Column("body", Text, nullable=False),  # rendered once; sent unchanged on every retry
    # pending | held (waits for a digest or a throttle summary) | sent | dead | rolled (in a digest)
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    # `attempts` when last requeued (`alerts retry`): attempts count on, the budget restarts
    Column("retried_from", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    UniqueConstraint("alert_id", "channel", name="uq_outbox_alert_channel"),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)

channel_state = Table(
    "channel_state",
    metadata,
    Column("name", Text, primary_key=True),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", Text),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("worker", String(64), primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
)

# One row, written by migration 0008: this database's random id, mixed into alert ids so no
# two databases (a rebuild, a second installation, the demo) ever hand out the same id.
installation = Table(
    "installation",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Cluster-wide singleton jobs (digests, retention, stats): one lease row per job.
periodic_tasks = Table(
    "periodic_tasks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    Column("last_run_at", UTCDateTime),
    Column("next_run_at", UTCDateTime),
)

# Stories and outlets per watchlist (actor "" = the whole watchlist) per UTC hour, derived
# from stored matches by the trends job (`storage.trends.refresh_counts`); kept after
# retention deletes the articles, so baselines outlive the article text.
trend_counts = Table(
    "trend_counts",
    metadata,
    Column("watchlist", Text, primary_key=True),
    Column("actor", Text, primary_key=True),
    Column("hour", UTCDateTime, primary_key=True),
    Column("stories", Integer, nullable=False),
    Column("outlets", Integer, nullable=False),
)
Index("ix_trend_counts_hour", trend_counts.c.hour)

# Surge and quiet episodes: one row per episode, its alert raised when the row is inserted.
# At most one open episode (ended_at NULL) per (type, subject): the unique key that keeps a
# restart or a second worker from raising the same episode twice.
OPEN_EPISODE = text("ended_at IS NULL")
trend_episodes = Table(
    "trend_episodes",
    metadata,
    Column("id", String(40), primary_key=True),  # srg_… / qui_… derived from the episode
    Column("type", String(32), nullable=False),  # watchlist.surge|watchlist.quiet|coverage.quiet
    Column("subject", Text, nullable=False),  # the watchlist name or the feed tag
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("payload", JSON, nullable=False),  # the alert payload as sent
    Column("created_at", UTCDateTime, nullable=False),
)
Index(
    "uq_trend_episodes_open",
    trend_episodes.c.type,
    trend_episodes.c.subject,
    unique=True,
    postgresql_where=OPEN_EPISODE,
    sqlite_where=OPEN_EPISODE,
)
Index("ix_trend_episodes_subject", trend_episodes.c.subject, trend_episodes.c.started_at)

# Accounts of the HTTP API and console. Passwords are argon2 hashes; tokens and session ids
# are random and only their SHA-256 is stored (a lookup key that reveals nothing).
users = Table(
    "users",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # viewer | analyst | admin
    Column("password_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # shown in lists to tell tokens apart
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
Index("ix_sessions_user_id", sessions.c.user_id)

# Every change made through a face: who, what, when, the record before and after.
audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("before", JSON),
    Column("after", JSON),
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_target", audit_log.c.target, audit_log.c.at)
# The trends job finds matches stored since its watermark (a backfill's among them).
Index("ix_matches_created_at", matches.c.created_at)
