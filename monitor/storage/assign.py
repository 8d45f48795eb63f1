"""Story assignment for a batch of new articles: each joins the story of its most similar
candidate in the story window or opens a new one, in order, as if stored one by one.

The candidates of an article are the stored articles sharing the most LSH band keys with it
(`story_bands`, one row per band and story), read for the whole batch in one query, plus the
articles of the batch assigned before it; the picker (`pipeline.dedupe.pick_story`, passed in)
compares signatures. The batch's new stories carry placeholder ids until they are inserted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.models import Article, WatchlistMatch
from monitor.storage.dialect import CHUNK, greatest, in_chunks
from monitor.storage.stories import lock_stories
from monitor.storage.tables import articles, stories, story_bands

# (candidates [(story id, packed signature)], the article) -> story id or None
StoryPicker = Callable[[Sequence[tuple[int, bytes]], Article], int | None]

MAX_CANDIDATES = 32  # articles compared per new article: the ones sharing the most band keys
# Stories opened in the batch carry placeholder ids above any real one until they are
# inserted (in order, so "lowest id on ties" picks the same story the database would).
_NEW_STORY = 2**62
_BATCH_ARTICLE = 2**62  # the same for the batch's articles in the candidate ranking


@dataclass(slots=True)
class Pending:
    """An article of the batch that is not a duplicate, as it goes through the write path."""

    index: int  # its place in the batch
    article: Article
    found: Sequence[WatchlistMatch]
    story: int = 0  # a story id, or a placeholder (>= _NEW_STORY) until the story is inserted
    new_story: bool = False  # it opened its story
    bands: list[str] = field(default_factory=list)  # the band keys its story did not index yet
    article_id: int = 0
    alerts: tuple[tuple[str, str], ...] = ()  # (watchlist, alert id) created
    # A word-for-word copy of a text another feed holds joins that text's story, whatever
    # the story window and the candidate ranking: the stored story's id, or the batch's
    # earlier article with the text.
    copy_of: int | Pending | None = None

    def copied_story(self) -> int | None:
        """The story this copy must join (a placeholder for a story the batch opens)."""
        return self.copy_of.story if isinstance(self.copy_of, Pending) else self.copy_of


class _StoryIndex:
    """The candidate index story assignment reads: the stored band-key rows in the window,
    the signatures of the best-ranked stored articles, the (story, band) pairs the candidate
    stories index, and what each article of the batch adds to them once it is assigned."""

    def __init__(self) -> None:
        self.by_band: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
        self.signatures: dict[int, tuple[int, bytes]] = {}  # article (or batch key) -> story, sig
        self.indexed: set[tuple[int, str]] = set()  # (story, band)
        self.opened = 0

    def ranked(self, article: Article, since: datetime) -> list[int]:
        """The articles sharing the most band keys with `article` in the window, best first
        (the newest on ties), at most MAX_CANDIDATES."""
        shared: Counter[int] = Counter()
        for band in dict.fromkeys(article.bands):
            shared.update(key for key, created in self.by_band.get(band, ()) if created >= since)
        best = sorted(shared.items(), key=lambda kv: (-kv[1], -kv[0]))
        return [key for key, _ in best[:MAX_CANDIDATES]]

    def candidates(self, article: Article, since: datetime) -> list[tuple[int, bytes]]:
        ranked = self.ranked(article, since)
        return [self.signatures[key] for key in ranked if key in self.signatures]

    def add(self, p: Pending) -> None:
        """Index the assigned article's band keys its story lacks, as storing it would."""
        key = _BATCH_ARTICLE + p.index
        if p.article.signature:
            self.signatures[key] = (p.story, p.article.signature)
        p.bands = [b for b in dict.fromkeys(p.article.bands) if (p.story, b) not in self.indexed]
        for band in p.bands:
            self.by_band[band].append((key, p.article.fetched_at))
            self.indexed.add((p.story, band))


