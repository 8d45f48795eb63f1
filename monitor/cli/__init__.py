"""`monitor`: the command line, a thin typer face over the use cases (`monitor.services`):
each command parses its options, makes one use-case call (`call`) and renders the records.

Exit codes: 0 ok, 2 usage or config error, 1 runtime failure. An id or URL naming nothing
stored (NotFound) is 1, like any answer "no"; a malformed or ambiguous one (InvalidRequest)
and a name the config lacks (NotConfigured) are 2. Errors are one line on stderr, never a
traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from monitor.config import Settings, config_path
from monitor.errors import ConfigError, InvalidRequest, MonitorError, NotConfigured
from monitor.logs import configure_logging
from monitor.services import Monitor, open_monitor
from monitor.textsafe import json_safe, safe_join
from monitor.units import parse_duration

T = TypeVar("T")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(
    name="monitor",
    help="Watch news feeds, store articles, and alert when watchlist actors or terms appear.",
    epilog="Exit codes: 0 ok; 1 runtime failure, including an id or URL that names nothing"
    " stored (no such alert, story, article or feed); 2 usage or config error: a bad option"
    " or argument, an id prefix that matches several alerts, a watchlist or channel the"
    " config does not name.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class Options:
    config: Path
    log_format: str | None
    verbose: int

    def settings(self, *, check_secrets: bool = True) -> Settings:
        from monitor.services import load_settings

        return load_settings(self.config, check_secrets=check_secrets)


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Config file (else $MONITOR_CONFIG, else config/monitor.toml)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", help="json or console (default: console on a TTY)."),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="More logging: `run -v` logs a line per poll (status, entries, new, skipped"
            " and why); other commands: -v info, -vv debug.",
        ),
    ] = 0,
) -> None:
    if log_format not in (None, "json", "console"):
        raise typer.BadParameter("must be json or console", param_hint="--log-format")
    ctx.obj = Options(config_path(config), log_format, verbose)
    configure_logging(log_format, verbose)


def options(ctx: typer.Context) -> Options:
    obj = ctx.find_root().obj
    assert isinstance(obj, Options)
    return obj


def counted(count: int, word: str, plural: str = "") -> str:
    """ "1 article", "2 articles" (`plural` for words not made with -s)."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line and return the Exit to raise (the message printed as text)."""
    err.print(safe_join(("error:", "red"), " ", message), highlight=False)
    return typer.Exit(code)


def run_async(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; turn our errors into one line and an exit code (2 for a bad config
    or request, else 1)."""
    try:
        return asyncio.run(coro_fn())  # type: ignore[arg-type]
    except (ConfigError, InvalidRequest, NotConfigured) as e:
        raise fail(str(e), 2) from None
    except MonitorError as e:
        raise fail(str(e), 1) from None


def load(ctx: typer.Context, *, check_secrets: bool = True) -> Settings:
    """The settings, or exit 2 with the config error."""
    try:
        return options(ctx).settings(check_secrets=check_secrets)
    except ConfigError as e:
        raise fail(str(e), 2) from None


def call(
    ctx: typer.Context,
    use_case: Callable[[Monitor], Awaitable[T]],
    *,
    check_secrets: bool = False,
    migrate: bool = True,
) -> T:
    """Load the settings, open the use cases, run one, close them: the body of a command."""
    settings = load(ctx, check_secrets=check_secrets)

    async def go() -> T:
        async with open_monitor(settings, migrate=migrate) as monitor:
            return await use_case(monitor)

    return run_async(go)


def since_option(value: str | None) -> datetime | None:
    """`--since 30d` → the datetime that long ago."""
    if not value:
        return None
    try:
        return datetime.now(UTC) - parse_duration(value)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--since") from None


def print_json(data: Any) -> None:
    """Print JSON-ready data (`to_json` of a record) as indented UTF-8; characters a terminal
    would obey (C1 controls, bidi overrides) and lone surrogates are written as \\u escapes."""
    import json

    sys.stdout.write(json_safe(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")


def _register() -> None:
    from monitor.cli import (
        accounts,
        alerts,
        articles,
        evidence,
        feeds,
        service,
        trends,
        watchlist_history,
        watchlists,
        web,
    )

    service.register(app)
    feeds.register(app)
    articles.register(app)
    alerts.register(app)
    watchlists.register(app)
    watchlist_history.register(app)
    evidence.register(app)
    web.register(app)
    accounts.register(app)
    trends.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
