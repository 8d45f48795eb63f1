"""Alerts: list (filters, cursor pages), show with deliveries and every copy of the story,
retry failed deliveries."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.config import ChannelConfig
from monitor.errors import InvalidRequest, NotFound
from monitor.models import EvidenceRef, OutboxMessage, TermCount
from monitor.notify.registry import receiver_message_id
from monitor.services.context import Context
from monitor.services.records import (
    Alert,
    AlertArticle,
    AlertDetail,
    AlertPage,
    Delivery,
    FeedRef,
    StoryRef,
    Triage,
)
from monitor.storage import alerts as store
from monitor.storage.alerts import AlertFilter
from monitor.storage.evidence import story_evidence
from monitor.storage.outbox import requeue

STATUSES = ("pending", "held", "sent", "dead", "rolled")
MAX_PAGE = 500


def encode_cursor(alert: Alert) -> str:
    """An opaque cursor after `alert` in list order."""
    raw = f"{alert.created_at.isoformat()}|{alert.id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor stands for; InvalidRequest when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, alert_id = raw.split("|", 1)
        when = datetime.fromisoformat(created_at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest(f"cursor {cursor!r} is not valid: use next_cursor of a page") from None
    if when.tzinfo is None or not alert_id:
        raise InvalidRequest(f"cursor {cursor!r} is not valid: use next_cursor of a page")
    return when, alert_id


def delivery(row: Any, channel: ChannelConfig | None = None) -> Delivery:
    """One outbox row as a Delivery; its `message_id` is the id the receiver got (on
    `channel`, the row's configured channel): the webhook-id, or the mail's Message-ID."""
    sent = OutboxMessage(row.message_id, row.channel, row.kind, row.body, alert_id=row.alert_id)
    return Delivery(
        channel=row.channel,
        message_id=receiver_message_id(channel, sent),
        status=row.status,
        attempts=int(row.attempts),
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
    )


def _article(row: Any) -> AlertArticle:
    """The alert's article: the stored one, else what the alert kept of it (the article was
    deleted with its feed, or by retention)."""
    if row.article_id is not None:
        return AlertArticle(
            id=row.article_id,
            url=row.article_url or "",
            title=row.article_title or "",
            published_at=row.article_published_at,
            language=row.article_language or "",
            feed=FeedRef(row.feed_url or "", row.feed_name or ""),
        )
    kept = row.article_snapshot or {}
    published = kept.get("published_at")
    return AlertArticle(
        id=None,
        url=str(kept.get("url") or ""),
        title=str(kept.get("title") or ""),
        published_at=datetime.fromisoformat(published) if published else None,
        language=str(kept.get("language") or ""),
        feed=FeedRef(str(kept.get("feed_url") or ""), str(kept.get("feed_name") or "")),
    )


def alert_record(
    row: Any, deliveries: tuple[Delivery, ...] = (), evidence: Sequence[EvidenceRef] = ()
) -> Alert:
    """An alert row (`storage.alerts`) as a record, with the evidence kept for its story."""
    return Alert(
        id=row.id,
        created_at=row.created_at,
        watchlist=row.watchlist,
        severity=row.severity,
        matches=tuple(TermCount(m["term"], m["actor"], int(m["count"])) for m in row.matches),
        snippets=tuple(row.snippets),
        article=_article(row),
        story=StoryRef(row.story_id, int(row.story_articles)),
        deliveries=deliveries,
        triage=Triage(row.triage_state, row.triage_note, row.triage_by, row.triage_at),
        watchlist_version=row.watchlist_version,
        evidence=tuple(evidence),
    )


class Alerts:
    """Alerts and their deliveries."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def list(
        self,
        *,
        since: datetime | None = None,
        watchlist: str | None = None,
        status: str | None = None,
        language: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        triage: str | None = None,
    ) -> AlertPage:
        """Alerts newest first with their deliveries; `status` keeps alerts with a delivery
        in that state. InvalidRequest for an unknown status or a bad cursor."""
        if status and status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be 1 to {MAX_PAGE}")
        after = decode_cursor(cursor) if cursor else None
        wanted = AlertFilter(since, watchlist, status, language, after, triage)
        async with self.ctx.read() as conn:
            if watchlist:
                await self._known_watchlist(conn, watchlist)
            rows = await store.list_alerts(conn, wanted, limit=limit + 1)
            sent = await store.deliveries(conn, [row.id for row in rows[:limit]])
            kept = await story_evidence(conn, [row.story_id for row in rows[:limit]])
        by_alert: dict[str, list[Delivery]] = {}
        for row in sent:
            by_alert.setdefault(row.alert_id, []).append(self._delivery(row))
        items = tuple(
            alert_record(r, tuple(by_alert.get(r.id, ())), kept[r.story_id]) for r in rows[:limit]
        )
        more = len(rows) > limit
        return AlertPage(items, encode_cursor(items[-1]) if more and items else None)

    def _delivery(self, row: Any) -> Delivery:
        return delivery(row, self.ctx.settings.channels.get(row.channel))

    async def _known_watchlist(self, conn: AsyncConnection, watchlist: str) -> None:
        """InvalidRequest for a watchlist neither configured nor ever alerted."""
        names = [w.name for w in self.ctx.settings.watchlists]
        if watchlist in names or await store.has_watchlist(conn, watchlist):
            return
        raise InvalidRequest(
            f"no watchlist {watchlist!r} (configured: {', '.join(names) or 'none'})"
        )

    async def resolve(self, conn: AsyncConnection, given: str) -> str:
        """The full id of the alert `given` names: its id, or a prefix of exactly one id.
        NotFound when none matches, InvalidRequest when several do."""
        found = await store.ids_starting(conn, given, limit=3)
        if given in found or len(found) == 1:
            return given if given in found else found[0]
        if not found:
            raise NotFound(f"no alert {given!r} (see `monitor alerts list`)")
        shown = ", ".join(found[:2]) + (", …" if len(found) > 2 else "")
        raise InvalidRequest(f"alert id {given!r} is ambiguous ({shown}): give more characters")

    async def get(self, alert_id: str) -> Alert:
        """One alert (by id or a unique prefix of it) with its deliveries; NotFound when
        there is none."""
        async with self.ctx.read() as conn:
            alert_id = await self.resolve(conn, alert_id)
            row = await store.get_alert(conn, alert_id)
            if row is None:
                raise NotFound(f"no alert {alert_id!r} (see `monitor alerts list`)")
            sent = await store.deliveries(conn, [alert_id])
            kept = await story_evidence(conn, [row.story_id])
        return alert_record(row, tuple(self._delivery(r) for r in sent), kept[row.story_id])

    async def show(self, alert_id: str) -> AlertDetail:
        """One alert with its deliveries and every copy of its story."""
        from monitor.services.stories import Stories

        alert = await self.get(alert_id)
        try:
            story = await Stories(self.ctx).get(alert.story.id)
        except NotFound:
            story = None
        return AlertDetail(alert, story)

    async def retry(self, alert_id: str | None = None, *, dead: bool = False) -> int:
        """Requeue an alert's failed or pending deliveries (or every dead-lettered one with
        `dead`); sent ones are never resent. Returns how many; NotFound when an alert id
        has nothing to retry."""
        if not alert_id and not dead:
            raise InvalidRequest("give an alert id or --dead")
        async with self.ctx.write() as conn:
            if alert_id and alert_id.startswith("alt_") and "." not in alert_id:
                alert_id = await self.resolve(conn, alert_id)
            ids = (alert_id,) if alert_id else ()
            count = await requeue(conn, self.ctx.clock.now(), ids=ids, dead=dead)
        if alert_id and not count:
            raise NotFound(f"nothing to retry for {alert_id!r} (unknown, or already sent)")
        return count
