"""Watchlists: each definition as loaded, alerts per day over 30 days and stories per day or
hour with the expected band and surge markers (server-side SVG), its surge and quiet
episodes, precision from triage, a test box (pasted text or a URL, nothing stored or sent)
and a preview (a dry-run backfill over the last N days)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from monitor.errors import MonitorError
from monitor.services.trends import Bucket
from monitor.web.console.chart import bar_chart, trend_chart
from monitor.web.console.deps import CheckedForm, Viewer, console_of, monitor_of, require
from monitor.web.console.pages import ConsoleRoute, error_page
from monitor.web.console.render import render

router = APIRouter(route_class=ConsoleRoute)
CHART_DAYS = 30
PREVIEW_DAYS = (1, 7, 30, 90)
MAX_TEST = 200_000
TREND_SPANS = {"day": timedelta(days=30), "hour": timedelta(hours=72)}


@router.get("/watchlists", name="console.watchlists")
async def watchlists(request: Request, who: Viewer) -> Response:
    found = await monitor_of(request).watchlists.list()
    context = who.page(request, title="Watchlists", section="console.watchlists", watchlists=found)
    return render(request, "console/watchlists.html", context)


@router.get("/watchlists/{name}", name="console.watchlist")
async def watchlist(
    request: Request, who: Viewer, name: str, preview: int = 0, by: str = "day"
) -> Response:
    context = await _page(request, who, name, by)
    if context is None:
        return error_page(
            request, who, 404, "No such watchlist", f"No watchlist {name!r} is configured."
        )
    if preview in PREVIEW_DAYS:
        context["preview"] = await monitor_of(request).watchlists.preview(name, days=preview)
        context["preview_days"] = preview
    return render(request, "console/watchlist.html", context)


@router.post("/watchlists/{name}/test", name="console.watchlist_test")
async def watchlist_test(request: Request, who: Viewer, form: CheckedForm, name: str) -> Response:
    """Match pasted text, or the article at a pasted URL, against the watchlists."""
    require(who, "analyst")
    context = await _page(request, who, name)
    if context is None:
        return error_page(
            request, who, 404, "No such watchlist", f"No watchlist {name!r} is configured."
        )
    given = str(form.get("text", ""))[:MAX_TEST]
    context["test_input"] = given
    service = monitor_of(request).watchlists
    try:
        if given.strip().startswith(("http://", "https://")) and len(given.split()) == 1:
            context["test"] = await service.test_url(given.strip())
        else:
            context["test"] = await service.test_text(given)
    except MonitorError as e:
        context["test_error"] = str(e)
    return render(request, "console/watchlist.html", context)


async def _page(request: Request, who: Viewer, name: str, by: str = "day") -> dict[str, Any] | None:
    monitor = monitor_of(request)
    definition = next((w for w in monitor.settings.watchlists if w.name == name), None)
    summary = next((w for w in await monitor.watchlists.list() if w.name == name), None)
    if definition is None or summary is None:
        return None
    days = await console_of(request).alerts_per_day(name, days=CHART_DAYS)
    precision = (await monitor.triage.precision()).get(name)
    bucket: Bucket = "hour" if by == "hour" else "day"
    (trend,) = await monitor.trends.series(name, since=TREND_SPANS[bucket], by=bucket)
    return who.page(
        request,
        title=f"Watchlist {name}",
        section="console.watchlists",
        w=summary,
        definition={
            "terms": [_text(t) for t in definition.terms],
            "exclude": [_text(t) for t in definition.exclude],
            "actors": [
                {"name": a.name, "aliases": [_text(x) for x in a.aliases]}
                for a in definition.actors
            ],
        },
        chart=bar_chart(days),
        trend=trend,
        trend_chart=trend_chart(trend.points, bucket),
        precision={
            "triaged": precision.triaged if precision else 0,
            "false_positives": precision.false_positives if precision else 0,
            "value": precision.precision if precision else None,
        },
        can_test=who.can("analyst"),
        test=None,
        test_input="",
        test_error="",
        preview=None,
        preview_days=7,
    )


def _text(term: Any) -> str:
    """A term as written in the config: a string, or the text of an inline table."""
    return term if isinstance(term, str) else str(getattr(term, "text", term))
