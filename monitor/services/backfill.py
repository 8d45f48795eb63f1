"""Run one watchlist over stored articles (`monitor watchlists backfill`).

Articles with text (retention may have pruned it) are read newest first, a page at a time,
and matched as the service matches them: the feed's tags and the article's language scope
the watchlist. Unless it is a dry run, each page's matches are stored and alerts raised in
one transaction through the write path's own functions, so a (watchlist, story) that
already alerted never alerts again and running a backfill twice adds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.models import Article, WatchlistMatch
from monitor.pipeline.match import Matcher
from monitor.pipeline.evidence import snapshot_of
from monitor.storage.articles import (
    AlertBuilder,
    alert_context,
    insert_alerts,
    insert_matches,
    keep_evidence,
    payload_evidence,
)
from monitor.storage.tables import articles, feeds

PAGE = 200
SNIPPETS = 5
Progress = Callable[[int, int], None]  # (articles scanned so far, articles to scan)


@dataclass(frozen=True, slots=True)
class BackfillReport:
    """What a backfill found and did."""

    scanned: int
    matched: int
    new_alerts: int
    terms: dict[tuple[str, str | None], int] = field(default_factory=dict)  # hits per term
    articles: dict[tuple[str, str | None], int] = field(default_factory=dict)  # per term
    snippets: tuple[str, ...] = ()  # the first few, newest articles first


@dataclass
class _Tally:
    scanned: int = 0
    matched: int = 0
    new_alerts: int = 0
    terms: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    articles: Counter[tuple[str, str | None]] = field(default_factory=Counter)
    snippets: list[str] = field(default_factory=list)

    def add(self, found: WatchlistMatch) -> None:
        self.matched += 1
        for count in found.matches:
            self.terms[(count.term, count.actor)] += count.count
            self.articles[(count.term, count.actor)] += 1
        self.snippets += found.snippets[: max(0, SNIPPETS - len(self.snippets))]

    def report(self) -> BackfillReport:
        return BackfillReport(
            self.scanned,
            self.matched,
            self.new_alerts,
            dict(self.terms.most_common()),
            dict(self.articles),
            tuple(self.snippets),
        )


async def backfill(
    engine: AsyncEngine,
    matcher: Matcher,
    watchlist: str,
    *,
    build: AlertBuilder,
    since: datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> BackfillReport:
    """Match `watchlist` (compiled into `matcher`) against stored articles, newest first."""
    tally = _Tally()
    total = await _count(engine, since)
    after: tuple[datetime, int] | None = None
    while page := await _page(engine, since, after):
        after = (page[-1].fetched_at, page[-1].id)
        found = [(row, _match(matcher, watchlist, row)) for row in page]
        hits = [(row, match) for row, match in found if match is not None]
        for _, match in hits:
            tally.add(match)
        if hits and not dry_run:
            tally.new_alerts += await _store(engine, hits, build)
        tally.scanned += len(page)
        if progress is not None:
            progress(tally.scanned, total)
    return tally.report()


def _scope(since: datetime | None) -> Any:
    condition = articles.c.text.is_not(None)
    return condition if since is None else and_(condition, articles.c.fetched_at >= since)


async def _count(engine: AsyncEngine, since: datetime | None) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(select(func.count()).select_from(articles).where(_scope(since))) or 0
        )


async def _page(
    engine: AsyncEngine, since: datetime | None, after: tuple[datetime, int] | None
) -> list[Any]:
    query = (
        select(articles, feeds.c.tags.label("feed_tags"))
        .select_from(articles.join(feeds, feeds.c.id == articles.c.feed_id))
        .where(_scope(since))
        .order_by(articles.c.fetched_at.desc(), articles.c.id.desc())
        .limit(PAGE)
    )
    if after is not None:
        fetched_at, article_id = after
        query = query.where(
            or_(
                articles.c.fetched_at < fetched_at,
                and_(articles.c.fetched_at == fetched_at, articles.c.id < article_id),
            )
        )
    async with engine.connect() as conn:
        return list(await conn.execute(query))


def _match(matcher: Matcher, watchlist: str, row: Any) -> WatchlistMatch | None:
    found = matcher.match(
        row.title, row.text, feed_tags=tuple(row.feed_tags or ()), language=row.language
    )
    return next((match for match in found if match.watchlist == watchlist), None)


async def _store(
    engine: AsyncEngine, hits: Sequence[tuple[Any, WatchlistMatch]], build: AlertBuilder
) -> int:
    created = 0
    async with engine.begin() as conn:
        for row, match in hits:
            created += await _store_one(conn, row, match, build)
    return created


async def _store_one(
    conn: AsyncConnection, row: Any, match: WatchlistMatch, build: AlertBuilder
) -> int:
    article = _article(row)
    await insert_matches(conn, row.id, [match], article)
    # No page was kept for a stored article: its evidence is the text as stored.
    evidence = await payload_evidence(conn, article, row.id, row.story_id, new_story=False)
    context = await alert_context(conn, article, row.id, row.story_id, evidence)
    created = len(await insert_alerts(conn, [match], context, build))
    await keep_evidence(conn, article, row.id, row.story_id, matched=True, new_story=False)
    return created


def _article(row: Any) -> Article:
    return Article(
        feed_id=row.feed_id,
        guid=row.guid,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        author=row.author,
        published_at=row.published_at,
        fetched_at=row.fetched_at,
        summary=row.summary,
        text=row.text,
        language=row.language,
        content_hash=row.content_hash,
        snapshot=snapshot_of(row.text, None, 0),
    )
