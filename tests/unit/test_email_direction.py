"""The HTML mail of an alert on a right-to-left article lays its headline and snippets out
right to left (`dir="rtl"`); left-to-right ones get no attribute."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from monitor.notify.email import alert_html


def _payload(title: str, snippet: str) -> dict[str, Any]:
    return {
        "id": "alt_0000000000000000",
        "severity": "high",
        "watchlist": "isis-k",
        "matches": [{"term": "داعش خراسان", "actor": None, "count": 1}],
        "snippets": [snippet],
        "article": {
            "title": title,
            "url": "https://news.example/a",
            "published_at": None,
            "language": "fa",
            "feed": {"url": "https://news.example/rss", "name": "News"},
        },
        "story": {"id": 1, "articles": 1},
    }


def test_an_rtl_headline_and_snippet_are_marked_rtl() -> None:
    html = alert_html(
        _payload("داعش خراسان مسئولیت حمله را پذیرفت", "…گروه داعش خراسان (ISIS-K) گفت…"),
        ZoneInfo("UTC"),
    )
    assert '<h2 dir="rtl">' in html
    assert '<blockquote dir="rtl">' in html


def test_an_ltr_article_gets_no_direction() -> None:
    html = alert_html(_payload("ISIS-K claims attack", "…ISIS-K said…"), ZoneInfo("UTC"))
    assert 'dir="rtl"' not in html
    assert "<h2>" in html
