"""The article write path: the new articles of a poll stored together in one transaction.

`store_articles` takes a batch (each article with its watchlist matches) and writes, for each
article that is not a duplicate, its story (opened or joined), the article, its entry, its
band keys, matches, alerts, outbox rows and evidence, all committed together: a crash leaves
the whole batch unseen (the next poll fetches it again) or stored with its alerts and outbox
rows — never a second alert, never a lost one.

Duplicates are dropped by key: the entry's (feed, guid), the canonical URL, and the content
hash *within a feed* (the same text under a new URL or guid). A word-for-word copy from
another feed is no duplicate: it is another outlet carrying the story, stored as its own
article in the story of the text's first copy (whatever the story window), so an unedited
wire copy counts as an article and an outlet like an edited one, and raises no second alert.

The batch reads what it needs in a handful of statements (the duplicate keys, the band-key
candidates in the story window, the bands the candidate stories index) and writes each table
with one executemany. Story assignment runs in memory over those rows plus the rows each
article of the batch adds as it is assigned, so a later article of the batch is a duplicate
of, or joins the story of, an earlier one exactly as if they had been stored one by one.

Concurrency (PostgreSQL): the transaction first takes advisory locks on every key the batch
could collide on — band keys, canonical URLs, content hashes, (feed, guid) — in one sorted
statement, then the locks of the existing stories it joins, also sorted. Two workers storing
copies of one story serialise and the second sees the first's rows (so one feed's text is
stored once, and another feed's copy of it finds its story); neither waits on the other
while holding what the other needs, so they never deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.models import AlertContext, Article, WatchlistMatch
from monitor.storage.articles import (
    AlertBuilder,
    insert_alerts,
    installation_id,
    match_rows,
    seen_guids,
)
from monitor.storage.assign import Pending, StoryPicker, assign_stories
from monitor.storage.dialect import CHUNK, in_chunks, insert, insert_ignore, key_share, xact_locks
from monitor.storage.evidence import keep_evidence, payload_evidence
from monitor.storage.tables import alerts, articles, entries, feeds, matches, stories, story_bands

_KEYS_LOCK_SPACE = 7  # advisory lock space of a batch's band keys and dedupe keys (and of
# the band keys alone before batches, so an older worker and a newer one still serialise)


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What storing one entry did."""

    article_id: int | None  # None when the entry was a duplicate
    story_id: int | None = None
    duplicate_of: str | None = None  # "guid" | "url" | "hash" when dropped
    new_story: bool = False
    alert_ids: tuple[str, ...] = ()
    alerted: tuple[str, ...] = ()  # the watchlists of `alert_ids`, in the same order


async def store_articles(
    engine: AsyncEngine,
    batch: Sequence[tuple[Article, Sequence[WatchlistMatch]]],
    *,
    pick: StoryPicker,
    build: AlertBuilder,
    window: timedelta,
) -> list[StoreResult]:
    """Store a batch of articles with their stories, matches, alerts and outbox rows in one
    transaction; one result per article, in order. Raises if the batch cannot be stored (the
    caller may then store its articles one by one to find the one that fails).

    Text the database cannot hold (NUL, lone surrogates) is replaced here, whatever the
    caller passed, so one odd character never makes an article unstorable."""
    clean = [(a.storable(), [m.storable() for m in found]) for a, found in batch]
    if not clean:
        return []
    async with _writer(engine):
        try:
            return await _store_once(engine, clean, pick, build, window)
        except IntegrityError:
            # Another writer committed one of these articles between our check and insert:
            # the second try sees it as a duplicate. A second refusal is the database's own
            # about this batch, and goes to the caller as it is.
            return await _store_once(engine, clean, pick, build, window)


async def store_article(
    engine: AsyncEngine,
    article: Article,
    found: Sequence[WatchlistMatch],
    *,
    pick: StoryPicker,
    build: AlertBuilder,
    window: timedelta,
) -> StoreResult:
    """Store one article: a batch of one."""
    (result,) = await store_articles(
        engine, [(article, found)], pick=pick, build=build, window=window
    )
    return result


async def _store_once(
    engine: AsyncEngine,
    batch: Sequence[tuple[Article, Sequence[WatchlistMatch]]],
    pick: StoryPicker,
    build: AlertBuilder,
    window: timedelta,
) -> list[StoreResult]:
    async with engine.begin() as conn:
        await _hold_feeds(conn, {a.feed_id for a, _ in batch})
        await xact_locks(conn, _KEYS_LOCK_SPACE, _lock_keys(a for a, _ in batch))
        results, pending = await _sort_out(conn, batch)
        if pending:
            await assign_stories(conn, pending, pick, window)
            await _write(conn, pending)
            await _alert(conn, pending, build)
    for p in pending:
        results[p.index] = StoreResult(
            p.article_id,
            p.story,
            None,
            p.new_story,
            tuple(alert for _, alert in p.alerts),
            tuple(watchlist for watchlist, _ in p.alerts),
        )
    return [r for r in results if r is not None]


