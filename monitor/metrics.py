"""Prometheus metrics of one process, in a dedicated registry (never the client's global one).

The pipeline reports its work through the small functions at the bottom of this module
(`poll_finished`, `article_stored`, `delivered` …); they only bump in-memory counters, so
they are safe to call anywhere. Cluster state that lives in the database (feeds by state,
due and claimed feeds, the outbox backlog) is read by a periodic job every few seconds and
set with `cluster_state`, so a scrape never queries the database. Those gauges describe the
whole cluster: every worker reports the same values (aggregate them with `max`, not `sum`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# No `*_created` series: they would double the exposition for no use here.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
FEED_STATES = ("ok", "erroring", "retired", "disabled")
OUTBOX_STATES = ("pending", "held", "dead")
# From a minute to a few days: how long after publication an article is seen and alerted.
_LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, 259200)
_STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_EXTRACT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


@dataclass(frozen=True, slots=True)
class ClusterState:
    """What the database says about the whole cluster at one moment."""

    feeds_by_state: Mapping[str, int] = field(default_factory=dict)
    feeds_due: int = 0
    feeds_claimed: int = 0
    outbox_by_status: Mapping[str, int] = field(default_factory=dict)
    oldest_pending_age: float = 0.0  # seconds; 0 when nothing is pending


def _seconds(later: datetime, earlier: datetime | None) -> float | None:
    if earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


class Metrics:
    """Every metric of one process, registered in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._pipeline_metrics()
        self._delivery_metrics()
        self._cluster_metrics()
        self.last_tick_at: datetime | None = None

    def _counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, doc, labels, registry=self.registry)

    def _histogram(
        self, name: str, doc: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()
    ) -> Histogram:
        return Histogram(name, doc, labels, buckets=buckets, registry=self.registry)

    def _gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, labels, registry=self.registry)

    def _pipeline_metrics(self) -> None:
        self.polls = self._counter(
            "monitor_polls",
            "Feed polls by outcome (new, unchanged, not_modified, error).",
            ("outcome",),
        )
        self.http = self._counter(
            "monitor_http_responses",
            "HTTP responses by request kind (feed, page) and status ('error': no response).",
            ("kind", "status"),
        )
        self.bytes = self._counter(
            "monitor_fetched_bytes", "Body bytes fetched, by request kind.", ("kind",)
        )
        self.extraction = self._histogram(
            "monitor_extraction_seconds", "Article body extraction time.", _EXTRACT_BUCKETS
        )
        self.stored = self._counter("monitor_articles_stored", "Articles stored.")
        self.duplicates = self._counter(
            "monitor_duplicates_dropped",
            "Entries dropped as duplicates, by the key that caught them (guid, url, hash).",
            ("kind",),
        )
        self.matches = self._counter(
            "monitor_matches", "Stored articles a watchlist matched.", ("watchlist",)
        )
        self.alerts = self._counter("monitor_alerts", "Alerts raised.", ("watchlist",))
        self.published_to_fetched = self._histogram(
            "monitor_published_to_fetched_seconds",
            "From an entry's publication time to its fetch.",
            _LAG_BUCKETS,
        )
        self.fetched_to_stored = self._histogram(
            "monitor_fetched_to_stored_seconds",
            "From an article's fetch to its commit.",
            _STEP_BUCKETS,
        )
        self.lease_steals = self._counter(
            "monitor_lease_steals",
            "Work claimed from an expired lease of another worker (feed, outbox).",
            ("kind",),
        )

    def _delivery_metrics(self) -> None:
        self.deliveries = self._counter(
            "monitor_deliveries",
            "Delivery attempts by channel and outcome (sent, retry, dead, disabled).",
            ("channel", "outcome"),
        )
        self.stored_to_delivered = self._histogram(
            "monitor_stored_to_delivered_seconds",
            "From an outbox row's creation (the article's commit) to its delivery.",
            _STEP_BUCKETS,
        )
        self.time_to_alert = self._histogram(
            "monitor_published_to_delivered_seconds",
            "From the article's publication time to the alert's delivery.",
            _LAG_BUCKETS,
        )

    def _cluster_metrics(self) -> None:
        self.feeds = self._gauge("monitor_feeds", "Feeds by state (whole cluster).", ("state",))
        self.feeds_due = self._gauge("monitor_feeds_due", "Active feeds due now, not leased.")
        self.feeds_claimed = self._gauge(
            "monitor_feeds_claimed", "Feeds under an unexpired lease (being polled)."
        )
        self.outbox = self._gauge(
            "monitor_outbox_backlog", "Outbox rows by status (whole cluster).", ("status",)
        )
        self.outbox_oldest = self._gauge(
            "monitor_outbox_oldest_pending_seconds", "Age of the oldest pending outbox row."
        )
        self.state_age = self._gauge(
            "monitor_cluster_state_timestamp_seconds",
            "When the cluster gauges were last read from the database.",
        )
        self.tick = self._gauge(
            "monitor_last_tick_timestamp_seconds", "When this worker's scheduler last ticked."
        )

    # --- what the pipeline calls -------------------------------------------------------

    def poll_finished(self, outcome: str) -> None:
        """One feed poll ended: new, unchanged, not_modified or error."""
        self.polls.labels(outcome).inc()

    def http_response(self, kind: str, status: int | None, nbytes: int = 0) -> None:
        """A feed or page request ended with `status` (None: no response) and a body."""
        self.http.labels(kind, str(status) if status is not None else "error").inc()
        if nbytes:
            self.bytes.labels(kind).inc(nbytes)

    def extracted(self, seconds: float) -> None:
        self.extraction.observe(seconds)

    def article_stored(
        self, *, published_at: datetime | None, fetched_at: datetime, stored_at: datetime
    ) -> None:
        """An article committed; observes publication → fetch and fetch → commit."""
        self.stored.inc()
        lag = _seconds(fetched_at, published_at)
        if lag is not None:
            self.published_to_fetched.observe(lag)
        self.fetched_to_stored.observe(_seconds(stored_at, fetched_at) or 0.0)

    def duplicate_dropped(self, kind: str) -> None:
        self.duplicates.labels(kind).inc()

    def matched(self, watchlist: str) -> None:
        self.matches.labels(watchlist).inc()

    def alert_raised(self, watchlist: str) -> None:
        self.alerts.labels(watchlist).inc()

    def leases_stolen(self, kind: str, count: int) -> None:
        if count:
            self.lease_steals.labels(kind).inc(count)

    def delivered(
        self,
        channel: str,
        outcome: str,
        *,
        now: datetime | None = None,
        created_at: datetime | None = None,
        published_at: datetime | None = None,
    ) -> None:
        """A delivery attempt ended; on `sent`, observe the time since commit and publication."""
        self.deliveries.labels(channel, outcome).inc()
        if outcome != "sent" or now is None:
            return
        since_stored = _seconds(now, created_at)
        if since_stored is not None:
            self.stored_to_delivered.observe(since_stored)
        since_published = _seconds(now, published_at)
        if since_published is not None:
            self.time_to_alert.observe(since_published)

    def ticked(self, now: datetime) -> None:
        """The scheduler ticked (the database answered): `/readyz` checks this is recent."""
        self.last_tick_at = now
        self.tick.set(now.timestamp())

    def cluster_state(self, state: ClusterState, now: datetime) -> None:
        """Set the cluster gauges from one read of the database."""
        for name in {*FEED_STATES, *state.feeds_by_state}:
            self.feeds.labels(name).set(state.feeds_by_state.get(name, 0))
        self.feeds_due.set(state.feeds_due)
        self.feeds_claimed.set(state.feeds_claimed)
        for name in OUTBOX_STATES:
            self.outbox.labels(name).set(state.outbox_by_status.get(name, 0))
        self.outbox_oldest.set(state.oldest_pending_age)
        self.state_age.set(now.timestamp())

    def exposition(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


METRICS = Metrics()

poll_finished = METRICS.poll_finished
http_response = METRICS.http_response
extracted = METRICS.extracted
article_stored = METRICS.article_stored
duplicate_dropped = METRICS.duplicate_dropped
matched = METRICS.matched
alert_raised = METRICS.alert_raised
leases_stolen = METRICS.leases_stolen
delivered = METRICS.delivered
ticked = METRICS.ticked
cluster_state = METRICS.cluster_state
