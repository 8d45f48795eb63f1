"""`/api/v1/alerts`: list (filters, cursor pages), show, triage, retry deliveries, export the
evidence."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from monitor.services.shapes import to_json
from monitor.web.api import schemas
from monitor.web.api.common import Analyst, Facade, Limit, Since, Viewer, errors, since_time

router = APIRouter(prefix="/alerts", tags=["alerts"])
AlertId = Annotated[str, PathParam(max_length=40, description="an alert id (alt_…)")]


@router.get("", response_model=schemas.AlertPage, responses=errors(400))
async def list_alerts(
    m: Facade,
    who: Viewer,
    watchlist: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[
        Literal["pending", "held", "sent", "dead", "rolled"] | None,
        Query(description="keep alerts with a delivery in this state"),
    ] = None,
    triage: Annotated[schemas.TriageState | None, Query()] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    since: Since = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> Any:
    """Alerts newest first; `next_cursor` pages on."""
    page = await m.alerts.list(
        since=since_time(since, m.ctx.clock.now()),
        watchlist=watchlist,
        status=status,
        triage=triage,
        language=language,
        cursor=cursor,
        limit=limit,
    )
    return to_json(page)


@router.get("/{alert_id}", response_model=schemas.AlertDetail, responses=errors(404))
async def show_alert(m: Facade, who: Viewer, alert_id: AlertId) -> Any:
    """One alert with its deliveries per channel, triage and every copy of its story."""
    return to_json(await m.alerts.show(alert_id))


@router.put("/{alert_id}/triage", response_model=schemas.Triage, responses=errors(400, 404))
async def triage_alert(
    m: Facade, who: Analyst, alert_id: AlertId, body: schemas.TriageIn
) -> dict[str, Any]:
    """Set the alert's triage state (a false positive needs a note); audited."""
    result: dict[str, Any] = to_json(
        await m.triage.set(alert_id, body.state, body.note, actor=who.name)
    )
    return result


@router.post("/{alert_id}/retry", response_model=schemas.Retried, responses=errors(404))
async def retry_alert(m: Facade, who: Analyst, alert_id: AlertId) -> dict[str, Any]:
    """Requeue the alert's failed or pending deliveries (sent ones are never resent)."""
    count = await m.alerts.retry(alert_id)
    await m.audit.record(
        actor=who.name, action="alert.retry", target=f"alert:{alert_id}", after={"requeued": count}
    )
    return {"requeued": count}


EVIDENCE_TYPES = {"warc": "application/warc", "zip": "application/zip"}


@router.get(
    "/{alert_id}/evidence",
    response_class=FileResponse,
    responses={
        200: {
            "description": "the evidence file",
            "content": {media: {} for media in EVIDENCE_TYPES.values()},
        },
        **errors(404),
    },
)
async def export_evidence(
    m: Facade,
    who: Viewer,
    alert_id: AlertId,
    format: Annotated[
        Literal["warc", "zip"],
        Query(description="warc: WARC 1.1, gzip per record; zip: the WARC, pages, text, manifest"),
    ] = "warc",
) -> FileResponse:
    """The alert's evidence, as `monitor evidence export` writes it; audited."""
    folder = Path(tempfile.mkdtemp(prefix="evidence-"))
    warc = folder / f"{alert_id}.warc.gz"
    bundle = folder / f"{alert_id}.zip" if format == "zip" else None
    try:
        await m.evidence.export(alert_id, warc, bundle=bundle)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    await m.audit.record(actor=who.name, action="evidence.export", target=f"alert:{alert_id}")
    path = bundle or warc
    return FileResponse(
        path,
        media_type=EVIDENCE_TYPES[format],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
