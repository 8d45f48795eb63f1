"""Stories: near-duplicate clusters of articles (one event, many outlets)."""

from __future__ import annotations

from datetime import datetime

from monitor.errors import NotFound
from monitor.services.articles import article_summary, check_limit
from monitor.services.context import Context
from monitor.services.records import StoryDetail, StorySummary
from monitor.storage import queries


class Stories:
    """Stories and every copy of each."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def list(
        self, *, since: datetime | None = None, limit: int = 100
    ) -> tuple[StorySummary, ...]:
        """Stories newest first (by last seen), with article and outlet counts."""
        check_limit(limit)
        async with self.ctx.read() as conn:
            rows = await queries.list_stories(conn, since=since, limit=limit)
        return tuple(
            StorySummary(r.id, r.title, r.first_seen, r.last_seen, r.article_count, int(r.outlets))
            for r in rows
        )

    async def get(self, story_id: int) -> StoryDetail:
        """One story with every copy, oldest first; NotFound when there is none."""
        async with self.ctx.read() as conn:
            row = await queries.get_story(conn, story_id)
            if row is None:
                raise NotFound(f"no story {story_id}")
            members = await queries.story_articles(conn, story_id)
        items = tuple(article_summary(m) for m in members)
        outlets = len({a.feed.url for a in items})  # distinct feeds, as `list` counts them
        names = tuple(sorted({a.feed.name or a.feed.url for a in items}))
        return StoryDetail(
            row.id,
            row.title,
            row.first_seen,
            row.last_seen,
            row.article_count,
            outlets,
            names,
            items,
        )
