"""Feed rows: config upsert, CLI management, claiming due feeds with leases, recording poll outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.config import FeedConfig
from monitor.models import Feed, FeedSchedule
from monitor.storage import leases
from monitor.storage.dialect import for_update, xact_lock
from monitor.storage.stories import recounting
from monitor.storage.tables import articles, feeds

REMOVED_FROM_CONFIG = "removed from the config file"
ACTIVE_STATES = ("ok", "erroring")
_CONFIG_SYNC_LOCK = 0x6D6F6E66656564  # "monfeed": the advisory lock of the config feed sync


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of a feed changed, written back in one UPDATE."""

    next_poll_at: datetime
    state: str = "ok"
    error: str | None = None  # None on success
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    new_url: str | None = None  # permanent redirect
    title: str | None = None
    new_entries: int = 0
    mean_gap_seconds: float | None = None
    retry_after_until: datetime | None = None
    first_404_at: datetime | None = None
    keep_validators: bool = True  # 304: keep the stored etag/last_modified
    read_entries: bool = False  # the body was parsed: `note` replaces the stored note
    note: str | None = None  # entries failed or deferred, one line
    # When the poll was decided (its next poll is reckoned from it); None: when recorded.
    polled_at: datetime | None = None


def feed_record(row: Any, default_fetch_articles: bool) -> Feed:
    """A feeds row as the claimed-feed record the poller takes."""
    fetch = row.fetch_articles if row.fetch_articles is not None else default_fetch_articles
    schedule = FeedSchedule(
        error_count=int(row.error_count),
        first_404_at=row.first_404_at,
        last_new_at=row.last_new_at,
        mean_gap_seconds=row.mean_gap_seconds,
        interval_seconds=row.interval_seconds,
    )
    return Feed(
        id=row.id,
        url=row.url,
        name=row.name,
        tags=tuple(row.tags or ()),
        etag=row.etag,
        last_modified=row.last_modified,
        fetch_articles=bool(fetch),
        headers=tuple(sorted((row.headers or {}).items())),
        last_body_hash=row.last_body_hash,
        schedule=schedule,
        config_url=row.config_url,
        title=row.title or "",
    )


def _config_values(feed: FeedConfig) -> dict[str, Any]:
    return {
        "name": feed.name,
        "tags": list(feed.tags),
        "headers": dict(feed.headers),
        "interval_seconds": feed.interval.total_seconds() if feed.interval else None,
        "fetch_articles": feed.fetch_articles,
        "silent_after_seconds": feed.silent_after.total_seconds() if feed.silent_after else None,
    }


async def sync_config_feeds(
    conn: AsyncConnection, config_feeds: Sequence[FeedConfig], now: datetime
) -> None:
    """Upsert config feeds by config_url; disable config feeds no longer in the file."""
    await xact_lock(conn, _CONFIG_SYNC_LOCK)  # N workers starting together sync one at a time
    # The rows are locked in id order before any is written, as `record_polls` does: two
    # transactions writing several feeds in different orders deadlock (seen with workers
    # restarting while others recorded their polls).
    existing = {
        row.config_url: row
        for row in await conn.execute(
            select(feeds.c.id, feeds.c.config_url, feeds.c.state, feeds.c.last_error)
            .where(feeds.c.config_url.is_not(None))
            .order_by(feeds.c.id)
            .with_for_update(key_share=True)
        )
    }
    listed = set()
    for feed in config_feeds:
        listed.add(feed.url)
        values = _config_values(feed)
        row = existing.get(feed.url)
        if row is None:
            await _insert_or_adopt(conn, feed, values, now)
            continue
        if row.state == "disabled" and row.last_error == REMOVED_FROM_CONFIG:
            values |= {"state": "ok", "last_error": None, "next_poll_at": now}
        await conn.execute(update(feeds).where(feeds.c.id == row.id).values(**values))
    gone = [url for url in existing if url not in listed]
    if gone:
        await conn.execute(
            update(feeds)
            .where(feeds.c.config_url.in_(gone), feeds.c.state != "disabled")
            .values(state="disabled", last_error=REMOVED_FROM_CONFIG)
        )


async def _insert_or_adopt(
    conn: AsyncConnection, feed: FeedConfig, values: dict[str, Any], now: datetime
) -> None:
    # A feed first added with `feeds add` and later written into the config is adopted.
    adopted = await conn.execute(
        update(feeds)
        .where(feeds.c.url == feed.url, feeds.c.config_url.is_(None))
        .values(config_url=feed.url, **values)
    )
    if adopted.rowcount:
        return
    await conn.execute(
        insert(feeds).values(
            url=feed.url, config_url=feed.url, next_poll_at=now, created_at=now, **values
        )
    )


