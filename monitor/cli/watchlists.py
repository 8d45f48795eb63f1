"""`monitor watchlists …` and `monitor articles search`."""

from __future__ import annotations

import typer

watchlists_app = typer.Typer(help="Watchlists: list, test, backfill.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(watchlists_app, name="watchlists")
