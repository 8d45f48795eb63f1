"""Reading the response headers the fetcher acts on (pure): Retry-After, Cache-Control, Content-Type, Date."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP date), or None."""
    text = (value or "").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def parse_max_age(cache_control: str | None) -> float | None:
    """Cache-Control max-age in seconds; None when absent or when no-store/no-cache says so."""
    text = (cache_control or "").lower()
    if "no-store" in text or "no-cache" in text:
        return None
    match = _MAX_AGE.search(text)
    return float(match.group(1)) if match else None


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def split_content_type(value: str | None) -> tuple[str, str | None]:
    """("application/rss+xml", "utf-8") from a Content-Type header."""
    text = value or ""
    match = _CHARSET.search(text)
    return text.split(";")[0].strip().lower(), (match.group(1).lower() if match else None)


def server_date(value: str | None, fallback: datetime) -> datetime:
    """The server's clock from its Date header, else `fallback` (so Retry-After dates ignore skew)."""
    try:
        when = parsedate_to_datetime(value or "")
    except (TypeError, ValueError, IndexError):
        return fallback
    return when if when.tzinfo else when.replace(tzinfo=UTC)
