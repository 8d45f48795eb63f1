"""System messages: notices the service raises by itself through a channel, as `system`
outbox rows. Today one kind, `feed.silent` (a feed went dark), raised once per silence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from monitor.notify.payload import derive_id, outbox_row, render_json
from monitor.silence import SilentFeed
from monitor.units import format_duration, iso_z

SILENT_TYPE = "feed.silent"


def silence_payload(feed: SilentFeed, now: datetime) -> dict[str, Any]:
    """The system message raised once per silence (same id for the same silence)."""
    name = feed.name or feed.url
    return {
        "id": derive_id("sys_", SILENT_TYPE, str(feed.id), iso_z(feed.quiet_since) or ""),
        "type": SILENT_TYPE,
        "created_at": iso_z(now),
        "message": (
            f"feed {name} has produced nothing new since {iso_z(feed.quiet_since)}"
            f" (silent after {format_duration(feed.silent_after)})"
        ),
        "feed": {"id": feed.id, "url": feed.url, "name": feed.name},
        "silent_since": iso_z(feed.quiet_since),
        "silent_after_seconds": feed.silent_after.total_seconds(),
        "state": feed.state,
        "last_error": feed.last_error,
        "last_poll_at": iso_z(feed.last_poll_at),
    }


def silence_row(feed: SilentFeed, channel: str, now: datetime) -> dict[str, Any]:
    """The outbox row (kind `system`) carrying a silence notice to `channel`."""
    payload = silence_payload(feed, now)
    return outbox_row(
        message_id=payload["id"], channel=channel, kind="system", body=render_json(payload), now=now
    )


def silence_notice(channel: str) -> Callable[[SilentFeed, datetime], dict[str, Any] | None]:
    """The notice builder for silent feeds: a row for `channel`, or none when it is empty."""

    def notice(feed: SilentFeed, now: datetime) -> dict[str, Any] | None:
        return silence_row(feed, channel, now) if channel else None

    return notice
