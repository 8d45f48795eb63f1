"""Logging: structlog JSON lines, or a readable console format on a TTY.

Log fields carry feed text (titles, URLs, error lines). On a terminal, and in the console
format everywhere, every string in an event goes through `textsafe.neutralise` first, so an
escape sequence in a title is shown, never obeyed; JSON lines written to a file or a pipe
keep the text exactly (JSON escapes control characters itself).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

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

    The service logs at INFO, and with `-v` at DEBUG (a line per poll: status, entries, new,
    skipped and why); one-shot commands only warn, `-v` INFO, `-vv` DEBUG.
    """
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    if service:
        level = logging.DEBUG if verbose else logging.INFO
    else:
        level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
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
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if fmt == "console" or sys.stderr.isatty():
        shared.append(_neutralised)
    renderer: structlog.types.Processor
    if fmt == "json":
        # Every line is JSON, tracebacks included; text in any script is written as itself
        # (داعش, not \u062f…), so logs stay greppable.
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer(serializer=_json_line)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_colours())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Records of the standard library's logging (APScheduler, asyncio's "Task exception was
    # never retrieved", uvicorn) are rendered by the same renderer: one format for every line.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared[:-1], structlog.stdlib.add_logger_name, shared[-1]]
            if fmt == "json"
            else [*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _json_line(value: Any, **options: Any) -> str:
    return json.dumps(value, **(options | {"ensure_ascii": False}))
