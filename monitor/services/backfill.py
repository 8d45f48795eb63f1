"""Run one watchlist over stored articles (`watchlists backfill`, and its dry run, the
preview).

Articles with text (retention may have pruned it) are read newest first, a page at a time,
and matched as the service matches them: the feed's tags and the article's language scope
the watchlist. Unless it is a dry run, each page's matches are stored and alerts raised in
one transaction through the write path's own functions, so a (watchlist, story) that
already alerted never alerts again and running a backfill twice adds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.models import WatchlistMatch
from monitor.pipeline.evidence import snapshot_of
from monitor.pipeline.match import Matcher
from monitor.services.records import BackfillReport, TermTally
from monitor.storage.articles import AlertBuilder, store_matches
from monitor.storage.queries import count_with_text, page_with_text

PAGE = 200
SNIPPETS = 5
ARTICLE_IDS = 100
Progress = Callable[[int, int], None]  # (articles scanned so far, articles to scan)
Term = tuple[str, str | None]


@dataclass
class _Tally:
    scanned: int = 0
    matched: int = 0
    new_alerts: int = 0
    terms: Counter[Term] = field(default_factory=Counter)
    articles: Counter[Term] = field(default_factory=Counter)
    snippets: list[str] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)

    def add(self, article_id: int, found: WatchlistMatch) -> None:
        self.matched += 1
        for count in found.matches:
            self.terms[(count.term, count.actor)] += count.count
            self.articles[(count.term, count.actor)] += 1
        self.snippets += found.snippets[: max(0, SNIPPETS - len(self.snippets))]
        if len(self.article_ids) < ARTICLE_IDS:
            self.article_ids.append(article_id)

    def report(self, watchlist: str, dry_run: bool) -> BackfillReport:
        terms = tuple(
            TermTally(term, actor, hits, self.articles[(term, actor)])
            for (term, actor), hits in self.terms.most_common()
        )
        return BackfillReport(
            watchlist,
            self.scanned,
            self.matched,
            self.new_alerts,
            dry_run,
            terms,
            tuple(self.snippets),
            tuple(self.article_ids),
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
    async with engine.connect() as conn:
        total = await count_with_text(conn, since)
    after: tuple[datetime, int] | None = None
    while True:
        async with engine.connect() as conn:
            page = await page_with_text(conn, since, after, limit=PAGE)
        if not page:
            break
        after = (page[-1].fetched_at, page[-1].id)
        found = [(row, _match(matcher, watchlist, row)) for row in page]
        hits = [(row, match) for row, match in found if match is not None]
        for row, match in hits:
            tally.add(row.id, match)
        if hits and not dry_run:
            async with engine.begin() as conn:
                for row, match in hits:
                    # No page is kept for a stored article: its evidence is the stored text.
                    kept = snapshot_of(row.text, None, 0)
                    tally.new_alerts += await store_matches(conn, row, [match], build, kept)
        tally.scanned += len(page)
        if progress is not None:
            progress(tally.scanned, total)
    return tally.report(watchlist, dry_run)


def _match(matcher: Matcher, watchlist: str, row: Any) -> WatchlistMatch | None:
    found = matcher.match(
        row.title, row.text, feed_tags=tuple(row.feed_tags or ()), language=row.language
    )
    return next((match for match in found if match.watchlist == watchlist), None)
