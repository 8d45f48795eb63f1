"""Logging: structlog JSON lines, or a readable console format on a TTY.

Log fields carry feed text (titles, URLs, error lines). On a terminal, and in the console
format everywhere, every string in an event goes through `textsafe.neutralise` first, so an
escape sequence in a title is shown, never obeyed; JSON lines written to a file or a pipe
keep the text exactly (JSON escapes control characters itself).
"""

from __future__ import annotations

import logging
import os
import sys

import structlog

from monitor.textsafe import neutralise_fields


def _colours() -> bool:
    """Colour on a terminal, unless NO_COLOR is set (no-color.org) or TERM is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stderr.isatty()


def _neutralised(
    logger: object, method: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    return neutralise_fields(event)


def configure_logging(fmt: str | None, verbose: int, *, service: bool = False) -> None:
    """Set up structlog: `json` or `console` (default: console on a TTY, else json).

    The service logs at INFO; one-shot commands only warn unless `-v` is given.
    """
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    quiet = logging.INFO if service else logging.WARNING
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else quiet
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s", force=True)
    for noisy in (
        "alembic",
        "htmldate",
        "courlan",
        "charset_normalizer",
        "httpx",
        "httpcore",
        "apscheduler",
        "trafilatura",
        "aiosqlite",
        "asyncio",
        "mail.log",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if fmt == "console" or sys.stderr.isatty():
        processors.append(_neutralised)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=_colours())
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
