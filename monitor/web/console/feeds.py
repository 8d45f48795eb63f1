"""Feeds: the health table, adding a feed by its URL or a site's (discovery), enabling and
disabling, OPML import and export. Changes need the analyst role and are audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from monitor.errors import MonitorError
from monitor.web.console.deps import CheckedForm, Viewer, console_of, monitor_of, require
from monitor.web.console.pages import ConsoleRoute
from monitor.web.console.render import SECURITY_HEADERS, redirect, render

router = APIRouter(route_class=ConsoleRoute)
MAX_OPML = 2_000_000


@router.get("/feeds", name="console.feeds")
async def feeds(request: Request, who: Viewer) -> Response:
    monitor = monitor_of(request)
    context = who.page(
        request,
        title="Feeds",
        section="console.feeds",
        feeds=await monitor.feeds.list(),
        recent=await console_of(request).new_articles(),
        can_manage=who.can("analyst"),
    )
    return render(request, "console/feeds.html", context)


@router.post("/feeds", name="console.feed_add")
async def feed_add(request: Request, who: Viewer, form: CheckedForm) -> Response:
    require(who, "analyst")
    url = str(form.get("url", "")).strip()[:2000]
    try:
        added = await monitor_of(request).feeds.add(url, origin="console")
    except MonitorError as e:
        return _back(request, error=str(e))
    await _audit(request, who, "feed.add", f"feed:{added.url}", {"url": added.url, "given": url})
    found = f" (found from {url})" if added.url != url else ""
    return _back(request, done=f"Added {added.url}{found}.")


@router.post("/feeds/{feed_id}/state", name="console.feed_toggle")
async def feed_toggle(request: Request, who: Viewer, form: CheckedForm, feed_id: int) -> Response:
    require(who, "analyst")
    action = str(form.get("action", ""))
    if action not in ("enable", "disable"):
        return _back(request, error="Choose enable or disable.")
    service = monitor_of(request).feeds
    try:
        changed = await (service.enable if action == "enable" else service.disable)(str(feed_id))
    except MonitorError as e:
        return _back(request, error=str(e))
    await _audit(request, who, f"feed.{action}", f"feed:{changed.url}", {"state": changed.state})
    return _back(request, done=f"{action.capitalize()}d {changed.url}.")


@router.post("/feeds/import", name="console.feeds_import")
async def feeds_import(request: Request, who: Viewer, form: CheckedForm) -> Response:
    require(who, "analyst")
    upload = form.get("opml")
    if not isinstance(upload, UploadFile):
        return _back(request, error="Choose an OPML file to import.")
    body = await upload.read(MAX_OPML + 1)
    if len(body) > MAX_OPML:
        return _back(request, error=f"The OPML file is larger than {MAX_OPML // 1_000_000} MB.")
    try:
        result = await monitor_of(request).feeds.import_opml(body, source=upload.filename or "OPML")
    except MonitorError as e:
        return _back(request, error=str(e))
    await _audit(
        request, who, "feed.import", "feeds", {"added": result.added, "listed": result.listed}
    )
    return _back(request, done=f"Imported {result.added} new feeds of {result.listed} listed.")


@router.get("/feeds/export.opml", name="console.feeds_export")
async def feeds_export(request: Request, who: Viewer) -> Response:
    document = await monitor_of(request).feeds.export_opml()
    headers = SECURITY_HEADERS | {"Content-Disposition": 'attachment; filename="feeds.opml"'}
    return Response(document, media_type="text/x-opml; charset=utf-8", headers=headers)


def _back(request: Request, *, done: str = "", error: str = "") -> Response:
    return redirect(request, request.url_for("console.feeds").path, ok=done, error=error)


async def _audit(
    request: Request, who: Viewer, action: str, target: str, after: dict[str, Any]
) -> None:
    await monitor_of(request).audit.record(
        actor=who.principal.name, action=action, target=target, after=after
    )