async def _hold_feeds(conn: AsyncConnection, feed_ids: Iterable[int]) -> None:
    """Keep the batch's feeds from being removed until it commits, taken before any other
    lock: `feeds remove` locks the feed first and then the stories of its articles, so a
    batch must not hold a story lock while it waits for the feed."""
    await conn.execute(key_share(conn, select(feeds.c.id).where(feeds.c.id.in_(sorted(feed_ids)))))


def _lock_keys(batch: Iterable[Article]) -> list[int]:
    keys: set[str] = set()
    for article in batch:
        keys.update(article.bands)
        keys.update((article.canonical_url, article.content_hash))
        keys.add(f"{article.feed_id}\x00{article.guid}")
    return [zlib.crc32(key.encode()) - 2**31 for key in keys]


@dataclass(slots=True)
class _Copies:
    """The copies of one text (one content hash): the feeds that hold it, and the story they
    share as a stored story id, or the batch's first copy until that one has a story."""

    feeds: set[int]
    first: int | Pending


async def _sort_out(
    conn: AsyncConnection, batch: Sequence[tuple[Article, Sequence[WatchlistMatch]]]
) -> tuple[list[StoreResult | None], list[Pending]]:
    """Drop the duplicates (recording their entries as seen) and return the rest: an entry
    seen before is a "guid" duplicate; an article whose canonical URL is stored, or taken by
    an earlier article of the batch, is a "url" duplicate, and one whose text (content hash)
    its own feed holds already, a "hash" duplicate. Another feed's copy of a stored text is
    kept, marked to join the story of that text's first copy."""
    urls, copies = await _stored_keys(conn, [a for a, _ in batch])
    seen = await _seen_entries(conn, [a for a, _ in batch])
    results: list[StoreResult | None] = [None] * len(batch)
    pending: list[Pending] = []
    dropped: list[dict[str, Any]] = []
    for index, (article, found) in enumerate(batch):
        entry = (article.feed_id, article.guid)
        text = copies.get(article.content_hash)
        kind = (
            "url"
            if article.canonical_url in urls
            else "hash"
            if text is not None and article.feed_id in text.feeds
            else None
        )
        if entry in seen:
            results[index] = StoreResult(None, duplicate_of="guid")
            continue
        seen.add(entry)
        if kind:
            results[index] = StoreResult(None, duplicate_of=kind)
            dropped.append(_entry_row(article, None, kind))
            continue
        urls.add(article.canonical_url)
        p = Pending(index, article, found, copy_of=text.first if text else None)
        if text is None:
            copies[article.content_hash] = _Copies({article.feed_id}, p)
        else:
            text.feeds.add(article.feed_id)
        pending.append(p)
    if dropped:
        await conn.execute(insert_ignore(conn, entries), dropped)
    return results, pending


async def _stored_keys(
    conn: AsyncConnection, batch: Sequence[Article]
) -> tuple[set[str], dict[str, _Copies]]:
    """The batch's canonical URLs that are stored, and the stored copies of its texts (the
    story of a text's first copy: all of them join it)."""
    urls: set[str] = set()
    copies: dict[str, _Copies] = {}
    for chunk in in_chunks(batch, CHUNK):
        rows = await conn.execute(
            select(
                articles.c.canonical_url,
                articles.c.content_hash,
                articles.c.feed_id,
                articles.c.story_id,
            )
            .where(
                or_(
                    articles.c.canonical_url.in_([a.canonical_url for a in chunk]),
                    articles.c.content_hash.in_([a.content_hash for a in chunk]),
                )
            )
            .order_by(articles.c.id)
        )
        for row in rows:
            urls.add(row.canonical_url)
            text = copies.setdefault(row.content_hash, _Copies(set(), row.story_id))
            text.feeds.add(row.feed_id)
    return urls, copies


async def _seen_entries(conn: AsyncConnection, batch: Sequence[Article]) -> set[tuple[int, str]]:
    by_feed: dict[int, list[str]] = defaultdict(list)
    for article in batch:
        by_feed[article.feed_id].append(article.guid)
    seen: set[tuple[int, str]] = set()
    for feed_id, guids in by_feed.items():
        seen.update((feed_id, guid) for guid in await seen_guids(conn, feed_id, guids))
    return seen


def _entry_row(
    article: Article, article_id: int | None, duplicate_of: str | None
) -> dict[str, Any]:
    return {
        "feed_id": article.feed_id,
        "guid": article.guid,
        "article_id": article_id,
        "seen_at": article.fetched_at,
        "duplicate_of": duplicate_of,
    }


