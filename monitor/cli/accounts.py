"""`monitor users …`, `monitor tokens …` and `monitor audit list`: the accounts of the HTTP
API and console, managed on the server. Changes are audited with the actor `cli:<OS user>`."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli import call, err, fail, out, print_json, since_option
from monitor.services.accounts import ROLES
from monitor.services.shapes import to_json, token_json
from monitor.units import iso_z, parse_duration

users_app = typer.Typer(help="Users of the HTTP API and console.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (Authorization: Bearer).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log of changes.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


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
    out.print(f"added {user.name} ({user.role})", highlight=False)


@users_app.command("list")
def list_users(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Users with their roles."""
    users = call(ctx, lambda m: m.users.list())
    if as_json:
        print_json(to_json(users))
        return
    table = Table("name", "role", "created", "password changed")
    for user in users:
        table.add_row(user.name, user.role, iso_z(user.created_at), iso_z(user.password_changed_at))
    out.print(table)


@users_app.command("remove")
def remove_user(ctx: typer.Context, name: str) -> None:
    """Delete a user with their tokens and sessions."""
    call(ctx, lambda m: m.users.remove(name, actor=actor()))
    out.print(f"removed {name}", highlight=False)


@users_app.command("passwd")
def change_password(ctx: typer.Context, name: str) -> None:
    """Set a user's password (prompted, or read from stdin); their sessions end."""
    password = read_password()
    call(ctx, lambda m: m.users.set_password(name, password, actor=actor()))
    out.print(f"password of {name} changed", highlight=False)


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
        f"token {issued.info.id} for {user}, valid until {until}; it is not shown again",
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
    table = Table("id", "prefix", "user", "state", "created", "expires", "last used")
    for token in tokens:
        table.add_row(
            str(token.id),
            token.prefix + "…",
            token.user,
            token.state(now),
            iso_z(token.created_at),
            iso_z(token.expires_at) or "never",
            iso_z(token.last_used_at) or "-",
        )
    out.print(table)


@tokens_app.command("revoke")
def revoke_token(ctx: typer.Context, token_id: int) -> None:
    """Revoke a token at once."""
    call(ctx, lambda m: m.tokens.revoke(token_id, actor=actor()))
    out.print(f"revoked token {token_id}", highlight=False)


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
    table = Table("id", "at", "actor", "action", "target", "change")
    for entry in page.items:
        change = " → ".join(
            json.dumps(side, ensure_ascii=False) for side in (entry.before, entry.after) if side
        )
        table.add_row(
            str(entry.id), iso_z(entry.at), entry.actor, entry.action, entry.target, change
        )
    out.print(table)
