"""Pure alert payloads: derived ids, the alert payload (README, "Alert payload") and its JSON, digest and test payloads,
and the alert + outbox rows an article's watchlist match writes (`alert_rows`).

Nothing here reads a clock or the environment: every time comes in as `now`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config import ChannelConfig
from monitor.models import AlertContext, EvidenceRef, WatchlistMatch
from monitor.notify.digest import Rollup, period_bounds
from monitor.pipeline.snippets import highlight_spans
from monitor.textcaps import SNIPPET_CHARS, TITLE_CHARS, clip
from monitor.units import iso_z

# Crockford's base32 alphabet: lower case, no i/l/o/u, so ids read and copy cleanly.
_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghjkmnpqrstvwxyz")

ALERT_TYPE = "alert.created"
DIGEST_TYPE = "alert.digest"
SUMMARY_TYPE = "alert.summary"
TEST_TYPE = "channel.test"


def derive_id(prefix: str, *parts: str, length: int = 16) -> str:
    """`prefix` + `length` base32 characters of a BLAKE2b hash of `parts` (deterministic)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=10).digest()
    return prefix + base64.b32encode(digest).decode("ascii").translate(_CROCKFORD)[:length]


def alert_id(installation: str, watchlist: str, story_id: int) -> str:
    """The alert id of a (watchlist, story) in one database: the same on every retry, restart
    and re-run, and never the id of an alert of another database (`installation` is random)."""
    return derive_id("alt_", installation, watchlist, str(story_id))


def channel_message_id(alert: str, channel: str) -> str:
    """The outbox message id of an alert on one channel (unique per row, stable per alert)."""
    return f"{alert}.{derive_id('', channel, length=8)}"


def render_json(payload: Mapping[str, Any]) -> str:
    """The JSON text of a payload, rendered once and stored (UTF-8, compact, key order kept)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """What the payload says about the article that raised an alert."""

    id: int | None
    url: str
    title: str
    published_at: datetime | None
    language: str
    feed_url: str
    feed_name: str

    @classmethod
    def from_context(cls, context: AlertContext) -> ArticleRef:
        article = context.article
        return cls(
            id=context.article_id,
            url=article.url,
            title=article.title,
            published_at=article.published_at,
            language=article.language,
            feed_url=context.feed_url,
            feed_name=context.feed_name,
        )


def alert_row(match: WatchlistMatch, context: AlertContext, now: datetime) -> dict[str, Any]:
    """The `alerts` row of a watchlist match on an article of a story."""
    return {
        "id": alert_id(context.installation, match.watchlist, context.story_id),
        "watchlist": match.watchlist,
        "story_id": context.story_id,
        "article_id": context.article_id,
        "severity": match.severity,
        "matches": [{"term": m.term, "actor": m.actor, "count": m.count} for m in match.matches],
        "snippets": [clip(s, SNIPPET_CHARS) for s in match.snippets],
        "created_at": now,
        "article_snapshot": article_snapshot(ArticleRef.from_context(context)),
        "watchlist_version": match.version,
    }


def article_snapshot(article: ArticleRef) -> dict[str, Any]:
    """What an alert keeps of its article, for when the article is deleted."""
    return {
        "url": article.url,
        "title": article.title,
        "published_at": iso_z(article.published_at),
        "language": article.language,
        "feed_url": article.feed_url,
        "feed_name": article.feed_name,
    }


def evidence_payload(
    alert: str, watchlist_version: int | None, refs: Sequence[EvidenceRef]
) -> dict[str, Any]:
    """The payload's `evidence`: what was kept of each article of the story (sha256 of the
    response body as received and of the text as stored), the watchlist version that
    raised the alert, and the command that exports it all as WARC."""
    return {
        "watchlist_version": watchlist_version,
        "articles": [
            {
                "article_id": ref.article_id,
                "url": ref.url,
                "final_url": ref.final_url,
                "status": ref.status,
                "fetched_at": iso_z(ref.fetched_at),
                "response_sha256": ref.response_sha256,
                "text_sha256": ref.text_sha256,
                "truncated": ref.truncated,
            }
            for ref in refs
        ],
        "export": f"monitor evidence export {alert} -o {alert}.warc.gz",
        "api": f"/api/v1/alerts/{alert}/evidence",
    }


def alert_payload(
    alert: Mapping[str, Any],
    article: ArticleRef,
    story_articles: int,
    evidence: Sequence[EvidenceRef] = (),
) -> dict[str, Any]:
    """The alert payload of an alert row (also each element of `alerts list --json`), with
    the README's `evidence` extension; titles and snippets cut to their caps
    (`monitor.textcaps`), rows stored before too."""
    return {
        "id": alert["id"],
        "type": ALERT_TYPE,
        "created_at": iso_z(alert["created_at"]),
        "watchlist": alert["watchlist"],
        "severity": alert["severity"],
        "matches": [
            {"term": m["term"], "actor": m["actor"], "count": m["count"]} for m in alert["matches"]
        ],
        "snippets": [clip(s, SNIPPET_CHARS) for s in alert["snippets"]],
        "article": {
            "id": article.id,
            "url": article.url,
            "title": clip(article.title, TITLE_CHARS),
            "published_at": iso_z(article.published_at),
            "language": article.language,
            "feed": {"url": article.feed_url, "name": clip(article.feed_name, TITLE_CHARS)},
        },
        "story": {"id": alert["story_id"], "articles": story_articles},
        "evidence": evidence_payload(alert["id"], alert.get("watchlist_version"), evidence),
    }


def outbox_row(
    *,
    message_id: str,
    channel: str,
    kind: str,
    body: str,
    now: datetime,
    alert: str | None = None,
    held_until: datetime | None = None,
) -> dict[str, Any]:
    """An `outbox` row: due now, or held until `held_until` when it waits for a digest."""
    return {
        "message_id": message_id,
        "alert_id": alert,
        "channel": channel,
        "kind": kind,
        "body": body,
        "status": "held" if held_until else "pending",
        "attempts": 0,
        "next_attempt_at": held_until or now,
        "created_at": now,
    }


def digest_due(channel: ChannelConfig, now: datetime) -> datetime | None:
    """When a channel's digest covering `now` is sent, or None for a per-alert channel."""
    if channel.digest is None:
        return None
    return period_bounds(now, channel.digest, ZoneInfo(channel.digest_timezone))[1]


