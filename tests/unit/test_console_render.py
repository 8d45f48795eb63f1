"""Pure pieces of the console: marking hits in escaped text, text direction, relative times,
one-line errors, and the alerts-per-day chart's geometry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from monitor.web.console.chart import HEIGHT, bar_chart
from monitor.web.console.render import ago, href, mark, oneline, textdir

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_mark_escapes_the_text_and_marks_each_hit() -> None:
    marked = mark('<b>ISKP</b> & the iskp\'s "cell"', ["ISKP"])
    assert str(marked) == (
        "&lt;b&gt;<mark>ISKP</mark>&lt;/b&gt; &amp; the <mark>iskp&#39;s</mark> &#34;cell&#34;"
    )


def test_mark_uses_the_watchlist_normalisation_and_word_boundaries() -> None:
    assert str(mark("ISIS‑K in crisis", ["ISIS-K", "ISIS"])) == "<mark>ISIS‑K</mark> in crisis"
    arabic = "قال إن تنظيم داعش خراسان"
    assert str(mark(arabic, ["داعش خراسان"])) == "قال إن تنظيم <mark>داعش خراسان</mark>"


def test_mark_without_terms_only_escapes() -> None:
    assert str(mark("<script>x</script>", [])) == "&lt;script&gt;x&lt;/script&gt;"
    assert str(mark("", ["ISKP"])) == ""


def test_text_direction_follows_the_language() -> None:
    assert [textdir(lang) for lang in ("fa", "ar", "ps", "ur", "ar-EG")] == ["rtl"] * 5
    assert [textdir(lang) for lang in ("en", "ru", "", None)] == ["auto"] * 4


def test_relative_times() -> None:
    assert ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert ago(NOW + timedelta(hours=3, minutes=2), NOW) == "in 3 h"
    assert ago(NOW - timedelta(days=2), NOW) == "2 d ago"
    assert ago(NOW - timedelta(days=9), NOW) == "2026-11-27 12:00 UTC"
    assert ago(None, NOW) == "never"


def test_oneline_joins_lines_and_cuts() -> None:
    assert oneline("HTTP 503\n  Retry later") == "HTTP 503 Retry later"
    assert oneline("x" * 200, limit=10) == "x" * 9 + "…"
    assert oneline(None) == ""


def test_bar_chart_scales_to_the_busiest_day() -> None:
    days = [(date(2026, 12, 1) + timedelta(days=i), n) for i, n in enumerate([0, 2, 4, 1])]
    chart = bar_chart(days)
    assert (chart.peak, chart.total, chart.first, chart.last) == (4, 7, days[0][0], days[-1][0])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0
    assert heights[2] == max(heights)
    assert heights[1] == heights[2] / 2
    for bar in chart.bars:
        assert bar.y + bar.height == chart.baseline <= HEIGHT
    assert all(a.x + a.width < b.x for a, b in zip(chart.bars, chart.bars[1:], strict=False))


def test_bar_chart_of_nothing() -> None:
    chart = bar_chart([(date(2026, 12, 1), 0)])
    assert (chart.peak, chart.total, chart.bars[0].height) == (0, 0, 0)
    assert bar_chart([]).bars == ()


def test_links_are_only_http() -> None:
    assert href("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert href("http://127.0.0.1/x") == "http://127.0.0.1/x"
    for hostile in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "", None):
        assert href(hostile) == ""
