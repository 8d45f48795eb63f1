"""Who is looking at a console page, and the checks a request passes before a page runs:
a live session (else a redirect to the sign-in page), a role, and the CSRF token of every
form (a forged or stale form gets 403). Authentication itself is `monitor.web.auth`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from monitor.errors import InvalidRequest
from monitor.services import Monitor
from monitor.services.accounts import Principal, Role, a_role
from monitor.services.console import Console
from monitor.units import parse_duration
from monitor.web.auth import SESSION_COOKIE, check_csrf, csrf_of, current_principal


class SignInNeeded(Exception):
    """The page needs a session: the visitor is sent to the sign-in page, then back."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class Forbidden(Exception):
    """The request is refused (role too low, CSRF token missing or wrong): HTTP 403."""


def monitor_of(request: Request) -> Monitor:
    """The use-case facade the app was built with."""
    monitor: Monitor = request.app.state.monitor
    return monitor


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in user of the console and the CSRF token of their session."""

    principal: Principal
    csrf: str

    def can(self, role: Role) -> bool:
        return self.principal.can(role)

    def page(self, request: Request, **context: Any) -> dict[str, Any]:
        """What every page's template needs: the visitor, the token, the time; plus `context`."""
        now = monitor_of(request).ctx.clock.now()
        return {"principal": self.principal, "csrf_token": self.csrf, "now": now, **context}


async def visitor(request: Request) -> Visitor:
    """The visitor of a live session (or of an API token: pages read, forms refuse it, as
    they need the session's CSRF token); SignInNeeded when there is neither."""
    back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not request.cookies.get(SESSION_COOKIE) and "authorization" not in request.headers:
        raise SignInNeeded(back_to)
    try:
        principal = await current_principal(request)
    except HTTPException as e:
        if e.status_code == 401:
            raise SignInNeeded(back_to) from None
        raise
    return Visitor(principal, csrf_of(request) or "")


Viewer = Annotated[Visitor, Depends(visitor)]


async def form_of(request: Request, who: Viewer) -> FormData:
    """The posted form, once its CSRF token is the session's; Forbidden otherwise."""
    form = await request.form()
    token = form.get("csrf_token")
    try:
        check_csrf(request, token if isinstance(token, str) else None)
    except HTTPException:
        raise Forbidden(
            "This form is stale or was not sent by the console: reload the page and try again."
        ) from None
    return form


CheckedForm = Annotated[FormData, Depends(form_of)]


def require(who: Visitor, role: Role) -> None:
    """Forbidden unless the visitor has `role` or above."""
    if not who.can(role):
        raise Forbidden(
            f"This needs the {role} role; you are signed in as {a_role(who.principal.role)}."
        )


def parse_since(text: str, now: datetime) -> datetime | None:
    """The time `text` ("24h", "7d") before `now`, None for ""; InvalidRequest otherwise."""
    if not text:
        return None
    try:
        return now - parse_duration(text)
    except ValueError as e:
        raise InvalidRequest(str(e)) from None


def console_of(request: Request) -> Console:
    """The console's own use cases over the facade's context."""
    return Console(monitor_of(request).ctx)


def login_url(request: Request, back_to: str) -> str:
    """The sign-in page, returning to `back_to` afterwards."""
    return request.url_for("console.login").path + "?" + urlencode({"next": back_to})
