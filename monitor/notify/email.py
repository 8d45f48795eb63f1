"""The email channel: renders a stored payload into a multipart mail and sends it with aiosmtplib.

Rendering is pure (`compose`): the same outbox row always renders the same mail, with a
Message-ID derived from the row's message id, so a resend after a crash is recognisably the
same mail. Transport security: `tls = true` is implicit TLS, else `starttls` (default) upgrades
the connection, and neither is a plain local relay. `ca_file` adds a private CA; certificate
verification always stays on. SMTP 5xx answers are permanent failures (dead-lettered at once);
4xx answers and connection problems are retried.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import aiosmtplib

from monitor.config import EmailChannelConfig
from monitor.errors import ConfigError, DeliveryError
from monitor.notify.base import OutboxMessage
from monitor.notify.payload import group_by_watchlist, highlight, matched_terms
from monitor.notify.trends import trend_mail

MESSAGE_ID_DOMAIN = "feed-monitor"
TEST_SUBJECT = "[feed-monitor test]"
_SUBJECT_MAX = 160
# Headers unfolded up to the RFC 5322 limit: CPython's folding at 78 can put a subject on a
# continuation line of its own, which readers then show with a leading space.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _when(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "unknown"
    return _moment(value).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUBJECT_MAX else text[: _SUBJECT_MAX - 1] + "…"


def _marked_text(snippet: str, terms: Sequence[str]) -> str:
    return "".join(f"«{piece}»" if hit else piece for piece, hit in highlight(snippet, terms))


def _marked_html(snippet: str, terms: Sequence[str]) -> str:
    return "".join(
        f"<mark>{escape(piece)}</mark>" if hit else escape(piece)
        for piece, hit in highlight(snippet, terms)
    )


def _match_list(payload: Mapping[str, Any]) -> list[str]:
    return [
        f"{m['term']}{' (' + m['actor'] + ')' if m.get('actor') else ''} ×{m['count']}"
        for m in payload.get("matches", ())
    ]


# Right-to-left letters: Hebrew, Arabic (with Persian, Pashto, Urdu), Syriac, Thaana, N'Ko
# and the Arabic presentation forms.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")


def _dir(text: str) -> str:
    """` dir="rtl"` for text written mostly right to left (an Arabic or Persian headline or
    snippet), so mail clients lay it out and punctuate it correctly; else nothing."""
    letters = len(_LETTER.findall(text))
    return ' dir="rtl"' if letters and len(_RTL.findall(text)) * 2 > letters else ""


def alert_subject(payload: Mapping[str, Any]) -> str:
    """`[HIGH] isis-k: <headline>`."""
    title = payload.get("article", {}).get("title") or "(untitled)"
    return _one_line(f"[{str(payload['severity']).upper()}] {payload['watchlist']}: {title}")


def alert_text(payload: Mapping[str, Any], zone: ZoneInfo) -> str:
    """The plain-text part of an alert mail; matched terms are marked «like this»."""
    article, terms = payload.get("article", {}), matched_terms(payload)
    feed = article.get("feed", {})
    lines = [
        alert_subject(payload),
        "",
        "Matched: " + ", ".join(_match_list(payload)),
        "",
        *(f"  {_marked_text(s, terms)}" for s in payload.get("snippets", ())),
        "",
        f"Source: {feed.get('name') or feed.get('url', '')} ({feed.get('url', '')})",
        f"Published: {_when(article.get('published_at'), zone)}",
        f"Link: {article.get('url', '')}",
        "",
        f"Story {payload['story']['id']}: {payload['story']['articles']} article(s)"
        f" · alert {payload['id']}",
        *_evidence_lines(payload),
    ]
    return "\n".join(lines) + "\n"


def _evidence_lines(payload: Mapping[str, Any]) -> list[str]:
    """The evidence kept for the alert: what was fetched, its sha256, how to export it."""
    evidence = payload.get("evidence")
    if not evidence:
        return []
    lines = ["", f"Evidence (watchlist version {evidence.get('watchlist_version') or '?'}):"]
    for page in evidence.get("articles", ()):
        cut = ", cut at the size cap" if page.get("truncated") else ""
        lines.append(
            f"  {page.get('final_url') or page.get('url')} fetched {page.get('fetched_at')}"
            f" sha256 {page.get('response_sha256') or '-'}{cut}"
        )
    lines.append(f"  Export: {evidence.get('export', '')}")
    return lines


def _evidence_html(payload: Mapping[str, Any]) -> str:
    lines = _evidence_lines(payload)[1:]
    if not lines:
        return ""
    return "<p><small>" + "<br>".join(escape(line.strip()) for line in lines) + "</small></p>"


def alert_html(payload: Mapping[str, Any], zone: ZoneInfo) -> str:
    """The HTML part of an alert mail; matched terms are wrapped in <mark>."""
    article, terms = payload.get("article", {}), matched_terms(payload)
    feed, url = article.get("feed", {}), escape(article.get("url", ""))
    snippets = "".join(
        f"<blockquote{_dir(s)}>{_marked_html(s, terms)}</blockquote>"
        for s in payload.get("snippets", ())
    )
    title = article.get("title") or "(untitled)"
    matched = ", ".join(escape(item) for item in _match_list(payload))
    return (
        "<!doctype html><html><body>"
        f"<p><strong>[{escape(str(payload['severity']).upper())}]</strong>"
        f" watchlist <strong>{escape(payload['watchlist'])}</strong></p>"
        f'<h2{_dir(title)}><a href="{url}">{escape(title)}</a></h2>'
        f"<p>Matched: {matched}</p>{snippets}"
        f'<p>Source: <a href="{escape(feed.get("url", ""))}">'
        f"{escape(feed.get('name') or feed.get('url', ''))}</a><br>"
        f"Published: {escape(_when(article.get('published_at'), zone))}<br>"
        f'Link: <a href="{url}">{url}</a></p>'
        f"<p><small>Story {payload['story']['id']}: {payload['story']['articles']} article(s)"
        f" · alert {escape(payload['id'])}</small></p>"
        f"{_evidence_html(payload)}</body></html>"
    )


def digest_subject(payload: Mapping[str, Any]) -> str:
    """`[feed-monitor digest] 30 alerts, …` or `[feed-monitor] 12 alerts rolled up …`."""
    count = payload.get("count", 0)
    if payload.get("type") == "alert.summary":
        return f"[feed-monitor] {count} alerts rolled up (over {payload.get('max_per_hour')}/hour)"
    return f"[feed-monitor digest] {count} alerts, {_span(payload['period'])}"


def _span(period: Mapping[str, str]) -> str:
    """`2026-11-27 16:00 to 17:00 UTC`, with the end's date too when it spans a day or more."""
    zone = ZoneInfo(period["timezone"])
    start, end = (_moment(period[key]).astimezone(zone) for key in ("start", "end"))
    end_format = "%H:%M %Z" if end - start < timedelta(days=1) else "%Y-%m-%d %H:%M %Z"
    return f"{start:%Y-%m-%d %H:%M} to {end.strftime(end_format)}"


