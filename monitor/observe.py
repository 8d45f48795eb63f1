"""What the pipeline reports to the metrics: poll reports, responses, fetch errors, stored
articles and delivery attempts mapped onto `monitor.metrics`, so ingest and the delivery
worker make one call per event and never name a metric."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from monitor import metrics
from monitor.errors import FetchError, HTTPStatusError
from monitor.models import Article, Response, WatchlistMatch
from monitor.notify.base import OutboxMessage


class PollResult(Protocol):
    @property
    def error(self) -> str | None: ...
    @property
    def not_modified(self) -> bool: ...
    @property
    def stored(self) -> int: ...


class StoreOutcome(Protocol):
    @property
    def article_id(self) -> int | None: ...
    @property
    def story_id(self) -> int | None: ...
    @property
    def duplicate_of(self) -> str | None: ...
    @property
    def alerted(self) -> tuple[str, ...]: ...


def poll_outcome(report: PollResult) -> str:
    """error, not_modified (304 or the same body), new (stored something) or unchanged."""
    if report.error is not None:
        return "error"
    if report.not_modified:
        return "not_modified"
    return "new" if report.stored else "unchanged"


def poll(report: PollResult) -> None:
    """A poll ended."""
    metrics.poll_finished(poll_outcome(report))


def response(kind: str, received: Response) -> None:
    """A feed or page request got a response (2xx or 304)."""
    metrics.http_response(kind, received.status, len(received.body))


def failure(kind: str, error: BaseException) -> None:
    """A feed or page request failed: its HTTP status, or `error` when none came back.
    Errors that are not about the request (a parse error) are not counted."""
    if isinstance(error, HTTPStatusError):
        metrics.http_response(kind, error.status)
    elif isinstance(error, FetchError):
        metrics.http_response(kind, None)


@contextlib.contextmanager
def extraction() -> Iterator[None]:
    """Time one page extraction (waiting for a pool worker included)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics.extracted(time.perf_counter() - started)


def stored(
    result: StoreOutcome,
    article: Article,
    found: Sequence[WatchlistMatch],
    *,
    now: datetime,
) -> None:
    """An entry went through the write path: stored (with matches and alerts) or dropped."""
    if result.duplicate_of is not None:
        metrics.duplicate_dropped(result.duplicate_of)
    if result.article_id is None:
        return
    metrics.article_stored(
        published_at=article.published_at, fetched_at=article.fetched_at, stored_at=now
    )
    for match in found:
        metrics.matched(match.watchlist)
    for watchlist in result.alerted:
        metrics.alert_raised(watchlist)


def _published_at(message: OutboxMessage) -> datetime | None:
    if message.kind != "alert":
        return None
    try:
        published = json.loads(message.body).get("article", {}).get("published_at")
        return datetime.fromisoformat(published) if published else None
    except (ValueError, AttributeError, TypeError):
        return None


def delivered(message: OutboxMessage, now: datetime) -> None:
    """A message was accepted by its receiver: count it and how long the alert took."""
    metrics.delivered(
        message.channel,
        "sent",
        now=now,
        created_at=message.created_at,
        published_at=_published_at(message),
    )


def delivery_failed(message: OutboxMessage, outcome: str) -> None:
    """A delivery attempt failed: `retry`, `dead` (dead-lettered) or `disabled` (410)."""
    metrics.delivered(message.channel, outcome)
