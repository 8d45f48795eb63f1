"""`monitor serve`: the web app (REST API, console, probes) without polling."""

from __future__ import annotations

import typer

from monitor.cli import err, load, options, run_async
from monitor.clock import SystemClock
from monitor.logs import configure_logging


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(ctx: typer.Context) -> None:
    """The REST API and console without polling, until SIGTERM (PostgreSQL only).

    Listens on server.host:server.port: a web tier beside `monitor run` workers. On SQLite
    the one `monitor run` process serves the same app (server.enabled = true)."""
    from monitor.server import serve_web

    opts = options(ctx)
    configure_logging(opts.log_format, opts.verbose, service=True)
    settings = load(ctx)
    run_async(
        lambda: serve_web(
            settings, clock=SystemClock(), say=lambda line: err.print(line, highlight=False)
        )
    )