def _digest_intro(payload: Mapping[str, Any]) -> str:
    count, span = payload.get("count", 0), "from " + _span(payload["period"])
    if payload.get("type") == "alert.summary":
        return (
            f"{count} alerts were rolled up {span}: channel {payload.get('channel')} passed its"
            f" limit of {payload.get('max_per_hour')} alerts per hour."
        )
    return f"{count} alerts {span}, by watchlist."


def digest_text(payload: Mapping[str, Any]) -> str:
    """The plain-text part of a digest or summary: alerts grouped by watchlist."""
    zone = ZoneInfo(payload["period"]["timezone"])
    lines = [_digest_intro(payload), ""]
    for watchlist, alerts in group_by_watchlist(payload.get("alerts", ())):
        lines.append(f"{watchlist} ({len(alerts)})")
        for alert in alerts:
            article = alert.get("article", {})
            lines += [
                f"  - [{str(alert.get('severity', '')).upper()}] {article.get('title', '')}",
                f"    {article.get('feed', {}).get('name', '')}"
                f" · {_when(article.get('published_at'), zone)}"
                f" · {', '.join(_match_list(alert))}",
                f"    {article.get('url', '')}",
            ]
        lines.append("")
    return "\n".join(lines)


def digest_html(payload: Mapping[str, Any]) -> str:
    """The HTML part of a digest or summary."""
    zone = ZoneInfo(payload["period"]["timezone"])
    parts = [f"<!doctype html><html><body><p>{escape(_digest_intro(payload))}</p>"]
    for watchlist, alerts in group_by_watchlist(payload.get("alerts", ())):
        parts.append(f"<h3>{escape(watchlist)} ({len(alerts)})</h3><ul>")
        for alert in alerts:
            article = alert.get("article", {})
            parts.append(
                f"<li><strong>[{escape(str(alert.get('severity', '')).upper())}]</strong> "
                f'<a href="{escape(article.get("url", ""))}">{escape(article.get("title", ""))}</a>'
                f"<br><small>{escape(article.get('feed', {}).get('name', ''))}"
                f" · {escape(_when(article.get('published_at'), zone))}"
                f" · {escape(', '.join(_match_list(alert)))}</small></li>"
            )
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def _parts(
    message: OutboxMessage, payload: Mapping[str, Any], zone: ZoneInfo
) -> tuple[str, str, str]:
    if message.kind == "alert":
        return alert_subject(payload), alert_text(payload, zone), alert_html(payload, zone)
    if message.kind in ("digest", "summary"):
        return digest_subject(payload), digest_text(payload), digest_html(payload)
    if message.kind == "trend":
        return trend_mail(payload)
    if message.kind == "test":
        text = f"This is a test message from feed-monitor for channel {message.channel}.\n"
        return f"{TEST_SUBJECT} channel {message.channel}", text, f"<p>{escape(text)}</p>"
    # A notice the service raised itself (e.g. feed.silent): its message, then the details.
    summary = str(payload.get("message") or payload.get("type") or message.kind)
    details = json.dumps(payload, ensure_ascii=False, indent=2)
    text = f"{summary}\n\n{details}\n"
    html = f"<p>{escape(summary)}</p><pre>{escape(details)}</pre>"
    return _one_line(f"[feed-monitor] {summary}"), text, html


