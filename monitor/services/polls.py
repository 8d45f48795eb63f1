"""What one poll of a feed did: its report (for logs, metrics and `run --once`), the one-line
note it leaves in the feed's health, and the debug line `monitor -v run` prints per poll."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

log = structlog.get_logger("monitor.ingest")


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll did, for logs, metrics and `run --once` output."""

    feed_id: int
    url: str
    stored: int = 0
    duplicates: int = 0
    alerts: int = 0
    error: str | None = None
    not_modified: bool = False
    failed: int = 0  # entries that could not be stored (recorded against each entry)
    deferred: int = 0  # new entries past `polling.max_entries_per_poll`, left for next polls
    note: str | None = None  # one line on what this poll left undone, for the feed's health
    status: int | None = None  # the feed's HTTP status (304 when not modified)
    entries: int = 0  # entries in the feed
    new: int = 0  # of them not seen before
    skipped: tuple[tuple[str, int], ...] = ()  # (why, how many): seen before, too old


def log_poll(report: PollReport) -> None:
    """The per-poll debug line (`monitor -v run`): what the poll found and what it skipped."""
    log.debug(
        "polled",
        feed=report.url,
        status=report.status,
        entries=report.entries,
        new=report.new,
        skipped=dict(report.skipped),
        deferred=report.deferred,
        stored=report.stored,
        duplicates=report.duplicates,
        failed=report.failed,
        error=report.error,
        unchanged=report.not_modified,
    )


def poll_note(failures: Sequence[str], taken: int, deferred: int) -> str | None:
    """One line for the feed's health: entries deferred by the cap, entries that failed."""
    parts = []
    if deferred:
        parts.append(f"took {taken:,} of {taken + deferred:,} new entries; the rest next polls")
    if len(failures) == 1:
        parts.append(failures[0])
    elif failures:
        parts.append(f"{len(failures)} entries not stored; first: {failures[0]}")
    return "; ".join(parts) or None
