"""Console sessions: sign in with a password, resolve a session cookie, sign out.

The session id is a random secret held only by the browser (its SHA-256 is stored). The
CSRF token of a session is derived from that secret (`csrf_token`), so forms can carry it
without storing it, and only the holder of the cookie can compute it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.errors import AuthenticationFailed
from monitor.services.accounts import Principal, check_role, digest, new_secret
from monitor.services.audit import record
from monitor.services.context import Context
from monitor.services.users import Users
from monitor.storage import accounts as store

SESSION_PREFIX = "fms_"


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A session just opened: `secret` goes in the cookie, `csrf` in every form."""

    secret: str
    csrf: str
    principal: Principal
    expires_at: datetime
    lifetime: timedelta  # for the cookie's Max-Age: relative, so clock skew cannot matter


def csrf_token(secret: str) -> str:
    """The CSRF token of the session whose cookie holds `secret`."""
    return hashlib.sha256(b"csrf:" + secret.encode()).hexdigest()


def csrf_matches(secret: str, token: str) -> bool:
    """Whether a form's CSRF token belongs to the session (constant-time)."""
    return hmac.compare_digest(csrf_token(secret), token)


class Sessions:
    """The session use cases."""

    def __init__(self, context: Context, users: Users) -> None:
        self._context = context
        self._users = users

    async def login(self, name: str, password: str) -> StartedSession:
        """Open a session; AuthenticationFailed (saying no more) when the pair is wrong."""
        user = await self._users.verify(name, password)
        if user is None:
            raise AuthenticationFailed("wrong user name or password")
        secret, now = new_secret(SESSION_PREFIX), self._context.clock.now()
        lifetime = self._context.settings.server.session_lifetime
        expires_at = now + lifetime
        async with self._context.write() as conn:
            await store.delete_expired_sessions(conn, now)  # sign-ins keep the table small
            await store.insert_session(
                conn, id_hash=digest(secret), user_id=user.id, now=now, expires_at=expires_at
            )
            await record(
                conn, at=now, actor=user.name, action="session.login", target=f"user:{name}"
            )
        principal = Principal(user.id, user.name, user.role, "session")
        return StartedSession(secret, csrf_token(secret), principal, expires_at, lifetime)

    async def resolve(self, secret: str) -> Principal:
        """The principal of a live session; AuthenticationFailed when unknown or expired."""
        async with self._context.read() as conn:
            row = await store.session_by_hash(conn, digest(secret), self._context.clock.now())
        if row is None:
            raise AuthenticationFailed("session expired or unknown: sign in again")
        return Principal(row["user_id"], row["user_name"], check_role(row["role"]), "session")

    async def logout(self, secret: str) -> None:
        """End the session (ending an unknown one is not an error)."""
        async with self._context.write() as conn:
            await store.delete_session(conn, digest(secret))

    async def purge(self, keep_dead_tokens: timedelta = timedelta(days=30)) -> int:
        """Drop expired sessions, and tokens dead for longer than `keep_dead_tokens`."""
        now = self._context.clock.now()
        async with self._context.write() as conn:
            return await store.delete_expired(conn, now, now - keep_dead_tokens)
