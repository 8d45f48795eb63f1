"""Feeds: list with health, add by URL (a site URL is resolved to its feed), enable, disable,
remove (a feed the config lists is edited in the config instead), OPML import and export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.errors import Conflict, FetchError, InvalidRequest, NotFound, ParseError
from monitor.pipeline.discover import discover_feed
from monitor.pipeline.opml import Outline, read_opml, write_opml
from monitor.services.context import Context
from monitor.services.records import FeedAdded, FeedChanged, FeedStatus, OpmlImport
from monitor.silence import FeedActivity, SilencePolicy, is_silent
from monitor.storage import feeds as store
from monitor.storage.queries import feed_rows


def _interval(row: Any) -> float | None:
    if row.last_poll_at is None or row.next_poll_at is None:
        return float(row.interval_seconds) if row.interval_seconds else None
    return max(0.0, float((row.next_poll_at - row.last_poll_at).total_seconds()))


def feed_status(row: Any, silent: bool) -> FeedStatus:
    """A feed row (with its `articles` count) as a record."""
    return FeedStatus(
        id=row.id,
        url=row.url,
        config_url=row.config_url,
        name=row.name or row.title,
        tags=tuple(row.tags or ()),
        state=row.state,
        last_error=row.last_error,
        error_count=int(row.error_count),
        last_poll_at=row.last_poll_at,
        last_success_at=row.last_success_at,
        last_new_at=row.last_new_at,
        next_poll_at=row.next_poll_at,
        interval_seconds=_interval(row),
        articles=int(row.articles),
        silent=silent,
        note=row.note,
        origin=row.origin,
    )


def _tags(tags: Sequence[str]) -> list[str]:
    return [t.strip() for t in tags if t.strip()]


class Feeds:
    """The feeds polled, from the config and added by users."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def list(self) -> tuple[FeedStatus, ...]:
        """Every feed by id with its health, schedule, article count and silence."""
        policy = SilencePolicy.from_polling(self.ctx.settings.polling)
        now = self.ctx.clock.now()
        async with self.ctx.read() as conn:
            rows = await feed_rows(conn)
        return tuple(feed_status(r, is_silent(policy, FeedActivity.of(r), now)) for r in rows)

    async def add(
        self,
        url: str,
        *,
        name: str = "",
        tags: Sequence[str] = (),
        discover: bool = True,
        origin: str = "cli",
    ) -> FeedAdded:
        """Add a feed (`origin`: the face adding it, cli, api or console); with `discover` a
        site URL is fetched and resolved to its feed (ParseError when it has none).
        Conflict when the feed exists already."""
        if not url.startswith(("http://", "https://")):
            raise InvalidRequest(f"{url}: not an http:// or https:// URL")
        feed_url = url
        if discover:
            try:
                async with self.ctx.fetcher() as fetcher:
                    feed_url = await discover_feed(fetcher, url, now=self.ctx.clock.now())
            except FetchError as e:
                raise e.naming(url) from e
        now = self.ctx.clock.now()
        async with self.ctx.write() as conn:
            added = await store.add_feed(
                conn, feed_url, name=name, tags=_tags(tags), now=now, origin=origin
            )
            if added is None:
                raise Conflict(f"{feed_url} is already a feed")
            (row,) = await feed_rows(conn, added)
        policy = SilencePolicy.from_polling(self.ctx.settings.polling)
        return FeedAdded(feed_status(row, is_silent(policy, FeedActivity.of(row), now)), url)

    async def enable(self, feed: str) -> FeedChanged:
        """Poll a feed again (a retired one too), from the next tick, its errors cleared."""
        return await self._set_state(feed, "ok")

    async def disable(self, feed: str) -> FeedChanged:
        """Stop polling a feed; its articles are kept."""
        return await self._set_state(feed, "disabled")

    async def _set_state(self, feed: str, state: str) -> FeedChanged:
        async with self.ctx.write() as conn:
            row = await self._find(conn, feed)
            await store.set_state(conn, row.id, state, self.ctx.clock.now())
        return FeedChanged(row.id, row.url, state)

    async def remove(self, feed: str) -> FeedChanged:
        """Delete a feed and its articles; Conflict for a feed the config in use lists (edit
        the config, or disable it). A feed that has left the config goes like a user-added
        one: the next start would only have disabled it."""
        listed = {item.url for item in self.ctx.settings.feeds}
        async with self.ctx.write() as conn:
            row = await self._find(conn, feed)
            if row.config_url in listed:
                raise Conflict(
                    f"{row.config_url} comes from {self.ctx.settings.source}: remove it there "
                    "(or `monitor feeds disable`)"
                )
            await store.remove_feed(conn, row.id)
        return FeedChanged(row.id, row.url, "removed")

    @staticmethod
    async def _find(conn: Any, feed: str) -> Any:
        row = await store.find_feed(conn, feed)
        if row is None:
            raise NotFound(f"no feed {feed!r} (see `monitor feeds list`)")
        return row

    async def import_opml(self, body: bytes, *, source: str = "OPML") -> OpmlImport:
        """Add every http(s) feed of an OPML document (categories become tags); feeds that
        exist already are skipped. InvalidRequest when it is not OPML."""
        try:
            outlines, listed = read_opml(body, source=source)
        except ParseError as e:
            raise InvalidRequest(str(e)) from None
        added = 0
        async with self.ctx.write() as conn:
            for item in outlines:
                stored = await store.add_feed(
                    conn,
                    item.url,
                    name=item.title,
                    tags=item.tags,
                    now=self.ctx.clock.now(),
                    origin="opml",
                )
                added += stored is not None
        return OpmlImport(added, listed)

    async def export_opml(self) -> str:
        """Every feed as an OPML 2.0 document."""
        async with self.ctx.read() as conn:
            rows = await feed_rows(conn)
        return write_opml([Outline(r.url, r.name or r.title, tuple(r.tags or ())) for r in rows])
