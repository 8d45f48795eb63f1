"""SQL for users, API tokens and console sessions (hashes in, rows out; no crypto here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.tables import api_tokens, sessions, users

Row = dict[str, Any]


async def insert_user(
    conn: AsyncConnection, *, name: str, role: str, password_hash: str, now: datetime
) -> int:
    """A new user's id; raises IntegrityError when the name is taken."""
    result = await conn.execute(
        insert(users)
        .values(
            name=name,
            role=role,
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


async def user_by_name(conn: AsyncConnection, name: str) -> Row | None:
    row = (await conn.execute(select(users).where(users.c.name == name))).first()
    return None if row is None else dict(row._mapping)


async def list_users(conn: AsyncConnection) -> list[Row]:
    return [dict(r._mapping) for r in await conn.execute(select(users).order_by(users.c.name))]


async def count_users(conn: AsyncConnection) -> int:
    return len((await conn.execute(select(users.c.id).limit(1))).all())


async def delete_user(conn: AsyncConnection, user_id: int) -> None:
    """Delete a user with its tokens and sessions (explicitly: SQLite may run without FKs)."""
    await conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
    await conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    await conn.execute(delete(users).where(users.c.id == user_id))


async def set_password(
    conn: AsyncConnection, user_id: int, password_hash: str, now: datetime
) -> None:
    """Replace a user's password hash and end every session of theirs."""
    await conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=now)
    )
    await conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


async def set_role(conn: AsyncConnection, user_id: int, role: str) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(role=role))


async def insert_token(
    conn: AsyncConnection,
    *,
    user_id: int,
    token_hash: str,
    prefix: str,
    now: datetime,
    expires_at: datetime | None,
) -> int:
    result = await conn.execute(
        insert(api_tokens)
        .values(
            user_id=user_id,
            token_hash=token_hash,
            prefix=prefix,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(api_tokens.c.id)
    )
    return int(result.scalar_one())


def _tokens_query() -> Any:
    return select(api_tokens, users.c.name.label("user_name"), users.c.role).select_from(
        api_tokens.join(users, users.c.id == api_tokens.c.user_id)
    )


async def token_by_hash(conn: AsyncConnection, token_hash: str) -> Row | None:
    """The token with its user's name and role, whatever its state, or None."""
    row = (await conn.execute(_tokens_query().where(api_tokens.c.token_hash == token_hash))).first()
    return None if row is None else dict(row._mapping)


async def token_by_id(conn: AsyncConnection, token_id: int) -> Row | None:
    row = (await conn.execute(_tokens_query().where(api_tokens.c.id == token_id))).first()
    return None if row is None else dict(row._mapping)


async def list_tokens(conn: AsyncConnection, user: str | None = None) -> list[Row]:
    query = _tokens_query().order_by(api_tokens.c.id)
    if user is not None:
        query = query.where(users.c.name == user)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def revoke_token(conn: AsyncConnection, token_id: int, now: datetime) -> None:
    await conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def touch_token(conn: AsyncConnection, token_id: int, now: datetime) -> None:
    await conn.execute(
        update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
    )


async def insert_session(
    conn: AsyncConnection, *, id_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        insert(sessions).values(
            id_hash=id_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


async def session_by_hash(conn: AsyncConnection, id_hash: str, now: datetime) -> Row | None:
    """The unexpired session with its user's id, name and role, or None."""
    row = (
        await conn.execute(
            select(sessions, users.c.name.label("user_name"), users.c.role)
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
            .where(sessions.c.id_hash == id_hash, sessions.c.expires_at > now)
        )
    ).first()
    return None if row is None else dict(row._mapping)


async def delete_session(conn: AsyncConnection, id_hash: str) -> None:
    await conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))


async def delete_expired_sessions(conn: AsyncConnection, now: datetime) -> None:
    await conn.execute(delete(sessions).where(sessions.c.expires_at <= now))


async def delete_expired(conn: AsyncConnection, now: datetime, tokens_before: datetime) -> int:
    """Drop expired sessions, and tokens expired or revoked before `tokens_before`; how many."""
    dropped = await conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
    tokens = await conn.execute(
        delete(api_tokens).where(
            or_(api_tokens.c.expires_at <= tokens_before, api_tokens.c.revoked_at <= tokens_before)
        )
    )
    return int(dropped.rowcount or 0) + int(tokens.rowcount or 0)
