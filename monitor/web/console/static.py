"""The console's stylesheet and script, served from the package (no build step)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from monitor.web.console.pages import ConsoleRoute
from monitor.web.console.render import STATIC

router = APIRouter(route_class=ConsoleRoute)
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_FILES = {path.name: path for path in STATIC.iterdir() if path.suffix in _TYPES}


@router.get("/static/{name}", name="console-static")
async def static_file(name: str) -> FileResponse:
    """One of the files in `monitor/web/static/`; 404 for anything else."""
    path = _FILES.get(name)
    if path is None:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(
        path,
        media_type=_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
