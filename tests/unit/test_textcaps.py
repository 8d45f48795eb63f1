"""Caps on feed text: `clip` cuts at a character boundary with an ellipsis, and a 5 MB title
makes a small webhook body and a small email."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import settings_from_dict
from monitor.models import AlertContext, Article, TermCount, WatchlistMatch
from monitor.notify.base import OutboxMessage
from monitor.notify.email import compose
from monitor.notify.payload import alert_rows
from monitor.pipeline.match import search_text
from monitor.pipeline.snippets import build_snippets
from monitor.textcaps import ELLIPSIS, SNIPPET_CHARS, TITLE_CHARS, clip

NOW = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
HUGE = "ISIS-K " + "A" * 5_000_000


@settings(deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=50))
def test_clip_fits_and_keeps_a_prefix(text: str, limit: int) -> None:
    cut = clip(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith(ELLIPSIS)
        assert text.startswith(cut[: -len(ELLIPSIS)])


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abcdef", 4, "abc…"),
        ("abc def", 5, "abc…"),  # no dangling space before the ellipsis
        ("cafe\u0301s", 5, "caf…"),  # é written as e + combining acute stays whole
        ("नमस्ते", 4, "नम…"),  # Devanagari: the virama is not cut from its letter
        ("ab👩\u200d👩\u200d👧", 5, "ab…"),  # a ZWJ family emoji is not split
    ],
)
def test_clip_never_splits_a_character(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit) == expected


def test_clip_never_ends_on_a_mark() -> None:
    cut = clip("a" + "\u0301" * 2000, 10)
    assert not any(unicodedata.category(c).startswith("M") for c in cut[:-1])


def _context(title: str) -> AlertContext:
    article = Article(
        feed_id=7,
        guid="g1",
        url="https://news.example/a/1",
        canonical_url="https://news.example/a/1",
        title=title,
        author="",
        published_at=NOW,
        fetched_at=NOW,
        summary="",
        text=title,
        language="en",
        content_hash="h",
    )
    return AlertContext(
        123, article, "https://news.example/rss", "F" * 3_000_000, 45, 1, "inst_test"
    )


def test_a_5mb_title_makes_a_small_webhook_body_and_a_small_mail() -> None:
    snippets = build_snippets(HUGE, search_text("ISIS-K", "", HUGE) or [])
    match = WatchlistMatch("w", "high", ("hook", "mail"), (TermCount("ISIS-K", None, 1),), snippets)
    settings = settings_from_dict(
        {
            "channels": {
                "hook": {"type": "webhook", "url": "https://h.example/", "secret_env": "X"},
                "mail": {"type": "email", "from": "a@b.example", "to": ["c@d.example"]},
            }
        },
        base=Path("."),
        check_secrets=False,
    )
    alert, rows = alert_rows(match, _context(HUGE), settings.channels, NOW)
    assert all(len(s) <= SNIPPET_CHARS for s in alert["snippets"])
    assert "ISIS-K" in alert["snippets"][0]
    body = rows[0]["body"]
    assert len(body.encode()) < 6 * TITLE_CHARS
    mail = compose(
        OutboxMessage(rows[1]["message_id"], "mail", "alert", rows[1]["body"]),
        sender="a@b.example",
        recipients=["c@d.example"],
        zone=ZoneInfo("UTC"),
    )
    assert len(mail.as_bytes()) < 20 * TITLE_CHARS


def test_payload_cuts_titles_stored_before_the_caps() -> None:
    context = _context("t" * 10)
    huge_row_article = dataclasses.replace(context.article, title="T" * 50_000)
    alert, rows = alert_rows(
        WatchlistMatch("w", "high", ("hook",), (TermCount("x", None, 1),), ("s" * 5000,)),
        dataclasses.replace(context, article=huge_row_article),
        settings_from_dict(
            {"channels": {"hook": {"type": "webhook", "url": "https://h/", "secret_env": "X"}}},
            base=Path("."),
            check_secrets=False,
        ).channels,
        NOW,
    )
    assert '"title":"' + "T" * (TITLE_CHARS - 1) + ELLIPSIS + '"' in rows[0]["body"]
    assert len(alert["snippets"][0]) == SNIPPET_CHARS
