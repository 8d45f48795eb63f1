"""Geometry of the watchlist page's two server-side SVG charts: alerts per day, and the trend
series (stories per hour or day, the 95 % band around the expected count, surge markers).

Pure: counts in, rectangles, polygon and polyline points out. The template turns them into
SVG elements, so the charts need no JavaScript and no inline style (the Content-Security-
Policy forbids both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

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


class TrendBucket(Protocol):
    """One bucket of a trend series (`services.trends.TrendPoint` is one)."""

    @property
    def start(self) -> datetime: ...
    @property
    def stories(self) -> int: ...
    @property
    def outlets(self) -> int: ...
    @property
    def expected(self) -> float | None: ...
    @property
    def surge(self) -> bool: ...
    @property
    def band(self) -> tuple[int, int] | None: ...


@dataclass(frozen=True, slots=True)
class Column:
    """One bucket's bar (stories), where a surge marker goes, and its tooltip."""

    x: float
    y: float
    width: float
    height: float
    centre: float
    stories: int
    surge: bool
    label: str


@dataclass(frozen=True, slots=True)
class TrendChart:
    """Stories per bucket with the expected count's band and line, oldest bucket first.

    `bands` are polygons (SVG `points`), `expected` polylines, one of each per run of
    buckets that had an expectation; `surges` are the x of the buckets a surge started in."""

    columns: tuple[Column, ...]
    bands: tuple[str, ...]
    expected: tuple[str, ...]
    surges: tuple[float, ...]
    peak: int
    total: int
    first: datetime | None
    last: datetime | None
    by: str
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - _BOTTOM
    top: float = _TOP

    @property
    def first_label(self) -> str:
        return _when(self.first, self.by) if self.first else ""

    @property
    def last_label(self) -> str:
        return _when(self.last, self.by) if self.last else ""


def trend_chart(points: Sequence[TrendBucket], by: str = "day") -> TrendChart:
    """The trend chart of `points`, scaled so the highest bar or band edge fits."""
    bands = [p.band for p in points]  # computed once: each is a Poisson quantile search
    peak = max([p.stories for p in points] + [b[1] for b in bands if b] + [1])
    slot = (WIDTH - _LEFT) / max(len(points), 1)
    columns = tuple(
        _column(p, b, i, slot, peak, by) for i, (p, b) in enumerate(zip(points, bands, strict=True))
    )
    runs = _runs(bands)
    return TrendChart(
        columns=columns,
        bands=tuple(_band(bands, run, slot, peak) for run in runs),
        expected=tuple(_expected(points, run, slot, peak) for run in runs),
        surges=tuple(c.centre for c in columns if c.surge),
        peak=peak,
        total=sum(p.stories for p in points),
        first=points[0].start if points else None,
        last=points[-1].start if points else None,
        by=by,
    )


def _y(value: float, peak: int) -> float:
    return round(HEIGHT - _BOTTOM - (HEIGHT - _TOP - _BOTTOM) * value / peak, 2)


def _column(
    point: TrendBucket, band: tuple[int, int] | None, i: int, slot: float, peak: int, by: str
) -> Column:
    y = _y(point.stories, peak)
    label = f"{_when(point.start, by)}: {point.stories} stor{'y' if point.stories == 1 else 'ies'}"
    label += f", {point.outlets} outlet{'' if point.outlets == 1 else 's'}"
    if point.expected is not None and band is not None:
        label += f"; expected {point.expected:.1f} ({band[0]}–{band[1]})"
    if point.surge:
        label += "; surge"
    return Column(
        x=round(_LEFT + i * slot + slot * 0.15, 2),
        y=y,
        width=round(slot * 0.7, 2),
        height=round(HEIGHT - _BOTTOM - y, 2),
        centre=round(_LEFT + (i + 0.5) * slot, 2),
        stories=point.stories,
        surge=point.surge,
        label=label,
    )


def _when(start: datetime, by: str) -> str:
    return start.strftime("%Y-%m-%d" if by == "day" else "%Y-%m-%d %H:00 UTC")


def _runs(bands: Sequence[tuple[int, int] | None]) -> list[range]:
    """Index ranges of consecutive buckets that have an expected count (and so a band)."""
    runs: list[range] = []
    start = None
    for i, band in enumerate([*bands, None]):
        known = band is not None
        if known and start is None:
            start = i
        elif not known and start is not None:
            runs.append(range(start, i))
            start = None
    return runs


def _band(bands: Sequence[tuple[int, int] | None], run: range, slot: float, peak: int) -> str:
    """A stepped polygon: along the band's upper edges, back along its lower edges."""
    upper, lower = [], []
    for i in run:
        band = bands[i]
        assert band is not None
        left, right = round(_LEFT + i * slot, 2), round(_LEFT + (i + 1) * slot, 2)
        upper += [(left, _y(band[1], peak)), (right, _y(band[1], peak))]
        lower += [(left, _y(band[0], peak)), (right, _y(band[0], peak))]
    return " ".join(f"{x},{y}" for x, y in upper + lower[::-1])


def _expected(points: Sequence[TrendBucket], run: range, slot: float, peak: int) -> str:
    """A polyline through the expected count at each bucket's centre."""
    return " ".join(
        f"{round(_LEFT + (i + 0.5) * slot, 2)},{_y(points[i].expected or 0.0, peak)}" for i in run
    )