async def assign_stories(
    conn: AsyncConnection, pending: Sequence[Pending], pick: StoryPicker, window: timedelta
) -> None:
    """Give each article its story, in order: the story of its text's first copy, else the
    story of the most similar candidate, else a new one; insert the new stories, count the articles into the joined ones, and lock them."""
    index = await _load_index(conn, pending, window)
    for p in pending:
        story = p.copied_story()
        if story is None:
            options = index.candidates(p.article, p.article.fetched_at - window)
            story = pick(options, p.article) if options else None
        if story is None:
            story, p.new_story = _NEW_STORY + index.opened, True
            index.opened += 1
        p.story = story
        index.add(p)
    joining = [p for p in pending if p.story < _NEW_STORY]
    await lock_stories(conn, [p.story for p in joining])
    await _open_stories(conn, pending)
    await _count_into_stories(conn, joining)


async def _load_index(
    conn: AsyncConnection, pending: Sequence[Pending], window: timedelta
) -> _StoryIndex:
    index = _StoryIndex()
    bands = sorted({b for p in pending for b in p.article.bands})
    if not bands:
        return index
    since = min(p.article.fetched_at for p in pending) - window
    for chunk in in_chunks(bands, CHUNK):
        rows = await conn.execute(
            select(
                story_bands.c.band_key, story_bands.c.article_id, story_bands.c.created_at
            ).where(story_bands.c.band_key.in_(chunk), story_bands.c.created_at >= since)
        )
        for row in rows:
            index.by_band[row.band_key].append((row.article_id, row.created_at))
    # Only the stored articles ranked among the best for some article of the batch can be
    # its candidates: the batch's own articles only push stored ones down the ranking.
    wanted = sorted(
        {key for p in pending for key in index.ranked(p.article, p.article.fetched_at - window)}
    )
    for ids in in_chunks(wanted, CHUNK):
        rows = await conn.execute(
            select(articles.c.id, articles.c.story_id, articles.c.signature).where(
                articles.c.id.in_(ids), articles.c.signature.is_not(None)
            )
        )
        index.signatures.update((row.id, (row.story_id, row.signature)) for row in rows)
    copied = {p.copy_of for p in pending if isinstance(p.copy_of, int)}
    await _load_indexed(conn, index, bands, copied)
    return index


async def _load_indexed(
    conn: AsyncConnection, index: _StoryIndex, bands: Sequence[str], copied: set[int]
) -> None:
    """The (story, band) pairs the candidate stories and the stories copies join already
    index, at any age: an article joining a story adds only the band keys its story lacks."""
    stories_ = sorted({story for story, _ in index.signatures.values()} | copied)
    for chunk in in_chunks(stories_, CHUNK):
        for band_chunk in in_chunks(bands, CHUNK):
            rows = await conn.execute(
                select(story_bands.c.story_id, story_bands.c.band_key).where(
                    story_bands.c.story_id.in_(chunk), story_bands.c.band_key.in_(band_chunk)
                )
            )
            index.indexed.update((row.story_id, row.band_key) for row in rows)


async def _open_stories(conn: AsyncConnection, pending: Sequence[Pending]) -> None:
    """Insert the stories the batch opened (with the batch's articles counted in) and give
    their articles the real ids."""
    members: dict[int, list[Pending]] = defaultdict(list)
    for p in pending:
        if p.story >= _NEW_STORY:
            members[p.story].append(p)
    if not members:
        return
    placeholders = sorted(members)
    rows = [
        {
            "title": members[s][0].article.title,
            "first_seen": members[s][0].article.fetched_at,
            "last_seen": max(p.article.fetched_at for p in members[s]),
            "article_count": len(members[s]),
        }
        for s in placeholders
    ]
    created = await conn.execute(
        stories.insert().returning(stories.c.id, sort_by_parameter_order=True), rows
    )
    for placeholder, story_id in zip(placeholders, created.scalars(), strict=True):
        for p in members[placeholder]:
            p.story = story_id


async def _count_into_stories(conn: AsyncConnection, joining: Sequence[Pending]) -> None:
    """Add the batch's articles to the existing stories they joined (in story order)."""
    counts: dict[int, list[datetime]] = defaultdict(list)
    for p in joining:
        counts[p.story].append(p.article.fetched_at)
    if not counts:
        return
    seen = bindparam("seen", type_=stories.c.last_seen.type)
    await conn.execute(
        update(stories)
        .where(stories.c.id == bindparam("story"))
        .values(
            article_count=stories.c.article_count + bindparam("added"),
            last_seen=greatest(conn, stories.c.last_seen, seen),
        ),
        [
            {"story": story, "added": len(times), "seen": max(times)}
            for story, times in sorted(counts.items())
        ],
    )
