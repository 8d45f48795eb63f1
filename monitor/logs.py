"""Logging: structlog JSON lines, or a readable console format on a TTY."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import structlog


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
    renderer: structlog.types.Processor
    if fmt == "json":
        # Every line is JSON, tracebacks included; text in any script is written as itself
        # (داعش, not \u062f…), so logs stay greppable.
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer(serializer=_json_line)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
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
