"""The alerts inbox (filters in the URL, cursor pages; surge and quiet episodes above the
alerts, their own kind), one alert explained (story timeline,
matched terms, marked snippets, deliveries, triage, audit trail), and triage itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from monitor.errors import InvalidRequest, NotFound
from monitor.services.records import ArticleSummary
from monitor.services.triage import STATES
from monitor.web.console.deps import (
    CheckedForm,
    Viewer,
    console_of,
    monitor_of,
    parse_since,
    require,
)
from monitor.web.console.pages import ConsoleRoute, error_page
from monitor.web.console.render import redirect, render

router = APIRouter(route_class=ConsoleRoute)
PAGE = 50
EPISODES = 10
EPISODE_SPAN = timedelta(days=7)  # when the inbox's filters name no period
_DONE = {
    "acknowledged": "Acknowledged.",
    "dismissed": "Dismissed.",
    "false_positive": "Marked as a false positive.",
    "new": "Back to new.",
}


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """The inbox's filters as they appear in its URL."""

    watchlist: str = ""
    state: str = ""
    language: str = ""
    since: str = ""

    @property
    def active(self) -> bool:
        return any((self.watchlist, self.state, self.language, self.since))

    def query(self, **more: str) -> str:
        values = {
            "watchlist": self.watchlist,
            "state": self.state,
            "language": self.language,
            "since": self.since,
            **more,
        }
        return urlencode({k: v for k, v in values.items() if v})

    def arguments(self, now: datetime) -> dict[str, Any]:
        """The filters as arguments of `Alerts.list`; InvalidRequest for a bad value."""
        if self.state and self.state not in STATES:
            raise InvalidRequest(f"unknown triage state {self.state!r}")
        return {
            "watchlist": self.watchlist or None,
            "triage": self.state or None,
            "language": self.language or None,
            "since": parse_since(self.since, now),
        }


@router.get("/", name="console.inbox")
async def inbox(
    request: Request,
    who: Viewer,
    watchlist: str = "",
    state: str = "",
    language: str = "",
    since: str = "",
    cursor: str = "",
) -> Response:
    monitor = monitor_of(request)
    now = monitor.ctx.clock.now()
    filters = InboxFilter(watchlist[:200], state[:32], language[:16], since[:8])
    base = request.url_for("console.inbox").path
    try:
        page = await monitor.alerts.list(
            **filters.arguments(now), cursor=cursor or None, limit=PAGE
        )
    except InvalidRequest as e:
        return error_page(request, who, 400, "Bad filter", str(e))
    outlets = await console_of(request).outlets([a.story.id for a in page.items])
    newest = page.items[0].created_at if page.items and not cursor else now
    asked = None if cursor else _episode_query(filters, now)
    episodes = await monitor.trends.episodes(**asked) if asked else ()
    context = who.page(
        request,
        title="Alerts",
        section="console.inbox",
        alerts=page.items,
        cursor=cursor,
        next_url=f"{base}?{filters.query(cursor=page.next_cursor)}" if page.next_cursor else "",
        outlets=outlets,
        episodes=episodes,
        filters=filters,
        states=STATES,
        watchlists=[w.name for w in monitor.settings.watchlists],
        first_url=f"{base}?{filters.query()}",
        events_url=request.url_for("console.inbox_events").path
        + "?"
        + filters.query(after=newest.isoformat()),
    )
    return render(request, "console/inbox.html", context)


def _episode_query(filters: InboxFilter, now: datetime) -> dict[str, Any] | None:
    """Which surges and silences the inbox shows above its first page (`Trends.episodes`
    arguments): those of the filtered watchlist (or all) within the filtered period (or the
    last week); none when the filters ask for a triage state or a language, which episodes
    do not have. The filters were checked by `InboxFilter.arguments` already."""
    if filters.state or filters.language:
        return None
    since = parse_since(filters.since, now)
    return {
        "since": now - since if since else EPISODE_SPAN,
        "subject": filters.watchlist or None,
        "limit": EPISODES,
        "now": now,
    }


@router.get("/alerts/{alert_id}", name="console.alert")
async def alert(request: Request, who: Viewer, alert_id: str) -> Response:
    monitor = monitor_of(request)
    try:
        detail = await monitor.alerts.show(alert_id)
    except NotFound as e:
        return error_page(request, who, 404, "No such alert", str(e))
    audit = await monitor.audit.list(target=f"alert:{alert_id}", limit=50)
    context = who.page(
        request,
        title=detail.alert.article.title or f"Alert {alert_id}",
        section="console.inbox",
        detail=detail,
        timeline=timeline(detail.story.items) if detail.story else (),
        terms=[m.term for m in detail.alert.matches],
        audit=audit.items,
        can_triage=who.can("analyst"),
    )
    return render(request, "console/alert.html", context)


def timeline(items: Sequence[ArticleSummary]) -> list[ArticleSummary]:
    """Copies of a story in the order they were published (fetched, when a feed gave no date)."""
    return sorted(items, key=lambda item: (item.published_at or item.fetched_at, item.id))


@router.post("/alerts/{alert_id}/triage", name="console.triage")
async def triage(request: Request, who: Viewer, form: CheckedForm, alert_id: str) -> Response:
    """Set the alert's triage state (analysts and admins), then show the alert again."""
    require(who, "analyst")
    state, note = str(form.get("state", "")), str(form.get("note", ""))
    target = request.url_for("console.alert", alert_id=alert_id).path
    try:
        await monitor_of(request).triage.set(alert_id, state, note, actor=who.principal.name)
    except NotFound as e:
        return error_page(request, who, 404, "No such alert", str(e))
    except InvalidRequest as e:
        return redirect(request, target, error=f"Triage not saved: {e}.")
    return redirect(request, target, ok=_DONE.get(state, "Saved."))


@router.post("/alerts/{alert_id}/retry", name="console.retry")
async def retry(request: Request, who: Viewer, form: CheckedForm, alert_id: str) -> Response:
    """Requeue the alert's failed or pending deliveries (analysts and admins); audited."""
    require(who, "analyst")
    monitor = monitor_of(request)
    target = request.url_for("console.alert", alert_id=alert_id).path
    try:
        count = await monitor.alerts.retry(alert_id)
    except NotFound as e:
        return redirect(request, target, error=f"Nothing retried: {e}.")
    await monitor.audit.record(
        actor=who.principal.name,
        action="alert.retry",
        target=f"alert:{alert_id}",
        after={"requeued": count},
    )
    return redirect(request, target, ok=f"Requeued {count} deliver{'y' if count == 1 else 'ies'}.")
