"""`/api/v1/session`, `/me`, `/users`, `/tokens`, `/audit`: signing in, and the admin's
management of users and tokens, with the audit log of every change."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from monitor.services.shapes import issued_token_json, to_json, token_json
from monitor.units import iso_z, parse_duration
from monitor.web.api import schemas
from monitor.web.api.common import Admin, Facade, Limit, Since, Viewer, errors, since_time
from monitor.web.auth import set_session_cookie, sign_in, sign_out

router = APIRouter(tags=["accounts"])
UserName = Annotated[str, Path(max_length=64)]


@router.post("/session", response_model=schemas.Session, responses=errors(400))
async def open_session(request: Request, response: Response, body: schemas.LoginIn) -> Any:
    """Sign in with a password: sets the session cookie (HttpOnly, SameSite=Lax). Failures
    are rate-limited per client and per user (429 with Retry-After)."""
    started = await sign_in(request, body.name, body.password)
    set_session_cookie(request, response, started)
    return {
        "name": started.principal.name,
        "role": started.principal.role,
        "expires_at": iso_z(started.expires_at),
        "csrf_token": started.csrf,
    }


@router.delete("/session", status_code=204, response_class=Response)
async def close_session(request: Request, who: Viewer) -> Response:
    """Sign out: the session ends on the server and its cookie is cleared."""
    response = Response(status_code=204)
    await sign_out(request, response)
    return response


@router.get("/me", response_model=schemas.Me)
async def me(who: Viewer) -> Any:
    """Who the credentials belong to."""
    return {"name": who.name, "role": who.role, "via": who.via}


@router.get("/users", response_model=list[schemas.User])
async def list_users(m: Facade, who: Admin) -> Any:
    return to_json(await m.users.list())


@router.post("/users", response_model=schemas.User, status_code=201, responses=errors(400, 409))
async def add_user(m: Facade, who: Admin, body: schemas.UserIn) -> Any:
    """Add a user with a role and a password (hashed with argon2)."""
    return to_json(await m.users.add(body.name, body.role, body.password, actor=who.name))


@router.get("/users/{name}", response_model=schemas.User, responses=errors(404))
async def show_user(m: Facade, who: Admin, name: UserName) -> Any:
    return to_json(await m.users.get(name))


@router.patch("/users/{name}", response_model=schemas.User, responses=errors(400, 404))
async def change_user(m: Facade, who: Admin, name: UserName, body: schemas.UserPatch) -> Any:
    """Change a user's role and/or password (a new password ends their sessions)."""
    if body.password is not None:
        await m.users.set_password(name, body.password, actor=who.name)
    if body.role is not None:
        return to_json(await m.users.set_role(name, body.role, actor=who.name))
    return to_json(await m.users.get(name))


@router.delete("/users/{name}", response_model=schemas.User, responses=errors(404))
async def remove_user(m: Facade, who: Admin, name: UserName) -> Any:
    """Delete a user with their tokens and sessions."""
    return to_json(await m.users.remove(name, actor=who.name))


@router.get("/tokens", response_model=list[schemas.Token])
async def list_tokens(
    m: Facade, who: Admin, user: Annotated[str | None, Query(max_length=64)] = None
) -> Any:
    """Tokens (prefix and state, never the secret), of one user or all."""
    now = m.ctx.clock.now()
    return [token_json(t, now) for t in await m.tokens.list(user)]


@router.post(
    "/tokens", response_model=schemas.IssuedToken, status_code=201, responses=errors(400, 404)
)
async def create_token(m: Facade, who: Admin, body: schemas.TokenIn) -> Any:
    """A new token for a user; the secret is in this answer only."""
    expires = parse_duration(body.expires) if body.expires else None
    issued = await m.tokens.create(body.user, expires=expires, actor=who.name)
    return issued_token_json(issued, m.ctx.clock.now())


@router.delete("/tokens/{token_id}", response_model=schemas.Token, responses=errors(404))
async def revoke_token(
    m: Facade, who: Admin, token_id: Annotated[int, Path(ge=1, le=2**62)]
) -> Any:
    """Revoke a token at once."""
    return token_json(await m.tokens.revoke(token_id, actor=who.name), m.ctx.clock.now())


@router.get("/audit", response_model=schemas.AuditPage, responses=errors(400))
async def audit_log(
    m: Facade,
    who: Admin,
    target: Annotated[str | None, Query(max_length=2100, description="e.g. alert:alt_…")] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    since: Since = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
) -> Any:
    """Every change made through the API, console or CLI, newest first."""
    page = await m.audit.list(
        limit=limit,
        cursor=cursor,
        target=target,
        actor=actor,
        since=since_time(since, m.ctx.clock.now()),
    )
    return to_json(page)
