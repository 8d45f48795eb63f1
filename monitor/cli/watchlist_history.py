"""`monitor watchlists history NAME`: each recorded version of a watchlist, with a diff."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from monitor.cli import call, out, print_json
from monitor.cli.watchlists import watchlists_app


def register(app: typer.Typer) -> None:
    """The command is added to `monitor watchlists` when this module is imported."""


@watchlists_app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Watchlist name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every definition of a watchlist the service loaded (at start or on SIGHUP), oldest
    first: version, sha256, when and where it was first loaded, and what changed."""
    versions = call(ctx, lambda m: m.watchlists.history(name))
    if as_json:
        print_json([v.as_json() for v in versions])
        return
    for version in versions:
        out.print(
            f"[bold]{name} v{version.version}[/bold]  sha256 {version.sha256[:16]}…  "
            f"first loaded {version.first_loaded_at:%Y-%m-%dT%H:%M:%SZ} on {version.host}",
            highlight=False,
        )
        for line in version.diff:
            style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "")
            out.print(Text(f"  {line}", style=style))
