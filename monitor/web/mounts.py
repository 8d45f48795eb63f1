"""The page routers the app mounts beside `/api/v1` and the probes: the web console.

The console (`monitor.web.console`) registers its pages here by returning its router(s);
`create_app` includes each one at the root, after the API and the probes, so a console
path can never shadow `/api/v1/…`, `/healthz`, `/readyz` or `/metrics`.
"""

from __future__ import annotations

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    """The console's pages."""
    from monitor.web.console import router as console_router

    return [console_router()]
