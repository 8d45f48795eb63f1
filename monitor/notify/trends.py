"""Pure payloads of surge and quiet episodes (`watchlist.surge`, `watchlist.quiet`,
`coverage.quiet`) and their outbox rows, one per channel, all carrying the same body.

The payload explains itself: what was observed against what was expected, how improbable
that is, the stories and outlets behind it, and the console page to look at. Its `message`
is one line a human reads first (the email subject, the log event).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from monitor.notify.payload import channel_message_id, derive_id, outbox_row, render_json
from monitor.trends import HOUR, SurgeAssessment
from monitor.units import format_duration, iso_z

SURGE_TYPE = "watchlist.surge"
WATCHLIST_QUIET_TYPE = "watchlist.quiet"
COVERAGE_QUIET_TYPE = "coverage.quiet"
TREND_TYPES = (SURGE_TYPE, WATCHLIST_QUIET_TYPE, COVERAGE_QUIET_TYPE)


def watchlist_link(watchlist: str) -> str:
    """The console path of a watchlist's page (its chart shows the surge)."""
    return f"/watchlists/{quote(watchlist, safe='')}"


def tag_link(tag: str) -> str:
    """The console path of the feeds carrying a tag."""
    return f"/feeds?tag={quote(tag, safe='')}"


def surge_id(watchlist: str, hour: datetime) -> str:
    """The id of the surge episode a watchlist opened in `hour`."""
    return derive_id("srg_", SURGE_TYPE, watchlist, iso_z(hour) or "")


def quiet_id(kind: str, subject: str, last_story_at: datetime) -> str:
    """The id of a silence: the same for as long as no new story arrives."""
    return derive_id("qui_", kind, subject, iso_z(last_story_at) or "")


@dataclass(frozen=True, slots=True)
class Drivers:
    """The stories and outlets behind a surge window."""

    stories: Sequence[tuple[int, str, int]]  # (story id, title, outlets)
    outlets: Sequence[tuple[int, str, int]]  # (feed id, name, stories)


def surge_payload(
    episode_id: str,
    watchlist: str,
    severity: str,
    test: SurgeAssessment,
    drivers: Drivers,
    now: datetime,
) -> dict[str, Any]:
    """The `watchlist.surge` payload."""
    hours = round((now - test.window_start) / HOUR + 0.4999)
    factor = round(test.factor, 2)
    return {
        "id": episode_id,
        "type": SURGE_TYPE,
        "created_at": iso_z(now),
        "watchlist": watchlist,
        "severity": severity,
        "message": (
            f"Surge on watchlist {watchlist}: {test.observed} stories in the last {hours}h,"
            f" {test.expected:.1f} expected ({factor}×, p={test.p_value:.1e})"
        ),
        "window": {"start": iso_z(test.window_start), "end": iso_z(now)},
        "observed": test.observed,
        "expected": round(test.expected, 3),
        "factor": factor,
        "p_value": test.p_value,
        "top_stories": [
            {"id": sid, "title": title, "outlets": outlets}
            for sid, title, outlets in drivers.stories
        ],
        "top_outlets": [
            {"id": fid, "name": name, "stories": count} for fid, name, count in drivers.outlets
        ],
        "link": watchlist_link(watchlist),
    }


@dataclass(frozen=True, slots=True)
class Silence:
    """What a quiet payload says about the silent subject."""

    kind: str  # watchlist.quiet | coverage.quiet
    subject: str
    last_story_at: datetime
    after: timedelta
    usual_daily: float
    feeds: int = 0  # coverage.quiet: the feeds carrying the tag


def quiet_payload(silence: Silence, severity: str, now: datetime) -> dict[str, Any]:
    """The `watchlist.quiet` or `coverage.quiet` payload."""
    watchlist = silence.kind == WATCHLIST_QUIET_TYPE
    what = f"watchlist {silence.subject}" if watchlist else f"feed tag {silence.subject}"
    payload: dict[str, Any] = {
        "id": quiet_id(silence.kind, silence.subject, silence.last_story_at),
        "type": silence.kind,
        "created_at": iso_z(now),
        "message": (
            f"Quiet {what}: no story since {iso_z(silence.last_story_at)}"
            f" (usually {silence.usual_daily:.1f} a day, quiet after"
            f" {format_duration(silence.after)})"
        ),
        "last_story_at": iso_z(silence.last_story_at),
        "quiet_seconds": round((now - silence.last_story_at).total_seconds()),
        "after_seconds": silence.after.total_seconds(),
        "usual_daily": round(silence.usual_daily, 2),
    }
    if watchlist:
        payload |= {"watchlist": silence.subject, "severity": severity}
        payload["link"] = watchlist_link(silence.subject)
    else:
        payload |= {
            "tag": silence.subject,
            "feeds": silence.feeds,
            "link": tag_link(silence.subject),
        }
    return payload


def trend_rows(
    payload: dict[str, Any], channels: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """One `trend` outbox row per channel, the body rendered once (never held for a digest:
    a surge is news now)."""
    body = render_json(payload)
    return [
        outbox_row(
            message_id=channel_message_id(payload["id"], channel),
            channel=channel,
            kind="trend",
            body=body,
            now=now,
        )
        for channel in dict.fromkeys(channels)
    ]


def _facts(payload: Mapping[str, Any]) -> list[str]:
    """The payload's facts as lines a person reads, most telling first."""
    if payload.get("type") == SURGE_TYPE:
        lines = [
            f"Observed: {payload['observed']} stories since {payload['window']['start']}",
            f"Expected: {payload['expected']} (×{payload['factor']}, p = {payload['p_value']:.1e})",
        ]
        lines += [
            f"Story {s['id']}: {s['title']} ({s['outlets']} outlets)"
            for s in payload["top_stories"]
        ]
        lines += [f"Outlet: {o['name']} ({o['stories']} stories)" for o in payload["top_outlets"]]
    else:
        lines = [
            f"Last story: {payload['last_story_at']}",
            f"Usually: {payload['usual_daily']} stories a day",
        ]
        if "feeds" in payload:
            lines.append(f"Feeds carrying the tag: {payload['feeds']}")
    return [*lines, f"Console: {payload['link']}", f"Id: {payload['id']}"]


def trend_mail(payload: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, text, HTML) of the mail for a surge or quiet episode."""
    message = " ".join(str(payload.get("message", payload.get("type", ""))).split())
    facts = _facts(payload)
    text = message + "\n\n" + "\n".join(facts) + "\n"
    items = "".join(f"<li>{escape(line)}</li>" for line in facts)
    html = f"<!doctype html><html><body><p>{escape(message)}</p><ul>{items}</ul></body></html>"
    return f"[feed-monitor] {message}"[:200], text, html
