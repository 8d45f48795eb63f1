"""Signing in to and out of the console. The session cookie is `monitor.web.auth`'s
(HttpOnly, SameSite=Lax, Secure over https); the sign-in form, which has no session yet,
carries a random CSRF token also held in a short-lived cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from monitor.web.auth import set_session_cookie, sign_in, sign_out
from monitor.web.console.deps import CheckedForm, Viewer, monitor_of
from monitor.web.console.pages import ConsoleRoute
from monitor.web.console.render import render

LOGIN_COOKIE = "monitor_login_csrf"

router = APIRouter(route_class=ConsoleRoute)


def _safe_next(target: str) -> str:
    """Only a path on this site: never `//evil.example`, a full URL or a backslash trick."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def _login_page(
    request: Request, *, back_to: str, name: str = "", error: str = "", status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    context = {
        "title": "Sign in",
        "csrf_token": token,
        "next": back_to,
        "name": name,
        "error": error,
        "now": monitor_of(request).ctx.clock.now(),
    }
    page = render(request, "console/login.html", context, status_code=status)
    page.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=request.url_for("console.login").path,
    )
    return page


@router.get("/login", name="console.login")
async def login_form(request: Request, next: str = "") -> Response:
    return _login_page(request, back_to=_safe_next(next))


@router.post("/login", name="console.login_submit")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Open a session and go where the visitor was going (the inbox by default)."""
    back_to = _safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(
            request,
            back_to=back_to,
            name=name,
            status=403,
            error="The sign-in form expired or was not sent by this site: try again.",
        )
    try:
        started = await sign_in(request, name, password)
    except HTTPException as e:
        error = "Wrong user name or password." if e.status_code == 401 else str(e.detail)
        page = _login_page(request, back_to=back_to, name=name, status=e.status_code, error=error)
        page.headers.update(e.headers or {})  # Retry-After when rate-limited
        return page
    response = RedirectResponse(back_to or request.url_for("console.inbox").path, status_code=303)
    set_session_cookie(request, response, started)
    response.delete_cookie(LOGIN_COOKIE, path=request.url_for("console.login").path)
    return response


@router.post("/logout", name="console.logout")
async def logout(request: Request, who: Viewer, form: CheckedForm) -> Response:
    """End the session: its row is deleted, so the cookie is worthless even if kept."""
    response = RedirectResponse(request.url_for("console.login").path, status_code=303)
    await sign_out(request, response)
    return response
