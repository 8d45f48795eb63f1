"""Service commands: run, demo, db upgrade, status, health, config check."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import call, counted, fail, load, options, out, print_json, run_async
from monitor.config import Settings
from monitor.logs import configure_logging
from monitor.services import to_json
from monitor.services.settings import upgrade_database
from monitor.textcaps import ERROR_CHARS, TITLE_CHARS, clip
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe, safe_join
from monitor.units import format_duration

if TYPE_CHECKING:
    from monitor.runner import PollReport, RoundReport


# One line per feed in any terminal: times and states whole, the error cut to what is left;
# last success, next poll and the interval go first when the width runs out.
STATUS_COLUMNS = (
    Col("id", "kept"),
    Col("name", cap=20),
    Col("state", "kept"),
    Col("last poll", "kept"),
    Col("last success", "kept", drop=3),
    Col("next poll", "kept", drop=2),
    Col("every", "kept", drop=1),
    Col("articles", "kept"),
    Col("last error / note", "free"),
)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("demo")(demo)
    app.command("status")(status)
    app.command("health")(health)
    db = typer.Typer(help="Database schema.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")
    config = typer.Typer(help="Configuration.", no_args_is_help=True)
    config.command("check")(config_check)
    app.add_typer(config, name="config")


def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One pass over due feeds, deliver, exit.")
    ] = False,
    all_feeds: Annotated[
        bool, typer.Option("--all", help="With --once: every active feed, due or not.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes under one supervisor.")
    ] = 1,
) -> None:
    """The service: poll, extract, store, match and deliver until SIGTERM/SIGINT."""
    opts = options(ctx)
    configure_logging(opts.log_format, opts.verbose, service=True)
    settings = load(ctx)
    if all_feeds and not once:
        raise fail("--all goes with --once", 2)
    if workers > 1:
        from monitor.supervisor import supervise

        raise typer.Exit(
            supervise(opts.config, workers, log_format=opts.log_format, verbose=opts.verbose)
        )
    if once:
        report = run_async(lambda: _once(settings, all_feeds))
        out.print(
            f"polled {counted(len(report.polls), 'feed')}: "
            f"{counted(report.stored, 'article')} stored, {counted(report.alerts, 'alert')}, "
            f"{counted(report.delivered, 'message')} delivered, {report.failed_deliveries()}, "
            f"{counted(report.errors, 'feed error')}",
            highlight=False,
        )
        return
    from monitor.lifetime import follow_supervisor

    follow_supervisor(os.environ)
    run_async(lambda: _serve(settings, opts.config))


async def _once(settings: Settings, all_feeds: bool) -> RoundReport:
    from monitor.runner import run_once

    if not out.is_terminal:
        return await run_once(settings, all_feeds=all_feeds)
    totals = {"feeds": 0, "stored": 0, "errors": 0}
    with out.status("polling feeds…") as status:

        def progress(poll: PollReport) -> None:
            totals["feeds"] += 1
            totals["stored"] += poll.stored
            totals["errors"] += poll.error is not None
            status.update(
                safe(
                    f"polled {counted(totals['feeds'], 'feed')}: "
                    f"{counted(totals['stored'], 'article')} stored,"
                    f" {counted(totals['errors'], 'error')} (last: {poll.url})",
                    limit=TITLE_CHARS,
                )
            )

        return await run_once(settings, all_feeds=all_feeds, progress=progress)


async def _serve(settings: Settings, config_file: Path) -> None:
    import structlog

    from monitor.runner import serve

    # Reload and start-up notices are log lines, JSON lines too in `--log-format json`.
    log = structlog.get_logger("monitor.service")
    await serve(settings, config_file, say=lambda line: log.info(line))


def demo(
    ctx: typer.Context,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary database and print its path.")
    ] = False,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then serve the web console on 127.0.0.1 (keeps the database; prints a "
            "one-time password for the user 'demo'; Ctrl-C stops).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port for --serve (0: any free).")
    ] = 8108,
) -> None:
    """Offline demo: serve bundled recorded feeds on 127.0.0.1 and run the real pipeline."""
    from monitor.demo import run_demo, serve_demo

    opts = options(ctx)
    configure_logging(opts.log_format, opts.verbose)
    if serve:
        run_async(lambda: serve_demo(out, port=port))
    else:
        run_async(lambda: run_demo(out, keep=keep))


def db_upgrade(ctx: typer.Context) -> None:
    """Apply database migrations."""
    settings = load(ctx)
    before, after = run_async(lambda: upgrade_database(settings))
    if before == after:
        out.print(f"database is up to date (revision {after})")
    else:
        was = f"revision {before}" if before else "a new database"
        out.print(f"database upgraded from {was} to revision {after}")


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per-feed health: state, last poll, last success, last error, next poll, articles."""
    report = call(ctx, lambda m: m.health.status(), migrate=False)
    if as_json:
        print_json(to_json(report.feeds))
        return
    rows = []
    for feed in report.feeds:
        f = to_json(feed)
        every = (
            format_duration(timedelta(seconds=feed.interval_seconds))
            if feed.interval_seconds
            else "-"
        )
        colour = {"ok": "green", "erroring": "yellow"}.get(feed.state, "red")
        state = safe_join((feed.state, colour), (" silent", "magenta") if feed.silent else "")
        rows.append(
            (
                feed.id,
                clip(feed.name or feed.url, TITLE_CHARS),
                state,
                f["last_poll_at"] or "never",
                f["last_success_at"] or "never",
                f["next_poll_at"] or "-",
                every,
                feed.articles,
                clip(feed.last_error or feed.note or "", ERROR_CHARS),
            )
        )
    out.print(fitted(STATUS_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)
    backlog = to_json(report.backlog)
    out.print(
        f"outbox: {backlog['pending']} pending, {backlog['held']} held for digests, "
        f"{backlog['dead']} dead, {backlog['sent']} sent"
        + (
            f"; oldest pending since {backlog['oldest_pending_at']}"
            if backlog["oldest_pending_at"]
            else ""
        )
    )
    out.print(safe(f"health: {report.health.problem or 'healthy'}"), highlight=False)


def health(ctx: typer.Context) -> None:
    """Exit 0 if the database is reachable, migrations are current and a heartbeat is fresh."""
    found = call(ctx, lambda m: m.health.check(), migrate=False)
    if found.problem:
        raise fail(found.problem, 1)
    out.print("healthy")


def config_check(ctx: typer.Context) -> None:
    """Validate the config; exit 2 with a message naming the bad key."""
    settings = load(ctx)
    out.print(
        safe(
            f"{settings.source}: ok ({len(settings.feeds)} feeds,"
            f" {len(settings.watchlists)} watchlists, {len(settings.channels)} channels)"
        ),
        highlight=False,
    )
