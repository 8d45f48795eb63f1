"""`monitor users …`, `monitor tokens …` and `monitor audit list`: the accounts of the HTTP
API and console, managed on the server. Changes are audited with the actor `cli:<OS user>`."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from monitor.cli import call, err, fail, out, print_json, since_option
from monitor.services.accounts import ROLES
from monitor.services.shapes import to_json, token_json
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe
from monitor.units import iso_z, parse_duration

users_app = typer.Typer(help="Users of the HTTP API and console.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (Authorization: Bearer).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of changes.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
# One line per row in any terminal (`textfit`): ids, times and states whole; when the width runs
# out, a user's password change, a token's creation and last use, an audit entry's id and then
# its change go first.
USER_COLUMNS = (
    Col("name", cap=24),
    Col("role", "kept"),
    Col("created", "kept"),
    Col("password changed", "kept", drop=1),
)
TOKEN_COLUMNS = (
    Col("id", "kept"),
    Col("prefix", "kept"),
    Col("user", cap=16),
    Col("state", "kept"),
    Col("created", "kept", drop=2),
    Col("expires", "kept"),
    Col("last used", "kept", drop=1),
)
AUDIT_COLUMNS = (
    Col("id", "kept", drop=2),
    Col("at", "kept"),
    Col("actor", cap=16),
    Col("action", "kept"),
    Col("target", "kept"),
    Col("change", "free", drop=1),
)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(audit_app, name="audit")


def actor() -> str:
    """Who a CLI change is recorded as."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def read_password() -> str:
    """A new password: prompted twice on a terminal, else the first line of stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise fail("the two passwords differ", 2)
    return first


def _role(value: str) -> str:
    if value not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    return value


@users_app.command("add")
def add_user(
    ctx: typer.Context,
    name: str,
    role: Annotated[str, typer.Option("--role", help="viewer, analyst or admin.")] = "viewer",
) -> None:
    """Add a user; the password is prompted (or read from stdin in scripts)."""
    role, password = _role(role), read_password()
    user = call(ctx, lambda m: m.users.add(name, role, password, actor=actor()))
    out.print(safe(f"added {user.name} ({user.role})"), highlight=False)


@users_app.command("list")
def list_users(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Users with their roles."""
    users = call(ctx, lambda m: m.users.list())
    if as_json:
        print_json(to_json(users))
        return
    rows = [
        (user.name, user.role, iso_z(user.created_at), iso_z(user.password_changed_at))
        for user in users
    ]
    out.print(fitted(USER_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


@users_app.command("remove")
def remove_user(ctx: typer.Context, name: str) -> None:
    """Delete a user with their tokens and sessions."""
    call(ctx, lambda m: m.users.remove(name, actor=actor()))
    out.print(safe(f"removed {name}"), highlight=False)


@users_app.command("passwd")
def change_password(ctx: typer.Context, name: str) -> None:
    """Set a user's password (prompted, or read from stdin); their sessions end."""
    password = read_password()
    call(ctx, lambda m: m.users.set_password(name, password, actor=actor()))
    out.print(safe(f"password of {name} changed"), highlight=False)


@tokens_app.command("create")
def create_token(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", help="Whose token it is.")],
    expires: Annotated[
        str, typer.Option("--expires", help="Lifetime such as 90d, or 'never'.")
    ] = "90d",
) -> None:
    """Create a token and print it once: only its hash is stored."""
    try:
        lifetime = None if expires == "never" else parse_duration(expires)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--expires") from None
    issued = call(ctx, lambda m: m.tokens.create(user, expires=lifetime, actor=actor()))
    sys.stdout.write(issued.secret + "\n")
    until = iso_z(issued.info.expires_at) or "revoked"
    err.print(
        safe(f"token {issued.info.id} for {user}, valid until {until}; it is not shown again"),
        highlight=False,
    )


@tokens_app.command("list")
def list_tokens(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens: prefix, user, state, expiry, last use (never the secret)."""
    tokens = call(ctx, lambda m: m.tokens.list(user))
    now = datetime.now(UTC)
    if as_json:
        print_json([token_json(t, now) for t in tokens])
        return
    rows = [
        (
            token.id,
            token.prefix + "…",
            token.user,
            token.state(now),
            iso_z(token.created_at),
            iso_z(token.expires_at) or "never",
            iso_z(token.last_used_at) or "-",
        )
        for token in tokens
    ]
    out.print(fitted(TOKEN_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


@tokens_app.command("revoke")
def revoke_token(ctx: typer.Context, token_id: int) -> None:
    """Revoke a token at once."""
    call(ctx, lambda m: m.tokens.revoke(token_id, actor=actor()))
    out.print(safe(f"revoked token {token_id}"), highlight=False)


@audit_app.command("list")
def list_audit(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d.")] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="e.g. alert:alt_…, user:ann.")
    ] = None,
    who: Annotated[str | None, typer.Option("--actor", help="Only this actor's.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Changes newest first: who, what, when, before and after."""
    after = since_option(since)
    page = call(ctx, lambda m: m.audit.list(limit=limit, target=target, actor=who, since=after))
    if as_json:
        print_json(to_json(page.items))
        return
    rows = [
        (
            entry.id,
            iso_z(entry.at),
            entry.actor,
            entry.action,
            entry.target,
            " → ".join(
                json.dumps(side, ensure_ascii=False) for side in (entry.before, entry.after) if side
            ),
        )
        for entry in page.items
    ]
    out.print(fitted(AUDIT_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)
