"""Dates as feeds write them, odd formats included, into aware UTC datetimes (pure).

feedparser already reads RFC 822 and W3C dates and many local variants; this covers
what it leaves as strings: ISO forms, RFC 822 with odd zones, and day-first or
slash-separated dates that regional CMSs emit. A naive time is taken as UTC; a date in
the future (wrong zone, or a scheduled post) is clamped to `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d %B %Y %H:%M",
    "%d %b %Y %H:%M",
    "%B %d, %Y %H:%M",
    "%B %d, %Y",
    "%Y-%m-%d",
)


def _try_parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_date(text: str, now: datetime) -> datetime | None:
    """An aware UTC datetime for `text`, clamped to `now`; None if it is not a date."""
    when = _try_parse(" ".join(text.split()))
    if when is None:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return min(when, now)
