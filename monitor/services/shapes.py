"""The JSON form of every record the use cases return: the one shape `--json`, the REST API
and (for an alert, through `notify.payload.alert_payload`) the webhook body share.

`to_json(record)` gives plain JSON-ready values: dicts, lists, strings, numbers, None; times
as ISO 8601 UTC with a Z.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from functools import singledispatch
from typing import Any

from monitor.models import TermCount, WatchlistMatch
from monitor.notify.payload import ArticleRef, alert_payload
from monitor.pipeline.snippets import highlight_spans
from monitor.services.accounts import User
from monitor.services.audit import AuditEntry, AuditPage
from monitor.services.records import (
    Alert,
    AlertDetail,
    AlertPage,
    ArticleDetail,
    BackfillReport,
    Channel,
    Delivery,
    FeedAdded,
    FeedStatus,
    FoundArticle,
    Health,
    SearchResult,
    Status,
    StoryDetail,
    StorySummary,
    Triage,
    WatchlistTest,
)
from monitor.services.tokens import IssuedToken, TokenInfo
from monitor.services.trends import TrendPoint, WatchlistTrend
from monitor.services.triage import Precision
from monitor.storage.episodes import Episode
from monitor.units import iso_z


def marks(snippet: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where to mark matched terms inside a snippet: [start, end) ranges, the same the email
    and every face use (matching as watchlists do, case aside)."""
    return highlight_spans(snippet, terms)


def _fields(record: Any) -> dict[str, Any]:
    """Each field of a record under its own name, in its JSON form."""
    return {f.name: to_json(getattr(record, f.name)) for f in dataclasses.fields(record)}


@singledispatch
def to_json(record: Any) -> Any:
    """The JSON form of a record: by default each field under its own name, times as ISO
    8601 UTC with a Z, tuples as lists, nested records in their own JSON form; the records
    registered below differ from that default."""
    if isinstance(record, tuple | list):
        return [to_json(item) for item in record]
    if isinstance(record, datetime):
        return iso_z(record)
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return _fields(record)
    if record is None or isinstance(record, str | int | float | bool):
        return record
    raise TypeError(f"no JSON form for {type(record).__name__}")


def _terms(matches: Sequence[TermCount]) -> list[dict[str, Any]]:
    return [{"term": m.term, "actor": m.actor, "count": m.count} for m in matches]


@to_json.register
def _article_detail(record: ArticleDetail) -> dict[str, Any]:
    return _fields(record.article) | {
        "author": record.author,
        "summary": record.summary,
        "text": record.text,
        "matches": [
            {"watchlist": m.watchlist, "term": m.term, "actor": m.actor, "count": m.count}
            for m in record.matches
        ],
        "story": {"id": record.story.id, "articles": record.story.articles},
    }


@to_json.register
def _found(record: FoundArticle) -> dict[str, Any]:
    return _fields(record.article) | {"snippet": record.snippet}


@to_json.register
def _search(record: SearchResult) -> dict[str, Any]:
    return {
        "articles": [_found(a) for a in record.articles],
        "method": record.method,
        "candidates": record.candidates,
    }


@to_json.register
def _story_detail(record: StoryDetail) -> dict[str, Any]:
    head = StorySummary(
        record.id,
        record.title,
        record.first_seen,
        record.last_seen,
        record.articles,
        record.outlets,
    )
    return _fields(head) | {
        "outlet_names": list(record.outlet_names),
        "items": to_json(record.items),
    }


def alert_json(record: Alert) -> dict[str, Any]:
    """The §4 alert payload (what the webhook carries), with the live story size."""
    row = {
        "id": record.id,
        "created_at": record.created_at,
        "watchlist": record.watchlist,
        "severity": record.severity,
        "matches": _terms(record.matches),
        "snippets": record.snippets,
        "story_id": record.story.id,
        "watchlist_version": record.watchlist_version,
    }
    article = record.article
    ref = ArticleRef(
        article.id,
        article.url,
        article.title,
        article.published_at,
        article.language,
        article.feed.url,
        article.feed.name,
    )
    return alert_payload(row, ref, record.story.articles, record.evidence)


@to_json.register
def _alert(record: Alert) -> dict[str, Any]:
    return alert_json(record) | {
        "deliveries": to_json(record.deliveries),
        "triage": _triage(record.triage),
    }


@to_json.register
def _alert_page(record: AlertPage) -> dict[str, Any]:
    return {"items": [_alert(a) for a in record.items], "next_cursor": record.next_cursor}


@to_json.register
def _alert_detail(record: AlertDetail) -> dict[str, Any]:
    copies = to_json(record.story.items) if record.story else []
    return _alert(record.alert) | {"copies": copies}


@to_json.register
def _delivery(record: Delivery) -> dict[str, Any]:
    # Only a delivery still to be tried has a next attempt (not a sent, dead or rolled one).
    waiting = record.status in ("pending", "held")
    return _fields(record) | {
        "next_attempt_at": to_json(record.next_attempt_at) if waiting else None
    }


@to_json.register
def _feed(record: FeedStatus) -> dict[str, Any]:
    fields = _fields(record)
    del fields["origin"]  # shown as `source`
    return fields | {"source": record.source}


