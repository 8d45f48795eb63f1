"""Generated articles for the storage and story scenarios, and the raw-driver insert of the
rows `store_article` would write for them (the storage baseline, and a fast way to fill a
story window with 100,000 articles).

Text is drawn word by word from the corpus's own word frequencies, so common words and
the 4-grams they form recur across articles as they do in news, and the LSH index sees
realistic accidental band collisions.
"""

from __future__ import annotations

import functools
import random
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from itertools import accumulate
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench import corpus
from monitor.models import Article
from monitor.pipeline import dedupe

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


@functools.cache
def _frequencies() -> tuple[tuple[str, ...], tuple[int, ...]]:
    counts = Counter(w.lower() for p in corpus.pages() for w in re.findall(r"[^\W\d_]+", p.truth))
    words = tuple(sorted(counts))
    return words, tuple(accumulate(counts[w] for w in words))


def text(seed: str, words: int) -> str:
    """`words` words in sentences, drawn with the corpus's word frequencies."""
    rng = random.Random(seed)
    vocabulary, cumulative = _frequencies()
    drawn = rng.choices(vocabulary, cum_weights=cumulative, k=words)
    sentences, start = [], 0
    while start < len(drawn):
        size = rng.randint(8, 24)
        chunk = drawn[start : start + size]
        sentences.append(" ".join(chunk).capitalize() + ".")
        start += size
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n".join(paragraphs)


def near_copy(original: str, seed: str) -> str:
    """A syndicated copy: one sentence rewritten, an outlet's line added at the end."""
    rng = random.Random(seed)
    sentences = original.split(". ")
    sentences[rng.randrange(len(sentences))] = text(seed + " edit", 15).rstrip(".")
    return ". ".join(sentences) + "\nFollow our outlet for more regional news and analysis."


def article(number: int, body: str, feed_id: int, now: datetime) -> Article:
    """An Article as the pipeline builds it (dedupe keys included) for a generated body."""
    print_ = dedupe.fingerprint(body)
    url = f"http://127.0.0.1/synthetic/{number}"
    return Article(
        feed_id=feed_id,
        guid=f"synthetic-{number}",
        url=url,
        canonical_url=url,
        title=f"Synthetic article {number}",
        author="",
        published_at=now,
        fetched_at=now,
        summary="",
        text=body,
        language="en",
        content_hash=dedupe.content_hash(body),
        signature=dedupe.pack_fingerprint(print_),
        bands=print_.bands,
    )


def _one(args: tuple[int, int, int, datetime, int]) -> Article:
    number, words, feed_id, now, seed = args
    return article(number, text(f"{seed} {number}", words), feed_id, now)


def articles(
    count: int,
    *,
    words: int,
    feed_id: int,
    now: datetime,
    seed: int = 0,
    workers: int = 1,
    start: int = 0,
) -> list[Article]:
    """`count` generated articles (numbered from `start`), built in `workers` processes."""
    jobs = [(start + i, words, feed_id, now, seed) for i in range(count)]
    if workers <= 1 or count < 2000:
        return [_one(job) for job in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_one, jobs, chunksize=500))


# --- the rows store_article writes, inserted with the raw drivers --------------------------


def _rows(items: Sequence[Article], first_id: int) -> dict[str, list[tuple[Any, ...]]]:
    stories, arts, entries, bands = [], [], [], []
    for offset, a in enumerate(items):
        key = first_id + offset
        stories.append((key, a.title, a.fetched_at, a.fetched_at, 1, key))
        arts.append(
            (
                key,
                a.feed_id,
                a.guid,
                a.url,
                a.canonical_url,
                a.title,
                a.author,
                a.published_at,
                a.fetched_at,
                a.summary,
                a.text,
                a.language,
                a.content_hash,
                key,
                a.signature,
            )
        )
        entries.append((a.feed_id, a.guid, key, a.fetched_at))
        bands += [(band, key, key, a.fetched_at) for band in a.bands]
    return {"stories": stories, "articles": arts, "entries": entries, "story_bands": bands}


_COLUMNS = {
    "stories": "id, title, first_seen, last_seen, article_count, representative_article_id",
    "articles": "id, feed_id, guid, url, canonical_url, title, author, published_at, fetched_at, "
    "summary, text, language, content_hash, story_id, signature",
    "entries": "feed_id, guid, article_id, seen_at",
    "story_bands": "band_key, article_id, story_id, created_at",
}


def _sqlite_value(value: Any) -> Any:
    return value.strftime(_SQLITE_TIME) if isinstance(value, datetime) else value


def insert_sqlite(path: str, items: Sequence[Article], first_id: int = 1) -> None:
    """One transaction, one executemany per table, with the service's pragmas."""
    rows = _rows(items, first_id)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN")
        for table, values in rows.items():
            columns = _COLUMNS[table]
            marks = ", ".join("?" * len(columns.split(",")))
            converted: Iterable[tuple[Any, ...]] = (
                tuple(map(_sqlite_value, row)) for row in values
            )
            conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", converted)
        conn.execute("COMMIT")
    finally:
        conn.close()


async def insert_postgres(
    dsn: str, items: Sequence[Article], first_id: int = 1, *, copy: bool = False
) -> None:
    """One transaction, one executemany per table, with asyncpg (`copy`: COPY instead, to
    fill a large story window quickly)."""
    rows = _rows(items, first_id)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for table, values in rows.items():
                columns = _COLUMNS[table]
                if copy:
                    names = [c.strip() for c in columns.split(",")]
                    await conn.copy_records_to_table(table, records=values, columns=names)
                    continue
                marks = ", ".join(f"${i + 1}" for i in range(len(columns.split(","))))
                await conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
            for table in ("stories", "articles"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
    finally:
        await conn.close()


def dsn(url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy postgresql+asyncpg URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def sqlite_file(url: str) -> str:
    return url.removeprefix("sqlite+aiosqlite:///")
