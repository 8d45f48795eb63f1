"""Watchlists: list with what each matched, test one text or URL (nothing stored or sent),
backfill over stored articles, and preview (a backfill's dry run over the last N days).

A test has no feed: a watchlist limited to feed `tags` is applied only when `feed_tags` names
one of them. Language-limited watchlists see the text's detected language, as in the service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor.config import WatchlistConfig
from monitor.errors import FetchError, InvalidRequest, NotConfigured, NotFound
from monitor.notify.outbox import alert_builder
from monitor.pipeline.fetch import PAGE_ACCEPT
from monitor.pipeline.language import detect_language
from monitor.pipeline.match import Matcher
from monitor.services.backfill import Progress, backfill
from monitor.services.context import Context
from monitor.services.records import BackfillReport, WatchlistSummary, WatchlistTest
from monitor.services.settings import compile_matcher
from monitor.services.watchlist_history import WatchlistVersion, watchlist_history
from monitor.storage.alerts import watchlist_counts

MAX_PREVIEW = timedelta(days=366)


class Watchlists:
    """The configured watchlists."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _find(self, name: str) -> WatchlistConfig:
        settings = self.ctx.settings
        found = next((w for w in settings.watchlists if w.name == name), None)
        if found is None:
            names = ", ".join(w.name for w in settings.watchlists) or "none"
            raise NotConfigured(f"no watchlist {name!r} in {settings.source}; configured: {names}")
        return found

    async def list(self, *, counts: bool = True) -> tuple[WatchlistSummary, ...]:
        """Each watchlist with severity, channels, term count, scope, query, and (unless
        `counts` is False: then the database is not touched) how many stored articles it
        matched and alerts it raised."""
        settings = self.ctx.settings
        matcher = compile_matcher(settings)
        found: dict[str, tuple[int, int]] = {}
        if counts:
            async with self.ctx.read() as conn:
                found = await watchlist_counts(conn)
        return tuple(
            WatchlistSummary(
                name=w.name,
                severity=w.severity,
                channels=tuple(w.channels),
                terms=matcher.term_count(w.name),
                exclude=len(w.exclude),
                tags=tuple(w.tags),
                languages=tuple(w.languages),
                query=" ".join(w.query.split()),
                articles=found.get(w.name, (0, 0))[0] if counts else None,
                alerts=found.get(w.name, (0, 0))[1] if counts else None,
            )
            for w in settings.watchlists
        )

    async def test_text(
        self, body: str, *, title: str = "", language: str = "", feed_tags: Sequence[str] = ()
    ) -> WatchlistTest:
        """Match one text as the service would; nothing is stored or sent."""
        settings = self.ctx.settings
        language = language or detect_language(title + "\n\n" + body)
        tags = tuple(t.strip() for t in feed_tags if t.strip())
        matcher = compile_matcher(settings)
        found = matcher.match(title, body, feed_tags=tags, language=language)
        unapplied = tuple(
            w.name for w in settings.watchlists if w.tags and not set(w.tags) & set(tags)
        )
        return WatchlistTest(language, tuple(found), unapplied, title)

    async def test_url(self, url: str, *, feed_tags: Sequence[str] = ()) -> WatchlistTest:
        """Fetch a page, extract its article and match it (FetchError, ExtractError)."""
        if not url.startswith(("http://", "https://")):
            raise InvalidRequest(f"{url}: not an http:// or https:// URL")
        polling = self.ctx.settings.polling
        try:
            async with self.ctx.fetcher() as fetcher:
                page = await fetcher.get(url, max_bytes=polling.max_page_bytes, accept=PAGE_ACCEPT)
        except FetchError as e:
            raise e.naming(url) from e
        # Imported here, not with the module: trafilatura is ≈ 60 MB the service never needs.
        from monitor.pipeline.extract import extract_article

        extracted = await asyncio.to_thread(
            extract_article, page.body, url=page.url, charset=page.charset
        )
        return await self.test_text(
            extracted.text,
            title=extracted.title,
            language=extracted.language,
            feed_tags=feed_tags,
        )

    async def backfill(
        self,
        name: str,
        *,
        since: datetime | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> BackfillReport:
        """Run a watchlist over stored articles fetched since `since`: store its matches and
        raise its alerts (never a second one for a story), or with `dry_run` only report."""
        watchlist = self._find(name)
        matcher = Matcher.compile([watchlist])
        return await backfill(
            self.ctx.engine,
            matcher,
            name,
            build=alert_builder(self.ctx.settings, self.ctx.clock),
            since=since,
            dry_run=dry_run,
            progress=progress,
        )

    async def preview(self, name: str, *, days: int = 7) -> BackfillReport:
        """What a watchlist would have matched over the last `days` days (a dry run)."""
        if not 1 <= days <= MAX_PREVIEW.days:
            raise InvalidRequest(f"days must be 1 to {MAX_PREVIEW.days}")
        since = self.ctx.clock.now() - timedelta(days=days)
        return await self.backfill(name, since=since, dry_run=True)

    async def history(self, name: str) -> tuple[WatchlistVersion, ...]:
        """Every definition of `name` the service loaded, oldest first, each with its diff
        from the one before; NotConfigured for a name neither the config nor the history
        knows (a usage error, exit 2), NotFound for a configured one not yet recorded."""
        try:
            return await watchlist_history(self.ctx.engine, name)
        except NotFound:
            self._find(name)  # raises NotConfigured for a name the config lacks
            raise
