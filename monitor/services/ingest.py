"""One poll of one feed, composed from the pipeline stages: fetch → parse → new entries →
fetch page → extract → dedupe keys → match → store (with story, matches, alerts, outbox).

A feed's failure is a result (`PollReport` with an error line), never an exception that
stops the round. The feed's validators (ETag, Last-Modified, body hash) are written only
after every new entry is stored, so a crash mid-poll re-reads the feed in full next time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor import observe
from monitor.clock import Clock
from monitor.config import Settings
from monitor.errors import ExtractError, FetchError, HTTPStatusError, ParseError, one_line
from monitor.models import (
    Article,
    Capture,
    Entry,
    Extracted,
    Feed,
    ParsedFeed,
    Response,
    WatchlistMatch,
)
from monitor.pipeline import canonical, dedupe, schedule
from monitor.pipeline.charset import looks_binary
from monitor.pipeline.evidence import snapshot_of
from monitor.pipeline.extractor import Extractor
from monitor.pipeline.fetch import PAGE_ACCEPT, Fetcher
from monitor.pipeline.language import FEED_SAMPLE_CHARS
from monitor.pipeline.match import Matcher, matching_body
from monitor.pipeline.parse import body_fingerprint, parse_feed
from monitor.services.polls import PollReport, log_poll, poll_note
from monitor.storage.articles import AlertBuilder, record_failed_entry, seen_guids
from monitor.storage.engine import database_unavailable
from monitor.storage.feeds import PollOutcome, PollRecorder, note_feed_title
from monitor.storage.store import StoreResult, store_articles
from monitor.textcaps import AUTHOR_CHARS, ERROR_CHARS, SUMMARY_CHARS, TITLE_CHARS, clip

log = structlog.get_logger("monitor.ingest")
_PARSE_IN_POOL_BYTES = 256_000
# The most articles stored in one transaction (the ready ones of a poll's window).
_STORE_BATCH = 100


@dataclass
class Ingestor:
    """Everything one process needs to poll feeds; built once by the app."""

    settings: Settings
    engine: AsyncEngine
    fetcher: Fetcher
    extractor: Extractor
    matcher: Matcher
    build_alert: AlertBuilder
    clock: Clock
    owner: str
    # The recorded version of each watchlist (`storage.watchlist_versions`), set at start
    # and on reload; alerts name the version that raised them.
    versions: dict[str, int] = field(default_factory=dict)
    # Pages fetched but not yet extracted: at most `polling.concurrency` of them, or a round
    # over many feeds holds every page it fetched in memory while the pool works through them.
    _pages: asyncio.Semaphore = field(init=False, repr=False)
    # Poll outcomes are written in batches: one transaction for the polls that end together.
    recorder: PollRecorder = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pages = asyncio.Semaphore(self.settings.polling.concurrency)
        self.recorder = PollRecorder(self.engine, self.owner)

    async def poll(self, feed: Feed) -> PollReport:
        """Poll one claimed feed end to end; never raises for the feed's own failures."""
        started = self.clock.now()
        try:
            report, outcome = await self._poll(feed, started)
        except (FetchError, ParseError) as e:
            observe.failure("feed", e)
            report, outcome = (
                PollReport(
                    feed.id,
                    feed.url,
                    error=clip(str(e), ERROR_CHARS),
                    status=getattr(e, "status", None),
                ),
                self._failure(feed, e, started),
            )
            log.warning("feed failed", feed=feed.url, error=clip(str(e), ERROR_CHARS))
        except Exception as e:  # a bug or the database: still one line, and the lease goes
            line = f"poll failed: {type(e).__name__}: {one_line(e, limit=300)}"
            log.exception("feed failed", feed=feed.url, error=line)
            report = PollReport(feed.id, feed.url, error=line)
            outcome = self._failure(feed, e, started, line=line)
        await self.recorder.record(feed.id, outcome, self.clock.now())
        observe.poll(report)
        log_poll(report)
        return report

    async def _poll(self, feed: Feed, now: datetime) -> tuple[PollReport, PollOutcome]:
        polling = self.settings.polling
        response = await self.fetcher.get(
            feed.url,
            etag=feed.etag,
            last_modified=feed.last_modified,
            headers=dict(feed.headers),
            headers_for=feed.headers_for,
            max_bytes=polling.max_feed_bytes,
        )
        observe.response("feed", response)
        if response.not_modified:
            return PollReport(feed.id, feed.url, not_modified=True, status=304), self._success(
                feed, response, now, 0
            )
        body_hash = body_fingerprint(response.body)
        if body_hash == feed.last_body_hash:
            outcome = self._success(feed, response, now, 0, body_hash=body_hash)
            unchanged = PollReport(feed.id, feed.url, not_modified=True, status=response.status)
            return unchanged, outcome
        parsed = await self._parse(response, now)
        if parsed.warning and not parsed.entries:
            raise ParseError(f"malformed feed: {parsed.warning}")
        title = clip(parsed.title, TITLE_CHARS)
        if not feed.name and title and title != feed.title and parsed.entries:
            # A feed added without a name is named by its title: written before its entries
            # are stored, so the alerts they raise (whose payload is rendered once) name it.
            await note_feed_title(self.engine, feed.id, title)
        report = await self._store_entries(feed, parsed.entries, now)
        outcome = self._success(
            feed,
            response,
            now,
            report.stored,
            body_hash=body_hash,
            title=title,
        )
        outcome = dataclasses.replace(outcome, read_entries=True, note=report.note)
        if report.deferred:
            # Keep the old validators and body hash, so the next poll reads the body again
            # and takes the next entries; and come back soon rather than at the usual time.
            outcome = dataclasses.replace(
                outcome,
                keep_validators=True,
                body_hash=None,
                next_poll_at=min(outcome.next_poll_at, now + polling.min_interval),
            )
        if parsed.warning:
            log.info("feed recovered from malformed XML", feed=feed.url, warning=parsed.warning)
        return dataclasses.replace(report, status=response.status), outcome

    async def _parse(self, response: Response, now: datetime) -> ParsedFeed:
        """Parse the feed; a large body is parsed in a pool worker, so neither the parse nor
        its hold on the GIL keeps the event loop (health, other feeds) waiting."""
        parse = functools.partial(
            parse_feed,
            response.body,
            url=response.url,
            content_type=response.content_type,
            charset=response.charset,
            now=now,
        )
        if len(response.body) > _PARSE_IN_POOL_BYTES:
            try:
                return await self.extractor.run(parse)
            except ExtractError as e:
                raise ParseError(f"feed failed to parse: {e}") from e
        return parse()

    async def _new_entries(
        self, feed: Feed, entries: Sequence[Entry], now: datetime
    ) -> tuple[list[Entry], dict[str, int]]:
        """The entries not seen before, oldest first, and how many were skipped and why."""
        max_age = self.settings.polling.max_entry_age
        recent = entries
        if max_age is not None:
            recent = [
                e for e in entries if e.published_at is None or e.published_at >= now - max_age
            ]
        async with self.engine.connect() as conn:
            seen = await seen_guids(conn, feed.id, [e.guid for e in recent])
        fresh = [e for e in recent if e.guid not in seen]
        skipped = {"seen": len(recent) - len(fresh), "too_old": len(entries) - len(recent)}
        # Oldest first, so a story's first article is the one published first.
        ordered = sorted(fresh, key=lambda e: (e.published_at is None, e.published_at or now))
        return ordered, skipped

    async def _store_entries(
        self, feed: Feed, entries: Sequence[Entry], now: datetime
    ) -> PollReport:
        fresh, skipped = await self._new_entries(feed, entries, now)
        cap = self.settings.polling.max_entries_per_poll
        taken, deferred = fresh[:cap], len(fresh) - min(len(fresh), cap)
        stored = duplicates = alerts = 0
        failures: list[str] = []
        async for entry, outcome in self._articles(feed, taken):
            if isinstance(outcome, BaseException):
                failures.append(await self._entry_failed(feed, entry, outcome, now))
                continue
            stored += outcome.article_id is not None
            duplicates += outcome.duplicate_of is not None
            alerts += len(outcome.alert_ids)
        if deferred:
            log.info("entries deferred", feed=feed.url, taken=len(taken), deferred=deferred)
        return PollReport(
            feed.id,
            feed.url,
            stored=stored,
            duplicates=duplicates,
            alerts=alerts,
            failed=len(failures),
            deferred=deferred,
            note=poll_note(failures, len(taken), deferred),
            entries=len(entries),
            new=len(fresh),
            skipped=tuple(sorted((why, n) for why, n in skipped.items() if n)),
        )

    async def _articles(
        self, feed: Feed, entries: Sequence[Entry]
    ) -> AsyncIterator[tuple[Entry, StoreResult | Exception]]:
        """Each entry's store result (or the error that failed it alone), in order.

        At most `polling.concurrency` entries are in flight at once: their pages fetch and
        extract together, and the oldest ready ones are stored together as soon as the
        oldest of all is ready (one transaction, `storage.store`), so storing overlaps
        extraction; a window rather than every entry at once keeps memory flat and the event
        loop's ready queue short on a feed of 100,000 items.
        """
        window: deque[tuple[Entry, asyncio.Future[Article]]] = deque()
        upcoming = iter(entries)
        try:
            while True:
                while len(window) < self.settings.polling.concurrency:
                    entry = next(upcoming, None)
                    if entry is None:
                        break
                    window.append((entry, asyncio.ensure_future(self._article(feed, entry))))
                if not window:
                    return
                await asyncio.wait([window[0][1]])
                ready = [window.popleft()]
                while window and window[0][1].done() and len(ready) < _STORE_BATCH:
                    ready.append(window.popleft())
                for entry, outcome in zip(
                    [e for e, _ in ready], await self._store_ready(feed, ready), strict=True
                ):
                    yield entry, outcome
        finally:
            _settle([article for _, article in window])

    async def _store_ready(
        self, feed: Feed, ready: Sequence[tuple[Entry, asyncio.Future[Article]]]
    ) -> list[StoreResult | Exception]:
        """Store the ready articles as one batch; an entry whose article could not be built
        fails alone, unless the cause is one that fails the whole poll (the database, a
        timeout: the entry is retried with the feed then, not recorded as failed)."""
        outcomes: list[StoreResult | Exception] = []
        built: list[tuple[int, Article]] = []
        for i, (_, future) in enumerate(ready):
            error = future.exception()
            if error is None:
                built.append((i, future.result()))
                outcomes.append(StoreResult(None))  # its store result, below
            elif isinstance(error, Exception) and not database_unavailable(error):
                outcomes.append(error)
            else:
                raise error
        stored = await self._store_all(feed, [article for _, article in built])
        for (i, _), result in zip(built, stored, strict=True):
            outcomes[i] = result
        return outcomes

    async def _store_all(
        self, feed: Feed, batch: Sequence[Article]
    ) -> list[StoreResult | Exception]:
        """The batch in one transaction; if it fails, each article alone, so only the one
        that cannot be stored fails (the database being unusable fails the poll)."""
        if not batch:
            return []
        try:
            return list(await self._store(feed, batch))
        except Exception as e:
            if database_unavailable(e):
                raise
            if len(batch) == 1:
                return [e]
        results: list[StoreResult | Exception] = []
        for article in batch:
            results.extend(await self._store_all(feed, [article]))
        return results

    async def _entry_failed(self, feed: Feed, entry: Entry, error: Exception, now: datetime) -> str:
        """Record one entry that could not be stored; the feed's other entries go on."""
        line = (
            f"entry {entry.guid!r} not stored: {type(error).__name__}: {one_line(error, limit=300)}"
        )
        log.warning("entry failed", feed=feed.url, guid=entry.guid, error=line)
        await record_failed_entry(self.engine, feed.id, entry.guid, now, line)
        return line

    async def _article(self, feed: Feed, entry: Entry) -> Article:
        extracted, capture = await self._extract(feed, entry)
        text = extracted.text or entry.content or entry.summary or entry.title
        url = entry.url or feed.url
        link = _same_site_canonical(extracted.canonical_url, url) if entry.url else url
        canonical_url = (
            canonical.canonical_url(link)
            if entry.url
            else canonical.linkless_key(feed.url, entry.guid)
        )
        # A page's language comes with its extraction; the feed's own text goes to the pool
        # too, on a bounded prefix: the service process never loads the language model.
        language = (
            extracted.language
            if extracted.text
            else await self.extractor.detect_language(text, limit=FEED_SAMPLE_CHARS)
        )
        print_ = dedupe.fingerprint(text)
        return Article(
            feed_id=feed.id,
            guid=entry.guid,
            url=url,
            canonical_url=canonical_url,
            canonical_link=link,
            title=clip(entry.title or extracted.title, TITLE_CHARS),
            author=clip(entry.author or extracted.author, AUTHOR_CHARS),
            published_at=entry.published_at or extracted.published_at,
            fetched_at=self.clock.now(),
            summary=clip(entry.summary or entry.content, SUMMARY_CHARS),
            text=text,
            language=language,
            # An empty body would collide with every other empty body: hash the URL instead.
            content_hash=dedupe.content_hash(text if text.strip() else canonical_url),
            signature=dedupe.pack_fingerprint(print_),
            bands=print_.bands,
            snapshot=snapshot_of(text, capture, self.settings.evidence.max_bytes),
        )

    async def _extract(self, feed: Feed, entry: Entry) -> tuple[Extracted, Capture | None]:
        """The extracted page and what its fetch received; no page when it is not fetched
        or not usable (the feed's own text is stored then)."""
        if not feed.fetch_articles or not entry.url:
            return Extracted(text=""), None
        try:
            async with self._pages:
                page = await self.fetcher.get(
                    entry.url,
                    headers=dict(feed.headers),
                    headers_for=feed.headers_for,
                    max_bytes=self.settings.polling.max_page_bytes,
                    accept=PAGE_ACCEPT,
                    capture=True,
                )
                observe.response("page", page)
                if "html" not in page.content_type and page.content_type:
                    raise ExtractError(f"not a page: {page.content_type}")
                if looks_binary(page.body):
                    raise ExtractError(
                        f"not a page: binary content served as {page.content_type or 'text'}"
                    )
                with observe.extraction():
                    extracted = await self.extractor.extract(
                        page.body, url=page.url, charset=page.charset
                    )
                return extracted, page.capture
        except (FetchError, ExtractError) as e:
            observe.failure("page", e)
            log.info(
                "article page not used; storing the feed's own text", url=entry.url, error=str(e)
            )
            return Extracted(text=""), None

    async def _store(self, feed: Feed, batch: Sequence[Article]) -> list[StoreResult]:
        threshold = self.settings.stories.threshold

        def pick(candidates: Sequence[tuple[int, bytes]], new: Article) -> int | None:
            mine = dedupe.unpack_fingerprint(new.signature, with_bands=False)
            options = [
                (story, dedupe.unpack_fingerprint(packed, with_bands=False))
                for story, packed in candidates
            ]
            return dedupe.pick_story(options, mine, threshold)

        found = [self._match(feed, article) for article in batch]
        results = await store_articles(
            self.engine,
            list(zip(batch, found, strict=True)),
            pick=pick,
            build=self.build_alert,
            window=self.settings.stories.window,
        )
        now = self.clock.now()
        for article, matched, result in zip(batch, found, results, strict=True):
            observe.stored(result, article, matched, now=now)
            if result.article_id is not None:
                log.info(
                    "article stored",
                    feed=feed.url,
                    url=article.url,
                    article=result.article_id,
                    story=result.story_id,
                    alerts=list(result.alert_ids),
                )
        return results

    def _match(self, feed: Feed, article: Article) -> list[WatchlistMatch]:
        return [
            replace(match, version=self.versions.get(match.watchlist))
            for match in self.matcher.match(
                article.title,
                matching_body(article.text, article.summary),
                feed_tags=feed.tags,
                language=article.language,
            )
        ]

    def _success(
        self,
        feed: Feed,
        response: Response,
        now: datetime,
        new_entries: int,
        *,
        body_hash: str | None = None,
        title: str | None = None,
    ) -> PollOutcome:
        decided = schedule.after_success(
            feed.schedule,
            self.settings.polling,
            now=now,
            new_entries=new_entries,
            max_age=response.max_age,
        )
        return PollOutcome(
            next_poll_at=decided.next_poll_at,
            etag=response.etag,
            last_modified=response.last_modified,
            keep_validators=response.not_modified,
            body_hash=body_hash,
            new_url=response.permanent_url,
            title=title,
            new_entries=new_entries,
            mean_gap_seconds=decided.mean_gap_seconds,
            polled_at=now,
        )

    def _failure(
        self, feed: Feed, error: Exception, now: datetime, *, line: str | None = None
    ) -> PollOutcome:
        decided = schedule.after_failure(
            feed.schedule,
            self.settings.polling,
            now=now,
            status=error.status if isinstance(error, HTTPStatusError) else None,
            retry_after=getattr(error, "retry_after", None),
            rand=random.random(),
        )
        return PollOutcome(
            next_poll_at=decided.next_poll_at,
            state=decided.state,
            error=clip(line or str(error), ERROR_CHARS),
            first_404_at=decided.first_404_at,
            retry_after_until=decided.retry_after_until,
            polled_at=now,
        )


def _settle(tasks: Sequence[asyncio.Future[Article]]) -> None:
    """Cancel the tasks still running (the poll failed or was cancelled) and retrieve the
    failures of the finished ones, so none is left behind or reported as never retrieved."""
    for task in tasks:
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()


def _same_site_canonical(declared: str, url: str) -> str:
    """The page's declared canonical URL when it stays on the entry's site, else the entry URL.

    An outlet republishing a wire story may declare the wire's URL as canonical; taking it
    would drop the outlet's copy as a URL duplicate and undercount the story's outlets.
    """
    if not declared:
        return url

    def site(u: str) -> str:
        host = urlsplit(canonical.canonical_url(u)).hostname or ""
        return host.removeprefix("www.")

    return declared if site(declared) == site(url) else url
