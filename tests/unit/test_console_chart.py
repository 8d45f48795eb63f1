"""The trend chart's geometry: bars scaled with the band, the band and expected line only
where something was expected, surge markers on the buckets a surge started in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.services.trends import TrendPoint
from monitor.web.console.chart import HEIGHT, TrendChart, trend_chart

DAY0 = datetime(2026, 11, 20, tzinfo=UTC)


def _points(counts: list[int], expected: list[float | None], surge: int = -1) -> list[TrendPoint]:
    return [
        TrendPoint(DAY0 + timedelta(days=i), n, n, x, i == surge)
        for i, (n, x) in enumerate(zip(counts, expected, strict=True))
    ]


def _pairs(points: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]


def test_bars_share_one_scale_with_the_band() -> None:
    points = _points([0, 2, 12, 1], [2.0, 2.0, 2.0, 2.0], surge=2)
    chart = trend_chart(points)
    heights = [c.height for c in chart.columns]
    assert (chart.peak, chart.total) == (12, 15)
    assert heights[0] == 0
    assert heights[2] == max(heights)
    assert heights[1] * 6 == heights[2]
    for column in chart.columns:
        assert column.y + column.height == chart.baseline <= HEIGHT
        assert chart.top <= column.y
    assert all(a.x + a.width < b.x for a, b in zip(chart.columns, chart.columns[1:], strict=False))


def test_the_band_is_the_poisson_interval_around_the_expected_count() -> None:
    points = _points([1, 1, 1], [4.0, 4.0, 4.0])
    chart = trend_chart(points)
    low, high = points[0].band or (0, 0)
    assert low < 4 < high
    (band,) = chart.bands
    ys = {y for _, y in _pairs(band)}
    assert ys == {_height_of(chart, high), _height_of(chart, low)}
    assert chart.peak == high  # the band's top fits when it is higher than every bar
    (line,) = chart.expected
    assert [x for x, _ in _pairs(line)] == [c.centre for c in chart.columns]
    assert {y for _, y in _pairs(line)} == {_height_of(chart, 4.0)}


def _height_of(chart: TrendChart, value: float) -> float:
    room = chart.baseline - chart.top
    return round(chart.baseline - room * value / chart.peak, 2)


def test_no_band_where_nothing_was_expected() -> None:
    chart = trend_chart(_points([3, 0, 1, 2, 5], [None, 1.0, 1.0, None, 2.0]))
    assert len(chart.bands) == len(chart.expected) == 2
    assert len(_pairs(chart.expected[0])) == 2
    assert len(_pairs(chart.expected[1])) == 1
    assert trend_chart(_points([3], [None])).bands == ()


def test_surge_markers_sit_on_the_buckets_a_surge_started_in() -> None:
    chart = trend_chart(_points([1, 1, 9, 2], [1.0, 1.0, 1.0, 1.0], surge=2))
    assert chart.surges == (chart.columns[2].centre,)
    assert chart.columns[2].label.endswith("; surge")
    assert chart.columns[2].label.startswith("2026-11-22: 9 stories, 9 outlets; expected 1.0 (")


def test_hourly_labels_and_an_empty_series() -> None:
    hourly = trend_chart(_points([1], [None]), by="hour")
    assert hourly.columns[0].label == "2026-11-20 00:00 UTC: 1 story, 1 outlet"
    empty = trend_chart([])
    assert (empty.columns, empty.bands, empty.peak, empty.first) == ((), (), 1, None)