@to_json.register
def _feed_added(record: FeedAdded) -> dict[str, Any]:
    return _feed(record.feed) | {"given": record.given}


def match_json(match: WatchlistMatch, *, title: str = "") -> dict[str, Any]:
    """One watchlist that matched a tested text (`watchlists test --json` element); each hit
    with the matching rule that produced it and its offsets into the tested text — into
    `title + "\n\n" + body` when the test had a title (a fetched page), else into the body."""
    shift = 0 if title else len("\n\n")  # the matcher reads title + "\n\n" + body
    return {
        "watchlist": match.watchlist,
        "matches": _terms(match.matches),
        "snippets": list(match.snippets),
        "hits": [
            {
                "term": h.term,
                "actor": h.actor,
                "start": h.start - shift,
                "end": h.end - shift,
                "rule": h.rule,
            }
            for h in match.hits
        ],
    }


@to_json.register
def _test(record: WatchlistTest) -> dict[str, Any]:
    return {
        "language": record.language,
        "matches": [match_json(m, title=record.title) for m in record.matches],
        "unapplied": list(record.unapplied),
    }


@to_json.register
def _backfill(record: BackfillReport) -> dict[str, Any]:
    return {
        "watchlist": record.watchlist,
        "dry_run": record.dry_run,
        "scanned": record.scanned,
        "matched": record.matched,
        "new_alerts": record.new_alerts,
        "terms": [
            {"term": t.term, "actor": t.actor, "hits": t.hits, "articles": t.articles}
            for t in record.terms
        ],
        "snippets": list(record.snippets),
        "articles": list(record.would_alert),
    }


@to_json.register
def _channel(record: Channel) -> dict[str, Any]:
    return {
        "name": record.name,
        "type": record.type,
        "digest_seconds": record.digest_seconds,
        "max_per_hour": record.max_per_hour,
        "state": "disabled" if record.disabled_reason is not None else "ok",
        "disabled_reason": record.disabled_reason,
    }


@to_json.register
def _health(record: Health) -> dict[str, Any]:
    return {"ok": record.ok, "problem": record.problem}


@to_json.register
def _status(record: Status) -> dict[str, Any]:
    return {
        "feeds": [_feed(f) for f in record.feeds],
        "outbox": to_json(record.backlog),
        "workers": to_json(record.heartbeats),
        "health": _health(record.health),
    }


# Accounts, audit and triage (`services.users`, `tokens`, `audit`, `triage`).


@to_json.register
def _user(record: User) -> dict[str, Any]:
    return {
        "name": record.name,
        "role": record.role,
        "created_at": iso_z(record.created_at),
        "password_changed_at": iso_z(record.password_changed_at),
    }


def token_json(record: TokenInfo, now: datetime) -> dict[str, Any]:
    """A token as lists show it: its prefix and state at `now`, never the secret."""
    return {
        "id": record.id,
        "user": record.user,
        "prefix": record.prefix,
        "state": record.state(now),
        "created_at": iso_z(record.created_at),
        "expires_at": iso_z(record.expires_at),
        "revoked_at": iso_z(record.revoked_at),
        "last_used_at": iso_z(record.last_used_at),
    }


def issued_token_json(record: IssuedToken, now: datetime) -> dict[str, Any]:
    """A token just created, with its secret (shown this once)."""
    return token_json(record.info, now) | {"token": record.secret}


@to_json.register
def _audit(record: AuditEntry) -> dict[str, Any]:
    return {
        "id": record.id,
        "at": iso_z(record.at),
        "actor": record.actor,
        "action": record.action,
        "target": record.target,
        "before": record.before,
        "after": record.after,
    }


@to_json.register
def _audit_page(record: AuditPage) -> dict[str, Any]:
    return {"items": [_audit(e) for e in record.items], "next_cursor": record.next_cursor}


@to_json.register
def _triage(record: Triage) -> dict[str, Any]:
    return {"state": record.state, "note": record.note, "by": record.by, "at": iso_z(record.at)}


@to_json.register
def _precision(record: Precision) -> dict[str, Any]:
    return {
        "triaged": record.triaged,
        "false_positives": record.false_positives,
        "precision": record.precision,
    }


@to_json.register
def _trend_point(record: TrendPoint) -> dict[str, Any]:
    return {
        "start": iso_z(record.start),
        "stories": record.stories,
        "outlets": record.outlets,
        "expected": None if record.expected is None else round(record.expected, 3),
        "band": None if record.band is None else list(record.band),
        "surge": record.surge,
    }


@to_json.register
def _episode(record: Episode) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": record.type,
        "subject": record.subject,
        "started_at": iso_z(record.started_at),
        "ended_at": iso_z(record.ended_at),
        "payload": dict(record.payload),
    }


@to_json.register
def _watchlist_trend(record: WatchlistTrend) -> dict[str, Any]:
    return {
        "watchlist": record.watchlist,
        "actor": record.actor,
        "actors": list(record.actors),
        "by": record.by,
        "surge_detection": record.surge,
        "points": [_trend_point(p) for p in record.points],
        "episodes": [_episode(e) for e in record.episodes],
    }