def message_id_header(message_id: str) -> str:
    """The `Message-ID` header of the mail for the outbox row `message_id` (stable: a resend
    carries the same one)."""
    return f"<{message_id}@{MESSAGE_ID_DOMAIN}>"


def compose(
    message: OutboxMessage, *, sender: str, recipients: Sequence[str], zone: ZoneInfo
) -> EmailMessage:
    """The mail for an outbox message: text + HTML alternatives, stable Message-ID."""
    payload = json.loads(message.body)
    subject, text, html = _parts(message, payload, zone)
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Message-ID"] = message_id_header(message.message_id)
    if payload.get("created_at"):
        mail["Date"] = format_datetime(_moment(payload["created_at"]))
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Feed-Monitor-Id"] = message.event_id
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    mail.set_boundary(f"=_{message.message_id}_=")  # a resend is byte-for-byte the same mail
    return mail


def tls_context(ca_file: str) -> ssl.SSLContext | None:
    """A verifying context trusting `ca_file` as well, or None for the system defaults."""
    if not ca_file:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"ca_file: {ca_file}: cannot load it as a CA certificate: {e}") from e


class EmailNotifier:
    """Sends each message as one mail through the channel's SMTP server."""

    def __init__(self, name: str, config: EmailChannelConfig, password: str | None = None) -> None:
        self.name = name
        self.config = config
        self._password = password
        self._tls = tls_context(config.ca_file)
        self._zone = ZoneInfo(config.digest_timezone)

    async def send(self, message: OutboxMessage) -> None:
        config = self.config
        mail = compose(message, sender=config.from_, recipients=config.to, zone=self._zone)
        try:
            await aiosmtplib.send(
                mail.as_bytes(policy=WIRE_POLICY),
                sender=parseaddr(config.from_)[1],
                recipients=list(config.to),
                hostname=config.smtp_host,
                port=config.smtp_port,
                username=config.username or None,
                password=self._password if config.username else None,
                use_tls=config.tls,
                start_tls=config.starttls and not config.tls,
                tls_context=self._tls,
                timeout=config.timeout.total_seconds(),
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(f"SMTP refused every recipient: {e}", permanent=True) from e
        except aiosmtplib.SMTPResponseException as e:
            permanent = 500 <= e.code < 600
            raise DeliveryError(f"SMTP {e.code}: {e.message}", permanent=permanent) from e
        except (aiosmtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"SMTP {config.smtp_host}:{config.smtp_port}: {e}") from e
