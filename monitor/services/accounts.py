"""What the account use cases share: roles, the principal a request acts as, and hashing.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 low-memory profile). Tokens and
session ids are 32 random bytes; only their SHA-256 is stored, so the database alone cannot
be used to sign in, and a lookup is one index probe.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitor.errors import InvalidRequest

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = (
    "viewer",
    "analyst",
    "admin",
)  # each role can do what those before it can
_HASHER = PasswordHasher()


def a_role(role: Role) -> str:
    """The role with its indefinite article, for messages: "an analyst", "a viewer"."""
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"


MIN_PASSWORD = 8
MAX_PASSWORD = 1024


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so an unknown name costs as long as a
    wrong password; made on first use, not at import (an argon2 hash on every CLI start)."""
    return _HASHER.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a user with a role, signed in by token or by session."""

    user_id: int
    name: str
    role: Role
    via: Literal["token", "session", "cli"]

    def can(self, role: Role) -> bool:
        """Whether this principal's role is `role` or above it."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True, slots=True)
class User:
    """A user of the API and console (never with its hash)."""

    id: int
    name: str
    role: Role
    created_at: datetime
    password_changed_at: datetime


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InvalidRequest(f"unknown role {role!r}: use viewer, analyst or admin")


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidRequest(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash, spends the same time and says False."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password[:MAX_PASSWORD]) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str) -> str:
    """A fresh random secret that says what it is (`fmt_…` token, `fms_…` session)."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The stored form of a token or session id."""
    return hashlib.sha256(secret.encode()).hexdigest()
