"""Rendering console pages: the Jinja environment (autoescaped), its filters, and the
security headers every page carries (a strict Content-Security-Policy: scripts and styles
from this origin only, nothing inline, no framing).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import iter_route_contexts
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from monitor.services.shapes import marks
from monitor.units import format_duration, iso_z

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
FLASH_COOKIE = "monitor_flash"
_NOW: ContextVar[datetime] = ContextVar("console_now")
# Languages written right to left; other text gets dir="auto" (the first strong letter decides).
RTL_LANGUAGES = frozenset({"ar", "fa", "ps", "ur", "he", "yi", "dv", "ckb", "sd", "ug"})


def mark(text: str, terms: Iterable[str]) -> Markup:
    """`text` escaped, with each matched term (the one highlighter's spans) inside `<mark>`."""
    return _marked(text, tuple(t for t in terms if t))


@functools.lru_cache(maxsize=4096)
def _marked(text: str, terms: tuple[str, ...]) -> Markup:
    # cached: the inbox shows the same snippets on every view, and marking normalises text
    out, at = [], 0
    for start, end in marks(text, terms):
        out += [escape(text[at:start]), Markup("<mark>{}</mark>").format(text[start:end])]
        at = end
    return Markup("").join([*out, escape(text[at:])])


def href(url: str | None) -> str:
    """`url` when it is http(s), else "" — a feed cannot make a link run `javascript:`."""
    if not url or url.split(":", 1)[0].strip().lower() not in ("http", "https"):
        return ""
    return url


def textdir(language: str | None) -> str:
    """The `dir` attribute for text in `language`."""
    return "rtl" if (language or "").split("-")[0].lower() in RTL_LANGUAGES else "auto"


def bdi(text: object) -> Markup:
    """`text` escaped inside `<bdi>`: every name or title someone else wrote (outlets, feeds,
    watchlists, users, notes) keeps its own direction and cannot reorder the text around it
    (an outlet in Persian followed by "3 min ago" would show as "3 <outlet> min ago")."""
    return Markup("<bdi>{}</bdi>").format("" if text is None else text)


def iso(value: datetime | None) -> str:
    return iso_z(value) or ""


def ago(value: datetime | None, now: datetime) -> str:
    """A short relative time ("5 min ago", "in 3 h"), or the date beyond a week."""
    if value is None:
        return "never"
    seconds = (now - value).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds >= 7 * 86400:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"


def duration(seconds: float | None) -> str:
    """A polling interval in the config's units ("15m", "2h", "1d")."""
    return format_duration(timedelta(seconds=seconds)) if seconds else "—"


def oneline(text: str | None, limit: int = 160) -> str:
    """The first line of an error, cut to `limit` characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _ago(value: datetime | None) -> str:
    """`ago` at the time of the page being rendered (macros are imported without context)."""
    return ago(value, _NOW.get())


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package; no stat() per page
    )
    env.filters.update(
        mark=mark,
        href=href,
        textdir=textdir,
        bdi=bdi,
        iso=iso,
        ago=_ago,
        duration=duration,
        oneline=oneline,
    )
    return env


_ENV = environment()


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page: `template` rendered with `context`, `url_for`, the message left by the previous
    request (`redirect`), and the security headers."""
    flashes = _flashes(request.cookies.get(FLASH_COOKIE, ""))
    page = _render(
        template, {"url_for": _path_for(request), "request": request, "flashes": flashes, **context}
    )
    response = HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, target: str, *, ok: str = "", error: str = "") -> RedirectResponse:
    """303 to `target`, leaving a one-line message for the page shown there.

    The message travels in a cookie, not the URL, so a link from elsewhere cannot make a
    console page say something the console did not."""
    response = RedirectResponse(target, status_code=303)
    kind, text = ("error", error) if error else ("ok", ok)
    if text:
        value = base64.urlsafe_b64encode(json.dumps([kind, text[:500]]).encode()).decode()
        response.set_cookie(
            FLASH_COOKIE,
            value,
            max_age=60,
            httponly=True,
            samesite="strict",
            path="/",
            secure=request.url.scheme == "https",
        )
    return response


def _flashes(value: str) -> list[tuple[str, str]]:
    try:
        kind, text = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (ValueError, TypeError):
        return []
    return [(kind, text)] if kind in ("ok", "error") and isinstance(text, str) else []


def render_fragment(request: Request, template: str, context: Mapping[str, Any]) -> str:
    """A piece of a page (a table row for the live inbox), escaped like a page."""
    return _render(template, {"url_for": _path_for(request), **context})


def _render(template: str, context: dict[str, Any]) -> str:
    token = _NOW.set(context["now"])  # every page says when it is (the facade's clock)
    try:
        return _ENV.get_template(template).render(context)
    finally:
        _NOW.reset(token)


def _path_for(request: Request) -> Callable[..., str]:
    """`url_for` for templates: the path only, so links stay on the origin the page came from.

    Paths come from a table of the app's route templates built once: the router's own
    `url_path_for` walks every route on each call, which cost a page of 50 alerts ~60 ms."""
    templates = _route_templates(request.app)
    root = request.scope.get("root_path", "")

    def path_for(name: str, /, **params: Any) -> str:
        template = templates.get(name)
        if template is None:
            return str(request.url_for(name, **params).path)
        path = template.format_map({k: quote(str(v), safe="") for k, v in params.items()})
        return f"{root}{path}"

    return path_for


@functools.cache
def _route_templates(app: Any) -> dict[str, str]:
    """Each named route's path template ("/alerts/{alert_id}"), for routes whose parameters
    are plain path segments."""
    found: dict[str, str] = {}
    for route in iter_route_contexts(app.routes):
        name, path = getattr(route, "name", None), getattr(route, "path", "")
        if name and path and ":" not in path:
            found.setdefault(name, path)
    return found
