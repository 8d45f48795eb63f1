"""Search candidates: the stored articles a query's preselection (`pipeline.preselect`) can
match, newest first, for the use case to confirm with the matcher. The words become:

- SQLite: the FTS5 table `articles_fts` (migration 0002), a phrase per term;
- PostgreSQL: the `monitor_search_document` tsvector index, the words of a term ANDed
  (phrase positions stop counting past 16,383 words), plus every article too long for a
  tsvector (`monitor_search_truncated`);
- LIKE on the lower-cased text where SQLite has no FTS5 and the words are ASCII.

No preselection, or one the index cannot serve, reads every article (`method` "scan").
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, column, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.queries import articles_query
from monitor.storage.tables import articles

Words = tuple[str, ...]  # one term's words in matching form


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


@contextlib.asynccontextmanager
async def candidates(
    conn: AsyncConnection,
    words: Sequence[Words] | None,
    *,
    since: datetime | None = None,
    scan: bool = False,
) -> AsyncIterator[tuple[str, AsyncIterator[Any]]]:
    """(method, article rows newest first with `feed_url`/`feed_name`) that may hold any of
    `words`; every article when `words` is None or `scan`. Read lazily: stop when done."""
    method, condition = ("scan", None) if scan or not words else await _plan(conn, list(words))
    rows = articles_query()
    if condition is not None:
        rows = rows.where(condition)
    if since is not None:
        rows = rows.where(articles.c.fetched_at >= since)
    rows = rows.order_by(articles.c.fetched_at.desc(), articles.c.id.desc())
    result = await conn.stream(rows)
    try:
        yield method, result.__aiter__()
    finally:
        await result.close()


async def _plan(conn: AsyncConnection, words: list[Words]) -> tuple[str, Any]:
    if conn.dialect.name == "postgresql":
        # Materialised, so the planner answers it from the index instead of walking
        # articles in date order and computing every tsvector (a cursor asks for the
        # fastest first rows).
        found = (
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
        return "fts", articles.c.id.in_(select(found.c.id))
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