def alert_rows(
    match: WatchlistMatch,
    context: AlertContext,
    channels: Mapping[str, ChannelConfig],
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The alert row and one outbox row per channel of the watchlist, body rendered once.

    Every channel stores the §4 payload JSON: webhooks send it as is, email renders its mail
    from it at send time (so a retry renders the same mail). Digest channels hold the row
    until the end of the digest period.
    """
    row = alert_row(match, context, now)
    article = ArticleRef.from_context(context)
    body = render_json(alert_payload(row, article, context.story_articles, context.evidence))
    rows = [
        outbox_row(
            message_id=channel_message_id(row["id"], name),
            channel=name,
            kind="alert",
            body=body,
            now=now,
            alert=row["id"],
            held_until=digest_due(channels[name], now),
        )
        for name in dict.fromkeys(match.channels)
        if name in channels
    ]
    return row, rows


def digest_payload(
    *,
    digest_id: str,
    summary: bool,
    channel: str,
    period: tuple[datetime, datetime],
    timezone: str,
    alerts: Sequence[Mapping[str, Any]],
    now: datetime,
    limit: int = 0,
) -> dict[str, Any]:
    """A digest (one period's alerts) or a throttle summary (alerts past max_per_hour)."""
    payload: dict[str, Any] = {
        "id": digest_id,
        "type": SUMMARY_TYPE if summary else DIGEST_TYPE,
        "created_at": iso_z(now),
        "channel": channel,
        "period": {"start": iso_z(period[0]), "end": iso_z(period[1]), "timezone": timezone},
        "count": len(alerts),
    }
    if summary:
        payload["rolled_up"] = len(alerts)
        payload["max_per_hour"] = limit
    payload["alerts"] = [dict(alert) for alert in alerts]
    return payload


def rollup_row(rollup: Rollup, now: datetime) -> dict[str, Any]:
    """The outbox row of a digest or summary: its own id, the held alerts' payloads inside.

    The id is derived from (channel, period end, first held row), so writing the same
    rollup twice collides on the unique message id instead of sending two digests.
    """
    end = iso_z(rollup.period[1]) or ""
    prefix = "sum_" if rollup.summary else "dig_"
    message_id = derive_id(prefix, rollup.channel, end, str(rollup.rows[0].row_id))
    payload = digest_payload(
        digest_id=message_id,
        summary=rollup.summary,
        channel=rollup.channel,
        period=rollup.period,
        timezone=rollup.timezone,
        alerts=[json.loads(row.body) for row in rollup.rows],
        now=now,
        limit=rollup.limit,
    )
    kind = "summary" if rollup.summary else "digest"
    return outbox_row(
        message_id=message_id, channel=rollup.channel, kind=kind, body=render_json(payload), now=now
    )


def group_by_watchlist(
    alerts: Sequence[Mapping[str, Any]],
) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Alerts grouped by watchlist (names sorted), each group in its original order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for alert in alerts:
        groups.setdefault(str(alert.get("watchlist", "")), []).append(alert)
    return sorted(groups.items())


def highlight(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is a matched term) segments, for <mark> and «» rendering.

    The marks are `pipeline.snippets.highlight_spans`, the highlighter every face uses, so an
    email marks the words the CLI and the console mark.
    """
    segments: list[tuple[str, bool]] = []
    position = 0
    for start, end in highlight_spans(text, terms):
        if start > position:
            segments.append((text[position:start], False))
        segments.append((text[start:end], True))
        position = end
    if position < len(text):
        segments.append((text[position:], False))
    return segments


def matched_terms(payload: Mapping[str, Any]) -> list[str]:
    """The terms of an alert payload that the snippets should highlight."""
    return [str(m["term"]) for m in payload.get("matches", ()) if m.get("term")]


def channel_test_payload(channel: str, now: datetime) -> dict[str, Any]:
    """The `channels test` payload: `{"id": "tst_…", "type": "channel.test", "created_at"}`."""
    return {
        "id": derive_id("tst_", channel, now.isoformat()),
        "type": TEST_TYPE,
        "created_at": iso_z(now),
    }
