"""Geometry of the alerts-per-day bar chart that the watchlist page draws as server-side SVG.

Pure: counts in, rectangles out. The template turns them into `<rect>` elements, so the
chart needs no JavaScript and no inline style (the Content-Security-Policy forbids both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 600
HEIGHT = 140
_TOP = 14  # room for the maximum's label
_BOTTOM = 18  # room for the date labels
_LEFT = 4


@dataclass(frozen=True, slots=True)
class Bar:
    """One day's bar: where it is drawn and what its tooltip says."""

    x: float
    y: float
    width: float
    height: float
    day: date
    count: int


@dataclass(frozen=True, slots=True)
class BarChart:
    """A chart of one count per day, oldest day first."""

    bars: tuple[Bar, ...]
    peak: int
    total: int
    first: date | None
    last: date | None
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - _BOTTOM


def bar_chart(days: Sequence[tuple[date, int]]) -> BarChart:
    """Bars for (day, count) pairs; a day with no alerts gets a zero-height bar."""
    peak = max((count for _, count in days), default=0)
    slot = (WIDTH - _LEFT) / max(len(days), 1)
    room = HEIGHT - _TOP - _BOTTOM
    bars = []
    for i, (day, count) in enumerate(days):
        height = room * count / peak if peak else 0.0
        bars.append(
            Bar(
                x=round(_LEFT + i * slot + slot * 0.1, 2),
                y=round(HEIGHT - _BOTTOM - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                day=day,
                count=count,
            )
        )
    return BarChart(
        bars=tuple(bars),
        peak=peak,
        total=sum(count for _, count in days),
        first=days[0][0] if days else None,
        last=days[-1][0] if days else None,
    )
