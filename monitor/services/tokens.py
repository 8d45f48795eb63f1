"""API tokens: create (the secret is returned once, only its hash stored), list, revoke,
and authenticate a Bearer token to the principal it acts as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.errors import AuthenticationFailed, NotFound
from monitor.services.accounts import Principal, check_role, digest, new_secret
from monitor.services.audit import record
from monitor.services.context import Context
from monitor.storage import accounts as store

TOKEN_PREFIX = "fmt_"
_SHOWN = len(TOKEN_PREFIX) + 6  # how much of a token lists show, to tell tokens apart


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as lists show it: never the secret nor its hash."""

    id: int
    user: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        """active | expired | revoked"""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: `secret` is shown this once and stored nowhere."""

    secret: str
    info: TokenInfo


def _info(row: dict[str, Any]) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        user=row["user_name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def public(info: TokenInfo) -> dict[str, Any]:
    """What the audit log keeps of a token."""
    return {"id": info.id, "user": info.user, "prefix": info.prefix}


class Tokens:
    """The API token use cases."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(self, user: str, *, expires: timedelta | None, actor: str) -> IssuedToken:
        """A new token for `user`, valid for `expires` (None: until revoked)."""
        secret = new_secret(TOKEN_PREFIX)
        now = self._context.clock.now()
        async with self._context.write() as conn:
            row = await store.user_by_name(conn, user)
            if row is None:
                raise NotFound(f"no user {user!r}")
            token_id = await store.insert_token(
                conn,
                user_id=row["id"],
                token_hash=digest(secret),
                prefix=secret[:_SHOWN],
                now=now,
                expires_at=now + expires if expires else None,
            )
            info = _info(await self._row(conn, token_id))
            await record(
                conn,
                at=now,
                actor=actor,
                action="token.create",
                target=f"token:{token_id}",
                after=public(info),
            )
        return IssuedToken(secret, info)

    async def list(self, user: str | None = None) -> list[TokenInfo]:
        async with self._context.read() as conn:
            return [_info(row) for row in await store.list_tokens(conn, user)]

    async def get(self, token_id: int) -> TokenInfo:
        async with self._context.read() as conn:
            return _info(await self._row(conn, token_id))

    async def revoke(self, token_id: int, *, actor: str) -> TokenInfo:
        """Revoke a token at once (revoking twice keeps the first time)."""
        now = self._context.clock.now()
        async with self._context.write() as conn:
            before = _info(await self._row(conn, token_id))
            await store.revoke_token(conn, token_id, now)
            after = _info(await self._row(conn, token_id))
            await record(
                conn,
                at=now,
                actor=actor,
                action="token.revoke",
                target=f"token:{token_id}",
                before=public(before) | {"state": before.state(now)},
                after=public(after) | {"state": after.state(now)},
            )
        return after

    async def authenticate(self, secret: str) -> Principal:
        """The principal a Bearer token acts as; AuthenticationFailed when it is unknown,
        expired or revoked."""
        now = self._context.clock.now()
        async with self._context.read() as conn:
            row = await store.token_by_hash(conn, digest(secret))
        if row is None or _info(row).state(now) != "active":
            raise AuthenticationFailed("invalid, expired or revoked token")
        if row["last_used_at"] is None or now - row["last_used_at"] > timedelta(minutes=1):
            async with self._context.write() as conn:  # at most once a minute per token
                await store.touch_token(conn, row["id"], now)
        return Principal(row["user_id"], row["user_name"], check_role(row["role"]), "token")

    @staticmethod
    async def _row(conn: Any, token_id: int) -> dict[str, Any]:
        row = await store.token_by_id(conn, token_id)
        if row is None:
            raise NotFound(f"no token {token_id}")
        return row
