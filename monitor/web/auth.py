"""Who a request acts as, and whether its role may do what it asks.

Every API route and console page declares the least role it needs:

    from typing import Annotated
    from fastapi import Depends
    from monitor.web.auth import Principal, require

    @router.get("/alerts")
    async def alerts(who: Annotated[Principal, Depends(require("viewer"))]) -> ...

`require(role)` resolves the principal from `Authorization: Bearer <token>` or, without
that header, from the session cookie (`SESSION_COOKIE`), and checks that its role is `role`
or above (viewer < analyst < admin). No credentials, or credentials that are unknown,
expired or revoked → 401 problem; a token from a client with too many failed sign-ins →
429 with Retry-After (a session cookie is never refused or counted: see
`monitor.web.limits`); a role too low → 403. A cookie-authenticated request that changes something (not GET/HEAD)
must carry the session's CSRF token in the `X-CSRF-Token` header or pass `check_csrf`
with the form's `csrf_token` field — the console does the latter.

Signing in and out (the console's login form, `POST /api/v1/session`):

    started = await sign_in(request, name, password)   # 401 / 429 as problems
    set_session_cookie(request, response, started)     # HttpOnly, SameSite=Lax, Secure on https
    csrf = csrf_of(request)                             # the token to put in each form
    await sign_out(request, response)                  # ends the session, clears the cookie

The use cases are reached through `request.app.state.monitor` (the `Monitor` facade), the
limiter through `request.app.state.limiter`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from fastapi import HTTPException, Request, Response

from monitor.errors import AuthenticationFailed
from monitor.services.accounts import Principal, Role, a_role
from monitor.services.audit import Audit
from monitor.services.sessions import Sessions, StartedSession, csrf_matches, csrf_token
from monitor.services.tokens import Tokens
from monitor.services.triage import TriageDesk
from monitor.services.users import Users
from monitor.web.limits import FailureLimiter

__all__ = ["Principal", "Role", "require", "set_session_cookie", "sign_in", "sign_out"]

SESSION_COOKIE = "monitor_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Accounts(Protocol):
    """The parts of the `Monitor` facade that authentication uses."""

    users: Users
    tokens: Tokens
    sessions: Sessions
    audit: Audit
    triage: TriageDesk


def accounts(request: Request) -> Accounts:
    monitor: Accounts = request.app.state.monitor
    return monitor


def limiter(request: Request) -> FailureLimiter:
    value: FailureLimiter = request.app.state.limiter
    return value


def client_key(request: Request) -> str:
    return f"client:{request.client.host if request.client else 'unknown'}"


def _too_many(seconds: int) -> HTTPException:
    return HTTPException(
        429,
        f"too many failed sign-ins: try again in {seconds}s",
        headers={"Retry-After": str(seconds)},
    )


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Bearer realm="monitor"'})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    return value.strip()


async def current_principal(request: Request) -> Principal:
    """The principal of the request's token or session cookie (see the module docstring)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token, cookie = _bearer(request), request.cookies.get(SESSION_COOKIE)
    if token is not None:
        principal = await _token_principal(request, token)
    elif cookie is not None:
        principal = await _session_principal(request, cookie)
    else:
        raise _unauthorized("sign in: send 'Authorization: Bearer <token>' or a session cookie")
    request.state.principal = principal
    return principal


async def _token_principal(request: Request, token: str) -> Principal:
    """A token is a guess until it authenticates: a blocked client is refused before it is
    checked (else the answer would tell a guesser which guess was right), and a failure
    counts against the client."""
    gate, client = limiter(request), client_key(request)
    if (wait := gate.retry_after(client)) is not None:
        raise _too_many(wait)
    try:
        return await accounts(request).tokens.authenticate(token)
    except AuthenticationFailed as e:
        gate.failed(client)
        raise _unauthorized(str(e)) from None


async def _session_principal(request: Request, cookie: str) -> Principal:
    """A session cookie is not a guess (its secret is random, and the browser of an ended
    session keeps sending it): neither counted nor refused by the limiter."""
    try:
        principal = await accounts(request).sessions.resolve(cookie)
    except AuthenticationFailed as e:
        raise _unauthorized(str(e)) from None
    _check_csrf_header(request, cookie)
    return principal


def _check_csrf_header(request: Request, secret: str) -> None:
    if request.method in _SAFE_METHODS or getattr(request.state, "csrf_checked", False):
        return
    token = request.headers.get(CSRF_HEADER)
    if token is not None and csrf_matches(secret, token):
        return
    if request.url.path.startswith("/api/"):
        raise HTTPException(403, f"a session request that changes something needs {CSRF_HEADER}")
    # console forms: the page's handler calls check_csrf with the form field


def check_csrf(request: Request, form_token: str | None) -> None:
    """403 unless `form_token` is the CSRF token of the request's session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or not form_token or not csrf_matches(secret, form_token):
        raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page")
    request.state.csrf_checked = True


def csrf_of(request: Request) -> str | None:
    """The CSRF token of the request's session, for forms (None without a session)."""
    secret = request.cookies.get(SESSION_COOKIE)
    return csrf_token(secret) if secret else None


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the request's principal, if its role is `role` or above (else 403)."""

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.can(role):
            raise HTTPException(
                403, f"this needs the {role} role; {principal.name} is {a_role(principal.role)}"
            )
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


async def sign_in(request: Request, name: str, password: str) -> StartedSession:
    """Open a session for `name`; 429 after too many failures from the client or for the
    user, 401 (saying no more) for a wrong pair."""
    gate, keys = limiter(request), (client_key(request), f"user:{name[:64]}")
    if (wait := gate.retry_after(*keys)) is not None:
        raise _too_many(wait)
    try:
        started = await accounts(request).sessions.login(name, password)
    except AuthenticationFailed as e:
        gate.failed(*keys)
        raise _unauthorized(str(e)) from None
    gate.succeeded(keys[1])
    return started


def set_session_cookie(request: Request, response: Response, started: StartedSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        started.secret,
        max_age=int(started.lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def sign_out(request: Request, response: Response) -> None:
    """End the request's session (if any) and clear its cookie."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await accounts(request).sessions.logout(secret)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
