"""Stored articles: list, show with text, story and matches, and search with the watchlist
query language (the database preselects, the matcher confirms)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.errors import InvalidRequest, NotFound, QuerySyntaxError
from monitor.pipeline.match import search_text
from monitor.pipeline.preselect import preselection
from monitor.pipeline.query import parse_query, terms
from monitor.pipeline.snippets import lead_snippet
from monitor.services.context import Context
from monitor.services.records import (
    ArticleDetail,
    ArticleMatch,
    ArticleSummary,
    FeedRef,
    FoundArticle,
    SearchResult,
    StoryRef,
)
from monitor.storage import queries
from monitor.storage.feeds import find_feed
from monitor.storage.search import candidates

MAX_LIMIT = 1000
# The one limit on a search's query, whichever face it comes through (CLI, API, console):
# long enough for any real query, short enough to travel in a URL (`GET …?q=`) once
# percent-encoded. Faces keep only a looser guard against oversized requests above it.
MAX_QUERY_CHARS = 2000


def article_summary(row: Any) -> ArticleSummary:
    """An article row joined with its feed (`storage.queries.articles_query`) as a record."""
    return ArticleSummary(
        id=row.id,
        url=row.url,
        canonical_url=row.canonical_link or row.url,  # an address, not the dedupe key
        title=row.title,
        published_at=row.published_at,
        fetched_at=row.fetched_at,
        language=row.language,
        feed=FeedRef(row.feed_url, row.feed_name or ""),
        story_id=row.story_id,
    )


def check_query(query: str) -> None:
    """InvalidRequest when `query` is longer than MAX_QUERY_CHARS: refused, never cut."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidRequest(
            f"queries are limited to {MAX_QUERY_CHARS:,} characters; this one has {len(query):,}"
        )


def check_limit(limit: int) -> None:
    """InvalidRequest unless 1 <= limit <= MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be 1 to {MAX_LIMIT}")


class Articles:
    """Stored articles."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def list(
        self, *, feed: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> tuple[ArticleSummary, ...]:
        """Articles newest first, of one feed (its URL) or all; NotFound for a feed URL that
        names no feed."""
        check_limit(limit)
        async with self.ctx.read() as conn:
            rows = await queries.list_articles(conn, feed=feed, since=since, limit=limit)
            if feed is not None and not rows and await find_feed(conn, feed) is None:
                raise NotFound(f"no feed {feed}")
        return tuple(article_summary(row) for row in rows)

    async def get(self, article_id: int) -> ArticleDetail:
        """One article with its full text, story and matches; NotFound when there is none."""
        async with self.ctx.read() as conn:
            row = await queries.get_article(conn, article_id)
            if row is None:
                raise NotFound(f"no article {article_id}")
            found = await queries.article_matches(conn, article_id)
            story = await queries.get_story(conn, row.story_id)
        return ArticleDetail(
            article=article_summary(row),
            author=row.author,
            summary=row.summary,
            text=row.text or "",
            story=StoryRef(row.story_id, story.article_count if story else 1),
            matches=tuple(ArticleMatch(m.watchlist, m.term, m.actor, m.count) for m in found),
        )

    async def search(
        self, query: str, *, since: datetime | None = None, limit: int = 20, scan: bool = False
    ) -> SearchResult:
        """Articles the query matches, newest first, each with a snippet: exactly what a
        watchlist with this query would match. InvalidRequest for a query that does not parse
        or is longer than MAX_QUERY_CHARS; `scan` confirms every article without the
        full-text index."""
        check_limit(limit)
        check_query(query)
        try:
            parsed = parse_query(query)
        except QuerySyntaxError as e:
            raise InvalidRequest(f"query: {e}") from None
        found: list[FoundArticle] = []
        read = 0
        async with (
            self.ctx.read() as conn,
            candidates(conn, preselection(parsed), since=since, scan=scan) as (method, rows),
        ):
            async for row in rows:
                read += 1
                hits = search_text(query, row.title, row.text or "")
                if hits is None:
                    continue
                snippet = lead_snippet(row.title, row.text or "", hits)
                found.append(FoundArticle(article_summary(row), snippet))
                if len(found) >= limit:
                    break
        words = tuple(dict.fromkeys(term.text for term in terms(parsed)))
        return SearchResult(tuple(found), method, read, words)
