"""Service commands: run, demo, db upgrade, status, health, config check."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import func, select

from monitor.cli import err, fail, load, options, out, print_json, run_async
from monitor.config import Settings
from monitor.logs import configure_logging
from monitor.units import format_duration

HEARTBEAT_MAX_AGE = timedelta(seconds=60)


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
            f"polled {len(report.polls)} feeds: {report.stored} articles stored, "
            f"{report.alerts} alerts, {report.delivered} messages delivered, {report.errors} feed errors"
        )
        return
    run_async(lambda: _serve(settings, opts.config))


async def _once(settings: Settings, all_feeds: bool) -> Any:
    from monitor.app import open_runtime
    from monitor.scheduler import run_round
    from monitor.storage.engine import single_writer

    with single_writer(settings.database.url):
        async with open_runtime(settings) as runtime:
            await _clear_leases_if_sqlite(runtime)
            if not out.is_terminal:
                return await run_round(runtime, all_feeds=all_feeds)
            totals = {"feeds": 0, "stored": 0, "errors": 0}
            with out.status("polling feeds…") as status:

                def progress(poll: Any) -> None:
                    totals["feeds"] += 1
                    totals["stored"] += poll.stored
                    totals["errors"] += poll.error is not None
                    status.update(
                        f"polled {totals['feeds']} feeds: {totals['stored']} articles stored,"
                        f" {totals['errors']} errors (last: {poll.url})"
                    )

                return await run_round(runtime, all_feeds=all_feeds, progress=progress)


async def _clear_leases_if_sqlite(runtime: Any) -> None:
    from monitor.storage.engine import is_sqlite
    from monitor.storage.feeds import clear_stale_leases

    if is_sqlite(runtime.engine):
        await clear_stale_leases(runtime.engine)


async def _serve(settings: Settings, config_file: Any) -> None:
    from monitor.app import compile_matcher, load_settings, open_runtime
    from monitor.scheduler import Service
    from monitor.storage.engine import single_writer

    # Signals are handled from the first moment: a SIGTERM during start-up (migrations,
    # pool start) still ends in a graceful stop and exit 0.
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop_requested.set)
    loop.add_signal_handler(signal.SIGINT, stop_requested.set)
    with single_writer(settings.database.url):
        async with open_runtime(settings) as runtime:
            await _clear_leases_if_sqlite(runtime)
            service = Service(runtime)

            async def relay_stop() -> None:
                await stop_requested.wait()
                service.stop()

            def reload() -> None:
                try:
                    fresh = load_settings(config_file)
                    runtime.ingestor.matcher = compile_matcher(fresh)
                    runtime.ingestor.settings = runtime.ingestor.settings.model_copy(
                        update={"watchlists": fresh.watchlists}
                    )
                    err.print(f"watchlists reloaded ({len(fresh.watchlists)})", highlight=False)
                except Exception as e:  # keep the running watchlists on a bad edit
                    err.print(f"[red]reload refused:[/red] {e}", highlight=False)

            loop.add_signal_handler(signal.SIGHUP, reload)
            relay = asyncio.create_task(relay_stop())
            try:
                await service.run()
            finally:
                relay.cancel()


def demo(
    ctx: typer.Context,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary database and print its path.")
    ] = False,
) -> None:
    """Offline demo: serve bundled recorded feeds on 127.0.0.1 and run the real pipeline."""
    from monitor.demo import run_demo

    opts = options(ctx)
    configure_logging(opts.log_format, opts.verbose)
    run_async(lambda: run_demo(out, keep=keep))


def db_upgrade(ctx: typer.Context) -> None:
    """Apply database migrations."""
    from monitor.app import open_engine

    settings = load(ctx, check_secrets=False)

    async def go() -> None:
        async with open_engine(settings):
            pass

    run_async(go)
    out.print("database is up to date")


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per-feed health: state, last poll, last success, last error, next poll, articles."""
    from monitor.app import open_engine
    from monitor.storage.queries import feed_status, outbox_backlog

    settings = load(ctx, check_secrets=False)

    async def go() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        from monitor.clock import SystemClock
        from monitor.silence import SilencePolicy

        silence = SilencePolicy.from_polling(settings.polling)
        async with open_engine(settings) as engine, engine.connect() as conn:
            rows = await feed_status(conn, now=SystemClock().now(), silence=silence)
            return rows, await outbox_backlog(conn)

    feeds, backlog = run_async(go)
    if as_json:
        print_json(feeds)
        return
    table = Table(
        "id",
        "name",
        "state",
        "last poll",
        "last success",
        "next poll",
        "every",
        "articles",
        "last error / note",
    )
    for f in feeds:
        every = (
            format_duration(timedelta(seconds=f["interval_seconds"]))
            if f["interval_seconds"]
            else "-"
        )
        state = {"ok": "[green]ok[/]", "erroring": "[yellow]erroring[/]"}.get(
            f["state"], f"[red]{f['state']}[/]"
        ) + (" [magenta]silent[/]" if f.get("silent") else "")
        table.add_row(
            str(f["id"]),
            f["name"] or f["url"],
            state,
            f["last_poll_at"] or "never",
            f["last_success_at"] or "never",
            f["next_poll_at"] or "-",
            every,
            str(f["articles"]),
            f["last_error"] or f.get("note") or "",
        )
    out.print(table)
    out.print(
        f"outbox: {backlog['pending']} pending, {backlog['held']} held for digests, "
        f"{backlog['dead']} dead, {backlog['sent']} sent"
        + (
            f"; oldest pending since {backlog['oldest_pending_at']}"
            if backlog["oldest_pending_at"]
            else ""
        )
    )


def health(ctx: typer.Context) -> None:
    """Exit 0 if the database is reachable, migrations are current and a heartbeat is fresh."""
    from monitor.storage.engine import create_engine, migration_state
    from monitor.storage.tables import heartbeats

    settings = load(ctx, check_secrets=False)

    async def go() -> str | None:
        engine = create_engine(settings.database.url)
        try:
            current, head = await migration_state(engine)
            if current != head:
                return f"migrations not current (database at {current or 'none'}, code at {head})"
            async with engine.connect() as conn:
                newest = await conn.scalar(select(func.max(heartbeats.c.beat_at)))
            from monitor.clock import SystemClock

            if newest is None:
                return "no heartbeat: is `monitor run` running?"
            age = SystemClock().now() - newest
            if age > HEARTBEAT_MAX_AGE:
                return f"heartbeat is stale ({int(age.total_seconds())}s old)"
            return None
        finally:
            await engine.dispose()

    problem = run_async(go)
    if problem:
        raise fail(problem, 1)
    out.print("healthy")


def config_check(ctx: typer.Context) -> None:
    """Validate the config; exit 2 with a message naming the bad key."""
    settings = load(ctx)
    out.print(
        f"{settings.source}: ok ({len(settings.feeds)} feeds, {len(settings.watchlists)} watchlists,"
        f" {len(settings.channels)} channels)"
    )