async def _write(conn: AsyncConnection, pending: Sequence[Pending]) -> None:
    """Insert the articles, their entries, the new stories' representatives, the band keys
    and the matches: one statement each."""
    inserted = await conn.execute(
        insert(conn, articles).returning(articles.c.id, sort_by_parameter_order=True),
        [_article_values(p.article, p.story) for p in pending],
    )
    for p, article_id in zip(pending, inserted.scalars(), strict=True):
        p.article_id = article_id
    await conn.execute(
        insert(conn, entries), [_entry_row(p.article, p.article_id, None) for p in pending]
    )
    opened = sorted((p.story, p.article_id) for p in pending if p.new_story)
    if opened:
        await conn.execute(
            update(stories)
            .where(stories.c.id == bindparam("story"))
            .values(representative_article_id=bindparam("article")),
            [{"story": s, "article": a} for s, a in opened],
        )
    bands = [
        {
            "band_key": band,
            "article_id": p.article_id,
            "story_id": p.story,
            "created_at": p.article.fetched_at,
        }
        for p in pending
        for band in p.bands
    ]
    if bands:
        await conn.execute(insert_ignore(conn, story_bands), bands)
    found = [row for p in pending for row in match_rows(p.article_id, p.found, p.article)]
    if found:
        await conn.execute(insert_ignore(conn, matches), found)


def _article_values(article: Article, story_id: int) -> dict[str, Any]:
    return {
        "feed_id": article.feed_id,
        "guid": article.guid,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "canonical_link": article.canonical_link or article.url,
        "title": article.title,
        "author": article.author,
        "published_at": article.published_at,
        "fetched_at": article.fetched_at,
        "summary": article.summary,
        "text": article.text,
        "language": article.language,
        "content_hash": article.content_hash,
        "story_id": story_id,
        "signature": article.signature or None,
    }


async def _alert(conn: AsyncConnection, pending: Sequence[Pending], build: AlertBuilder) -> None:
    """Raise the alerts of the matching articles, in order (one per watchlist and story), and
    keep the evidence of every article of an alerted story."""
    keeping = [p for p in pending if p.found or p.article.snapshot is not None]
    if not keeping:
        return
    names = await _feed_names(conn, {p.article.feed_id for p in keeping})
    counts = await _story_counts(conn, pending)
    alerted = await _alerted_stories(conn, {p.story for p in keeping if not p.new_story})
    install = await installation_id(conn) if any(p.found for p in pending) else ""
    for p in keeping:
        feed = names[p.article.feed_id]
        if p.found:
            evidence = await payload_evidence(conn, p.article, p.article_id, p.story, p.new_story)
            context = AlertContext(
                p.article_id,
                p.article,
                feed[0],
                feed[1],
                p.story,
                counts[p.index],
                installation=install,
                evidence=evidence,
            )
            p.alerts = await insert_alerts(conn, p.found, context, build)
            if p.alerts:
                alerted.add(p.story)
        if p.found or (not p.new_story and p.story in alerted):
            await keep_evidence(
                conn,
                p.article,
                p.article_id,
                p.story,
                matched=bool(p.found),
                new_story=p.new_story,
                feed=feed,
            )


async def _feed_names(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    rows = await conn.execute(
        select(feeds.c.id, feeds.c.url, feeds.c.name, feeds.c.title).where(
            feeds.c.id.in_(sorted(ids))
        )
    )
    return {row.id: (row.url, row.name or row.title) for row in rows}


async def _story_counts(conn: AsyncConnection, pending: Sequence[Pending]) -> dict[int, int]:
    """Each article's story's article count as it stood when the article joined: the count
    now less the batch's articles of that story after it."""
    ids = sorted({p.story for p in pending})
    now: dict[int, int] = {}
    for chunk in in_chunks(ids, CHUNK):
        rows = await conn.execute(
            select(stories.c.id, stories.c.article_count).where(stories.c.id.in_(chunk))
        )
        now.update((row.id, int(row.article_count or 1)) for row in rows)
    later: Counter[int] = Counter()
    counts: dict[int, int] = {}
    for p in reversed(pending):
        counts[p.index] = max(1, now.get(p.story, 1) - later[p.story])
        later[p.story] += 1
    return counts


async def _alerted_stories(conn: AsyncConnection, ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for chunk in in_chunks(sorted(ids), CHUNK):
        rows = await conn.execute(
            select(alerts.c.story_id).where(alerts.c.story_id.in_(chunk)).distinct()
        )
        found.update(rows.scalars())
    return found


_SQLITE_WRITERS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


def _writer(engine: AsyncEngine) -> contextlib.AbstractAsyncContextManager[Any]:
    """SQLite has one writer: serialise this process's article transactions so a story lookup
    always sees the previous batch's commit (PostgreSQL uses advisory locks instead)."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _SQLITE_WRITERS.get(engine)
    if lock is None:
        lock = _SQLITE_WRITERS[engine] = asyncio.Lock()
    return lock