async def add_feed(
    conn: AsyncConnection,
    url: str,
    *,
    name: str,
    tags: Sequence[str],
    now: datetime,
    origin: str = "cli",
) -> int | None:
    """Add a feed not from the config (`origin`: cli, api, console or opml); its id, or
    None when a feed with this URL exists already."""
    found = await conn.scalar(select(feeds.c.id).where(feeds.c.url == url))
    if found is not None:
        return None
    added = await conn.scalar(
        insert(feeds)
        .values(
            url=url,
            name=name,
            tags=list(tags),
            headers={},
            next_poll_at=now,
            created_at=now,
            origin=origin,
        )
        .returning(feeds.c.id)
    )
    return int(added)


async def find_feed(conn: AsyncConnection, url_or_id: str) -> Any:
    """A feed row by id, URL or config URL, or None."""
    condition = or_(feeds.c.url == url_or_id, feeds.c.config_url == url_or_id)
    if url_or_id.isdigit():
        condition = or_(condition, feeds.c.id == int(url_or_id))
    return (await conn.execute(select(feeds).where(condition))).first()


async def remove_feed(conn: AsyncConnection, feed_id: int) -> None:
    """Delete a feed row; its articles, entries and matches go with it (ON DELETE CASCADE)
    and the stories its articles were in are recounted.

    The feed row is locked first: a batch storing this feed's articles commits before (and
    its articles are counted here) or fails on the missing feed after."""
    await conn.execute(for_update(conn, select(feeds.c.id).where(feeds.c.id == feed_id)))
    held = await conn.execute(
        select(articles.c.story_id).where(articles.c.feed_id == feed_id).distinct()
    )
    async with recounting(conn, held.scalars(), articles.c.feed_id == feed_id):
        await conn.execute(delete(feeds).where(feeds.c.id == feed_id))


async def note_feed_title(engine: AsyncEngine, feed_id: int, title: str) -> None:
    """Write a feed's title now, if it changed (the poll's outcome writes it again later)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(feeds)
            .where(feeds.c.id == feed_id, or_(feeds.c.title.is_(None), feeds.c.title != title))
            .values(title=title)
        )


async def set_state(conn: AsyncConnection, feed_id: int, state: str, now: datetime) -> None:
    """Enable (state ok, due now, errors cleared) or disable a feed."""
    values: dict[str, Any] = {"state": state}
    if state == "ok":
        values |= {
            "next_poll_at": now,
            "error_count": 0,
            "last_error": None,
            "first_404_at": None,
            "retry_after_until": None,
        }
    await conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))


# Rendered with literals, not parameters, so that the planners can use the partial index
# `ix_feeds_claim` (its predicate is this very text).
ACTIVE = feeds.c.state.in_([literal_column(f"'{state}'") for state in ACTIVE_STATES])


def _due(now: datetime, all_feeds: bool, not_polled_since: datetime | None) -> Any:
    not_throttled = or_(feeds.c.retry_after_until.is_(None), feeds.c.retry_after_until <= now)
    condition = and_(ACTIVE, not_throttled)
    if not all_feeds:
        condition = and_(condition, feeds.c.next_poll_at <= now)
    if not_polled_since is not None:
        polled = or_(feeds.c.last_poll_at.is_(None), feeds.c.last_poll_at < not_polled_since)
        condition = and_(condition, polled)
    return condition


async def claim_due(
    engine: AsyncEngine,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    all_feeds: bool = False,
    not_polled_since: datetime | None = None,
    fetch_articles: bool = True,
    dead_after: timedelta | None = None,
) -> list[Feed]:
    """Lease up to `limit` due feeds to `owner`; rows no other worker holds (SKIP LOCKED on
    PG). With `not_polled_since` (a round's start), only feeds not polled since then: a
    round visits each feed once, whatever the poll did to its next_poll_at. `fetch_articles`
    is the default for feeds that do not say. With `dead_after`, feeds leased to a worker
    whose heartbeat is that old are free too."""
    async with engine.begin() as conn:
        rows = await leases.claim(
            conn,
            feeds,
            eligible=_due(now, all_feeds, not_polled_since),
            order_by=[feeds.c.next_poll_at],
            limit=limit,
            now=now,
            owner=owner,
            lease=lease,
            kind="feed",
            returning=list(feeds.c),
            dead_after=dead_after,
        )
        ordered = sorted(rows, key=lambda row: (row.next_poll_at, row.id))
        return [feed_record(row, fetch_articles) for row in ordered]


async def release(engine: AsyncEngine, feed_ids: Sequence[int], owner: str) -> None:
    """Give leases back (graceful shutdown): the feeds stay due for the next worker."""
    if not feed_ids:
        return
    async with engine.begin() as conn:
        await leases.release(conn, feeds, feeds.c.id.in_(feed_ids), owner=owner)


async def clear_stale_leases(engine: AsyncEngine) -> None:
    """SQLite runs one process: any lease left in the file belongs to a dead process."""
    async with engine.begin() as conn:
        await leases.clear(conn, feeds)


async def record_poll(
    conn: AsyncConnection, feed_id: int, owner: str, outcome: PollOutcome, now: datetime
) -> None:
    """Write a poll's outcome and drop the lease."""
    await record_polls(conn, owner, [(feed_id, outcome, now)])


_INCREMENT = object()  # stands for `error_count + 1` in a poll's values


async def record_polls(
    conn: AsyncConnection, owner: str, polls: Sequence[tuple[int, PollOutcome, datetime]]
) -> None:
    """Write several polls' outcomes (feed id, outcome, when) and drop their leases: one
    executemany UPDATE per shape of outcome, so a batch of 304s is one statement. An
    outcome whose lease `owner` no longer holds (taken over after it expired) is skipped."""
    groups: dict[tuple[tuple[str, bool], ...], list[dict[str, Any]]] = {}
    moved: set[str] = set()  # new URLs taken by this batch's permanent redirects
    # Lock the rows in id order first: the statements below write them grouped by shape,
    # in no global order, and a config sync writes several feeds too.
    await conn.execute(
        select(feeds.c.id)
        .where(feeds.c.id.in_(sorted({feed_id for feed_id, _, _ in polls})))
        .order_by(feeds.c.id)
        .with_for_update(key_share=True)
    )
    for feed_id, outcome, now in polls:
        values = _poll_values(outcome, now)
        if outcome.new_url and outcome.new_url not in moved:
            taken = await conn.scalar(select(feeds.c.id).where(feeds.c.url == outcome.new_url))
            if taken is None:
                values["url"] = outcome.new_url
                moved.add(outcome.new_url)
        # The columns set, and which of them count up: statements of one shape batch.
        shape = tuple(sorted((k, v is _INCREMENT) for k, v in values.items()))
        groups.setdefault(shape, []).append(
            {"b_id": feed_id, "b_owner": owner}
            | {f"b_{k}": v for k, v in values.items() if v is not _INCREMENT}
        )
    for shape, rows in groups.items():
        statement = (
            update(feeds)
            .where(feeds.c.id == bindparam("b_id"), feeds.c.lease_owner == bindparam("b_owner"))
            .values({k: feeds.c[k] + 1 if counts else bindparam(f"b_{k}") for k, counts in shape})
        )
        await conn.execute(statement, rows)


def _poll_values(outcome: PollOutcome, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_until": None,
        "last_poll_at": outcome.polled_at or now,
        "next_poll_at": outcome.next_poll_at,
        "state": outcome.state,
        "retry_after_until": outcome.retry_after_until,
        "first_404_at": outcome.first_404_at,
    }
    if outcome.error is None:
        values |= {
            "error_count": 0,
            "last_error": None,
            "last_success_at": outcome.polled_at or now,
        }
        if not outcome.keep_validators:
            values |= {"etag": outcome.etag, "last_modified": outcome.last_modified}
        if outcome.body_hash is not None:
            values["last_body_hash"] = outcome.body_hash
        if outcome.title:
            values["title"] = outcome.title
        if outcome.new_entries:
            values["last_new_at"] = now
        if outcome.read_entries:
            values["note"] = outcome.note
        values["mean_gap_seconds"] = outcome.mean_gap_seconds
    else:
        values |= {"error_count": _INCREMENT, "last_error": outcome.error, "last_error_at": now}
    return values


async def count_feeds(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.count()).select_from(feeds)) or 0)


