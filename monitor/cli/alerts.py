"""`monitor alerts …` and `monitor channels …`."""

from __future__ import annotations

import typer

alerts_app = typer.Typer(help="Alerts and their deliveries.", no_args_is_help=True)
channels_app = typer.Typer(help="Alert channels.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(channels_app, name="channels")
