"""Logging: structlog JSON lines, or a readable console format on a TTY."""

from __future__ import annotations

import logging
import sys

import structlog


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
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
