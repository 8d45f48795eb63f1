"""Parse and print the units people read and write: durations ("15m"), sizes ("10MB"), and
times (ISO 8601 UTC with a Z, the one form every output uses)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdwy])\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$", re.IGNORECASE)
MAX_DURATION = timedelta(days=100 * 365)
MAX_SIZE = 1000**4  # 1 TB: far above any cap that makes sense, far below an overflow
_MAX_NUMBER_CHARS = 30
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


def parse_duration(text: str) -> timedelta:
    """Parse "2s", "15m", "6h", "30d" (also "2w", "2y") into a positive timedelta, else ValueError."""
    match = _DURATION.match(text) if len(text) <= _MAX_NUMBER_CHARS else None
    if not match:
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit s, m, h, d, w or y (e.g. '15m')"
        )
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r} must be a positive duration")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is too long a duration: at most 100y")
    return timedelta(seconds=seconds)


def parse_size(text: str | int) -> int:
    """Parse "10MB", "512KiB" or a plain byte count into bytes; raise ValueError otherwise."""
    if isinstance(text, int):
        return _checked_size(text, str(text))
    match = _SIZE.match(text) if len(text) <= _MAX_NUMBER_CHARS else None
    if not match:
        raise ValueError(f"{text!r} is not a size: use a number and a unit B, KB, MB or GB")
    number = float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]
    return _checked_size(int(min(number, MAX_SIZE + 1)), repr(text))


def _checked_size(value: int, shown: str) -> int:
    if value <= 0:
        raise ValueError(f"{shown} must be a positive size")
    if value > MAX_SIZE:
        raise ValueError(f"{shown} is too large a size: at most 1TB")
    return value


def format_duration(delta: timedelta) -> str:
    """Render a timedelta compactly, e.g. 90s -> "1m30s", 2 days -> "2d"."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])


def iso_z(value: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second with a `Z`, or None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
