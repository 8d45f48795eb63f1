"""A 5 MB title through a real round on both backends: the stored title, summary, author and
feed name are cut to their caps, the article text is kept whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.app import open_runtime
from monitor.config import settings_from_dict
from monitor.scheduler import run_round
from monitor.storage.tables import articles, feeds
from monitor.textcaps import AUTHOR_CHARS, ELLIPSIS, SUMMARY_CHARS, TITLE_CHARS
from tests.support.feedserver import FeedServer

TITLE = "Kabul " + "T" * 5_000_000
SUMMARY = "Herat " + "s " * 50_000


def _feed() -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{'F' * 20_000}</title>"
        "<item><guid>1</guid><link>https://news.example/a/1</link>"
        f"<title>{TITLE}</title><author>{'a' * 5000}</author>"
        f"<description>{SUMMARY}</description></item></channel></rss>"
    )


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


async def test_a_5mb_title_is_stored_cut_and_the_text_whole(
    server: FeedServer, database_url: str, tmp_path: Path
) -> None:
    url = server.add("/rss", _feed(), "application/rss+xml")
    settings = settings_from_dict(
        {
            "database": {"url": database_url},
            "polling": {"allow_networks": ["127.0.0.0/8"], "fetch_articles": False},
            "feeds": [{"url": url}],
        },
        base=tmp_path,
    )
    async with open_runtime(settings, extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        assert (report.stored, report.errors) == (1, 0)
        async with runtime.engine.connect() as conn:
            article = (await conn.execute(select(articles))).one()
            feed = (await conn.execute(select(feeds))).one()
    assert len(article.title) == TITLE_CHARS
    assert article.title == TITLE[: TITLE_CHARS - 1] + ELLIPSIS
    assert len(article.summary) <= SUMMARY_CHARS
    assert article.summary.endswith(ELLIPSIS)
    assert len(article.author) <= AUTHOR_CHARS
    assert " ".join(article.text.split()) == " ".join(SUMMARY.split())  # the text is kept
    assert feed.title == "F" * (TITLE_CHARS - 1) + ELLIPSIS