class PollRecorder:
    """Writes poll outcomes in batches (group commit): while one batch's transaction runs,
    the polls that finish meanwhile queue, and the next transaction writes them all. A
    round of 304s thus costs a transaction per batch instead of one per feed, and on
    SQLite the polls stop contending for the write lock. `record` returns once its
    outcome is committed, so a poll still ends only after its outcome is stored.
    """

    def __init__(self, engine: AsyncEngine, owner: str) -> None:
        self._engine = engine
        self._owner = owner
        self._queued: list[tuple[int, PollOutcome, datetime, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, feed_id: int, outcome: PollOutcome, now: datetime) -> None:
        """Write one poll's outcome and drop its lease (with whatever else is queued)."""
        done = asyncio.get_running_loop().create_future()
        self._queued.append((feed_id, outcome, now, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="record polls")
        await done

    async def drain(self) -> None:
        """Wait until every queued outcome is written (or failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer])

    async def _write(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                await self._commit(batch)
            except (IntegrityError, DataError):
                # One outcome the database refuses must not fail the others: write each
                # alone and hand every poll its own result.
                for one in batch:
                    try:
                        await self._commit([one])
                    except Exception as e:
                        _settle(one[3], e)
                    else:
                        _settle(one[3], None)
            except Exception as e:  # the database is unreachable: every poll fails alike
                for one in batch:
                    _settle(one[3], e)
            else:
                for one in batch:
                    _settle(one[3], None)

    async def _commit(self, batch: Sequence[tuple[int, PollOutcome, datetime, Any]]) -> None:
        async with self._engine.begin() as conn:
            await record_polls(conn, self._owner, [(f, o, n) for f, o, n, _ in batch])


def _settle(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():  # the poll was cancelled meanwhile
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
