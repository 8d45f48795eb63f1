"""Users of the API and console: add, list, remove, change password or role (audited)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy.exc import IntegrityError

from monitor.errors import Conflict, InvalidRequest, NotFound
from monitor.services.accounts import User, check_role, hash_password, verify_password
from monitor.services.audit import record
from monitor.services.context import Context
from monitor.storage import accounts as store

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=check_role(row["role"]),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
    )


def public(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user (no hash)."""
    return {"name": user.name, "role": user.role}


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidRequest(
            f"bad user name {name[:70]!r}: 1-64 letters, digits, '.', '_', '@' or '-'"
        )
    return name


class Users:
    """The users use cases."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def add(self, name: str, role: str, password: str, *, actor: str) -> User:
        """A new user; Conflict when the name is taken."""
        role, name = check_role(role), check_name(name)
        password_hash = await asyncio.to_thread(hash_password, password)
        now = self._context.clock.now()
        try:
            async with self._context.write() as conn:
                await store.insert_user(
                    conn, name=name, role=role, password_hash=password_hash, now=now
                )
                user = await self._get(conn, name)
                await record(
                    conn,
                    at=now,
                    actor=actor,
                    action="user.add",
                    target=f"user:{name}",
                    after=public(user),
                )
        except IntegrityError as e:
            raise Conflict(f"user {name!r} exists") from e
        return user

    async def list(self) -> list[User]:
        async with self._context.read() as conn:
            return [_user(row) for row in await store.list_users(conn)]

    async def get(self, name: str) -> User:
        async with self._context.read() as conn:
            return await self._get(conn, name)

    async def any(self) -> bool:
        """Whether at least one user exists."""
        async with self._context.read() as conn:
            return await store.count_users(conn) > 0

    async def remove(self, name: str, *, actor: str) -> User:
        """Delete a user with their tokens and sessions."""
        async with self._context.write() as conn:
            user = await self._get(conn, name)
            await store.delete_user(conn, user.id)
            await record(
                conn,
                at=self._context.clock.now(),
                actor=actor,
                action="user.remove",
                target=f"user:{name}",
                before=public(user),
            )
        return user

    async def set_password(self, name: str, password: str, *, actor: str) -> None:
        """Replace the password; every session of the user ends."""
        password_hash = await asyncio.to_thread(hash_password, password)
        now = self._context.clock.now()
        async with self._context.write() as conn:
            user = await self._get(conn, name)
            await store.set_password(conn, user.id, password_hash, now)
            await record(
                conn,
                at=now,
                actor=actor,
                action="user.passwd",
                target=f"user:{name}",
                before=public(user),
                after=public(user),
            )

    async def set_role(self, name: str, role: str, *, actor: str) -> User:
        role = check_role(role)
        async with self._context.write() as conn:
            user = await self._get(conn, name)
            await store.set_role(conn, user.id, role)
            changed = await self._get(conn, name)
            await record(
                conn,
                at=self._context.clock.now(),
                actor=actor,
                action="user.role",
                target=f"user:{name}",
                before=public(user),
                after=public(changed),
            )
        return changed

    async def verify(self, name: str, password: str) -> User | None:
        """The user when `password` is theirs, else None (same cost for an unknown name)."""
        async with self._context.read() as conn:
            row = await store.user_by_name(conn, name)
        stored = row["password_hash"] if row else None
        if not await asyncio.to_thread(verify_password, stored, password) or row is None:
            return None
        return _user(row)

    @staticmethod
    async def _get(conn: Any, name: str) -> User:
        row = await store.user_by_name(conn, name)
        if row is None:
            raise NotFound(f"no user {name!r}")
        return _user(row)
