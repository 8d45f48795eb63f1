"""The log channel: each message as one structured log line, and a readable block on a TTY.

The block is built from `textsafe.SafeText` only: feed text in it is shown, never obeyed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import structlog
from rich.console import Console, Group, RenderableType
from rich.panel import Panel

from monitor.notify.base import OutboxMessage
from monitor.notify.payload import group_by_watchlist, highlight, matched_terms
from monitor.textcaps import SNIPPET_CHARS, TITLE_CHARS, clip
from monitor.textsafe import SafeText, safe


def _terms(payload: dict[str, Any]) -> str:
    parts = []
    for match in payload.get("matches", ()):
        actor = f" ({match['actor']})" if match.get("actor") else ""
        parts.append(f"{match['term']}{actor} ×{match['count']}")
    return ", ".join(parts)


def log_fields(message: OutboxMessage, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event name and the fields of the one log line written for a message."""
    base = {"channel": message.channel, "id": message.event_id}
    if message.kind == "alert":
        article = payload.get("article", {})
        return "alert", base | {
            "watchlist": payload.get("watchlist"),
            "severity": payload.get("severity"),
            "title": article.get("title"),
            "url": article.get("url"),
            "feed": article.get("feed", {}).get("name"),
            "published_at": article.get("published_at"),
            "matches": _terms(payload),
            "story": payload.get("story", {}).get("id"),
        }
    if message.kind in ("digest", "summary"):
        return f"alert {message.kind}", base | {
            "count": payload.get("count"),
            "period_start": payload.get("period", {}).get("start"),
            "period_end": payload.get("period", {}).get("end"),
            "alerts": [alert.get("id") for alert in payload.get("alerts", ())],
        }
    scalars = {k: v for k, v in payload.items() if isinstance(v, str | int | float) and k != "id"}
    return str(payload.get("type", message.kind)), base | scalars


def _snippet(snippet: str, terms: list[str]) -> SafeText:
    text = safe("  ")
    for piece, marked in highlight(clip(snippet, SNIPPET_CHARS), terms):
        text.append(piece, style="bold yellow" if marked else "")
    return text


def _alert_block(payload: dict[str, Any]) -> RenderableType:
    article = payload.get("article", {})
    feed_name = article.get("feed", {}).get("name", "")
    lines: list[RenderableType] = [
        safe(article.get("title") or "(untitled)", style="bold", limit=TITLE_CHARS),
        safe(f"{clip(feed_name, TITLE_CHARS)} · {article.get('published_at') or ''}"),
        safe(f"matched: {_terms(payload)}"),
        *(_snippet(s, matched_terms(payload)) for s in payload.get("snippets", ())),
        safe(article.get("url", ""), style="underline"),
    ]
    severity = str(payload.get("severity", "")).upper()
    title = safe(f"[{severity}] {payload.get('watchlist', '')} · {payload.get('id', '')}")
    return Panel(Group(*lines), title=title, title_align="left")


def _digest_block(payload: dict[str, Any]) -> RenderableType:
    lines: list[RenderableType] = []
    for watchlist, alerts in group_by_watchlist(payload.get("alerts", ())):
        lines.append(safe(f"{watchlist} ({len(alerts)})", style="bold"))
        for alert in alerts:
            article_title = clip(str(alert.get("article", {}).get("title", "")), TITLE_CHARS)
            lines.append(safe(f"  {article_title}"))
    kind = "summary" if payload.get("type") == "alert.summary" else "digest"
    title = safe(f"{kind}: {payload.get('count', 0)} alerts · {payload.get('id', '')}")
    return Panel(Group(*lines), title=title, title_align="left")


def render_block(message: OutboxMessage, payload: dict[str, Any]) -> RenderableType:
    """The readable block printed on a TTY."""
    if message.kind == "alert":
        return _alert_block(payload)
    if message.kind in ("digest", "summary"):
        return _digest_block(payload)
    return Panel(
        safe(json.dumps(payload, ensure_ascii=False, indent=2)), title=safe(message.channel)
    )


class LogNotifier:
    """Writes messages to the structured log; on a TTY also prints a readable block."""

    def __init__(self, name: str, *, console: Console | None = None) -> None:
        self.name = name
        self._console = console if console is not None else _tty_console()
        self._log = structlog.get_logger("monitor.alerts")

    async def send(self, message: OutboxMessage) -> None:
        payload = json.loads(message.body)
        event, fields = log_fields(message, payload)
        self._log.info(event, **fields)
        if self._console is not None:
            self._console.print(render_block(message, payload))


def _tty_console() -> Console | None:
    return Console() if sys.stdout.isatty() else None
