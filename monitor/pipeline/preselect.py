"""Search stored articles with the watchlist query language (`monitor articles search`).

The database preselects candidates and the matcher confirms each one, so results are exactly
what a watchlist with that query would match. Preselection asks for any of the query's
positive terms (their OR): a query that holds only if some positive term hits cannot match
an article holding none of them, as NOT only ever removes matches. Each term becomes its
words in matching form, the last one as a prefix so plurals and possessives stay in:

- SQLite: the FTS5 table `articles_fts` (migration 0002), a phrase per term;
- PostgreSQL: the `monitor_search_document` tsvector index, the words of a term ANDed
  (phrase positions stop counting past 16,383 words), plus every article too long for a
  tsvector (`monitor_search_truncated`);
- LIKE on the lower-cased text where SQLite has no FTS5 and the words are ASCII.

A query that can hold with no hits at all (`NOT Kabul`), or one the index cannot serve, is
confirmed against every article instead (`method` "scan"). Either way articles are read
newest first and reading stops once `limit` are confirmed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, column, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.models import Hit
from monitor.pipeline.match import Matcher
from monitor.pipeline.normalize import term_form
from monitor.pipeline.query import Query, evaluate, parse_query, terms
from monitor.pipeline.snippets import ELLIPSIS, SNIPPET_WORDS, build_snippets
from monitor.storage.queries import article_json, articles_query
from monitor.storage.tables import articles

Words = tuple[str, ...]  # one term's words in matching form
_SPLIT = re.compile(r"[\s']+")


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The articles found (newest first, `articles list --json` objects plus "snippet")."""

    articles: list[dict[str, Any]]
    method: str  # "fts" | "like" | "scan": how candidates were chosen
    candidates: int  # articles the matcher read


def preselection(query: Query) -> list[Words] | None:
    """The words of each positive term, or None when the query can hold without any hit."""
    if evaluate(query, lambda term: ())[0]:
        return None
    found: dict[Words, None] = {}
    for term in terms(query):
        words = tuple(w for w in _SPLIT.split(term_form(term.text).key) if w)
        if words:
            found[words] = None
    return list(found) or None


def fts5_query(words: Sequence[Words]) -> str:
    """An FTS5 MATCH expression: any of the phrases, each one's last word as a prefix."""
    return " OR ".join('"' + " ".join(w).replace('"', '""') + '" *' for w in words)


def tsquery(words: Sequence[Words]) -> str:
    """A to_tsquery('simple', …) expression: any term, a term's words ANDed, last one a prefix."""

    def lexeme(word: str, prefix: bool) -> str:
        return "'" + word.replace("'", "''").replace("\\", "\\\\") + "'" + (":*" if prefix else "")

    return " | ".join(
        "(" + " & ".join(lexeme(word, i == len(w) - 1) for i, word in enumerate(w)) + ")"
        for w in words
    )


async def search_articles(
    conn: AsyncConnection,
    query: str,
    *,
    since: datetime | None = None,
    limit: int = 20,
    scan: bool = False,
) -> SearchResult:
    """Stored articles the query matches, newest first; QuerySyntaxError for a bad query."""
    words = preselection(parse_query(query))
    method, condition = ("scan", None) if scan or words is None else await _plan(conn, words)
    rows = articles_query()
    if condition is not None:
        rows = rows.where(condition)
    if since is not None:
        rows = rows.where(articles.c.fetched_at >= since)
    rows = rows.order_by(articles.c.fetched_at.desc(), articles.c.id.desc())
    found, read = await _confirm(conn, rows, query, limit)
    return SearchResult(found, method, read)


async def _plan(conn: AsyncConnection, words: list[Words]) -> tuple[str, Any]:
    if conn.dialect.name == "postgresql":
        # Materialised, so the planner answers it from the index instead of walking
        # articles in date order and computing every tsvector (a cursor asks for the
        # fastest first rows).
        candidates = (
            select(articles.c.id)
            .where(
                text(
                    "(monitor_search_document(articles.title, articles.text) @@ "
                    "to_tsquery('simple', :tsquery) OR monitor_search_truncated(articles.title, "
                    "articles.text))"
                ).bindparams(tsquery=tsquery(words))
            )
            .cte("candidates")
            .prefix_with("MATERIALIZED")
        )
        return "fts", articles.c.id.in_(select(candidates.c.id))
    if await _has_fts5(conn):
        matching = (
            text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :fts")
            .bindparams(fts=fts5_query(words))
            .columns(column("rowid", Integer))
        )
        return "fts", articles.c.id.in_(matching)
    if all(word.isascii() for w in words for word in w):
        return "like", _like(words)
    return "scan", None


async def _has_fts5(conn: AsyncConnection) -> bool:
    found = await conn.scalar(
        text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'articles_fts'")
    )
    return bool(found)


def _like(words: Sequence[Words]) -> ColumnElement[bool]:
    document = func.lower(articles.c.title + " " + func.coalesce(articles.c.text, ""))
    return or_(*(and_(*(document.like(f"%{word}%") for word in w)) for w in words))


async def _confirm(
    conn: AsyncConnection, rows: Any, query: str, limit: int
) -> tuple[list[dict[str, Any]], int]:
    matcher = Matcher.compile([])
    found: list[dict[str, Any]] = []
    read = 0
    result = await conn.stream(rows)
    try:
        async for row in result:
            read += 1
            hits = matcher.search(query, row.title, row.text or "")
            if hits is not None:
                found.append(article_json(row) | {"snippet": snippet(row, hits)})
                if len(found) >= limit:
                    break
    finally:
        await result.close()
    return found, read


def snippet(row: Any, hits: Sequence[Hit]) -> str:
    """One snippet around the strongest hit, or the text's opening words when there is none."""
    whole = row.title + "\n\n" + (row.text or "")
    if hits:
        return build_snippets(whole, hits, limit=1)[0]
    words = (row.text or row.title).split()
    return " ".join(words[:SNIPPET_WORDS]) + (ELLIPSIS if len(words) > SNIPPET_WORDS else "")
