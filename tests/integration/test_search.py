"""`articles search` on both backends: the full-text index preselects, the matcher confirms,
and preselection never loses an article the matcher would find."""

from __future__ import annotations

import asyncio
import importlib.util
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.config import FeedConfig
from monitor.errors import InvalidRequest
from monitor.pipeline.normalize import normalize_text
from monitor.pipeline.preselect import preselection
from monitor.pipeline.query import parse_query
from monitor.services.records import SearchResult
from monitor.services.shapes import to_json
from monitor.storage.engine import create_engine, upgrade
from monitor.storage.search import fts5_query
from monitor.storage.tables import articles
from tests.support.databases import BACKENDS, PG_URL
from tests.support.stored_articles import NOW, SEED_BODY, SEED_TITLE, add_feeds, article, store
from tests.support.usecases import use_cases

MIGRATION = (
    Path(__file__).parents[2] / "monitor" / "migrations" / "versions" / "0002_article_search.py"
)
FLOODS = (
    "Pakistani officials said on Tuesday that floods in Sindh province had displaced thousands "
    "of families, and relief agencies appealed for tents, clean water and medicine."
)
# letter → (title, text, hours old, language); Persian and Urdu spelled with Arabic letters,
# tatweel and harakat, Russian with ё, English with a soft hyphen and fullwidth letters.
ARTICLES = {
    "seed": (SEED_TITLE, SEED_BODY, 1, "en"),
    "fa": (
        "حمله در كابل",
        "گروه داعـــش خراسان مسئوليت حملهٔ انتحاری در كابل را به عهده گرفت. دَاعِش پیشتر هم حمله کرده بود.",
        2,
        "fa",
    ),
    "ru": (
        "Взрыв в Кабуле",
        "ИГИЛ-Хорасан взял на себя ответственность; ещё трое погибли.",
        3,
        "ru",
    ),
    "floods": ("Floods in Sindh", FLOODS, 4, "en"),
    "crisis": (
        "Economic crisis",
        "The economic crisis deepened; ISKCON temples and a kiosk.",
        5,
        "en",
    ),
    "hyphen": (
        "Attacks near Kandahar",
        "Two attacks were blamed on the Tali\u00adban’s commanders. ＩＳＩＳ fighters were seen.",
        6,
        "en",
    ),
    "ur": ("خراسان", "داعش خراسان گروپ نے ذمہ داری قبول کی۔", 7, "ur"),
    "slash": (
        "Links",
        "Officials posted at kabul.com/news that ISIS/Daesh claims were false.",
        8,
        "en",
    ),
    "old": ("Kabul airport reopened", "Flights to Kabul resumed on Monday.", 24 * 40, "en"),
    "spellings": (
        "#ISISK والقاعدة",
        "Представители Талибана заявили, что Исламского государства здесь нет.",
        9,
        "ru",
    ),
}
# query → articles it matches, newest first
EXPECTED = {
    "ISIS-K": ["seed", "spellings"],  # #ISISK joined (matching rule 1)
    "القاعدة": ["spellings"],  # with a proclitic (rule 5)
    "Талибан": ["spellings"],  # inflected (rule 6)
    '"Исламское государство"': ["spellings"],
    "Kandahar NEAR/2 Kabul": ["seed"],
    "Kabul": ["seed", "slash", "old"],  # kabul.com is no URL token to the index
    "Daesh": ["slash"],
    "کابل": ["fa"],
    '"داعش خراسان"': ["fa", "ur"],
    "ещё": ["ru"],
    "Кабуле": ["ru"],
    "attack": ["seed", "hyphen"],
    "Taliban": ["seed", "hyphen"],
    "crisis": ["crisis"],
    "floods AND NOT Kabul": ["floods"],
    "(Taliban OR Kabul) AND NOT ISIS": ["old"],
    "NOT Kabul": ["fa", "ru", "floods", "crisis", "hyphen", "ur", "spellings"],
    "ISIS NEAR/0 Daesh": ["slash"],
    '"economic crisis" OR "relief agencies"': ["floods", "crisis"],
}


async def _store_all(engine: AsyncEngine) -> dict[int, str]:
    """The articles above, stored; article id → name."""
    feed_ids = await add_feeds(engine, FeedConfig(url="http://news.test/rss", name="News"))
    (feed_id,) = feed_ids.values()
    names = {}
    for name, (title, body, hours, language) in ARTICLES.items():
        item = article(feed_id, name, title, body, age=timedelta(hours=hours), language=language)
        article_id, _ = await store(engine, item)
        names[article_id] = name
    return names


async def _prepare(url: str) -> dict[int, str]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        return await _store_all(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[int, str]]]:
    """One database per backend holding the articles, shared by the tests that only read."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('search') / 'monitor.db'}"
        yield url, asyncio.run(_prepare(url))
        return
    name = f"monitor_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        yield url, asyncio.run(_prepare(url))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
    admin = create_async_engine(
        PG_URL.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


@pytest.fixture
async def reader(shared: tuple[str, dict[int, str]]) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(shared[0])
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def stored(shared: tuple[str, dict[int, str]]) -> dict[int, str]:
    return shared[1]


@pytest.fixture
async def fresh(engine: AsyncEngine) -> dict[int, str]:
    """The articles stored in this test's own database (for tests that change them)."""
    return await _store_all(engine)


async def _search(engine: AsyncEngine, query: str, **options: Any) -> SearchResult:
    return await use_cases(engine, NOW)[0].articles.search(query, **options)


def _names(result: SearchResult, stored: dict[int, str]) -> list[str]:
    return [stored[a.article.id] for a in result.articles]


async def test_search_finds_what_the_matcher_confirms_newest_first(
    reader: AsyncEngine, stored: dict[int, str]
) -> None:
    for query, expected in EXPECTED.items():
        result = await _search(reader, query)
        assert _names(result, stored) == expected, query
        assert result.method == ("scan" if query == "NOT Kabul" else "fts"), query
        scanned = await _search(reader, query, scan=True)
        assert _names(scanned, stored) == expected, query  # preselection lost nothing
        assert scanned.method == "scan"
        if result.method == "fts":  # the index spared the matcher most articles
            assert result.candidates <= len(ARTICLES) // 2, (query, result.candidates)


async def test_fullwidth_letters_need_nfkc_which_only_postgresql_indexes(
    reader: AsyncEngine, stored: dict[int, str]
) -> None:
    expected = ["seed", "hyphen", "slash"]  # ＩＳＩＳ in "hyphen" is ISIS after NFKC
    assert _names(await _search(reader, "ISIS", scan=True), stored) == expected
    indexed = _names(await _search(reader, "ISIS"), stored)
    if reader.dialect.name == "postgresql":
        assert indexed == expected
    else:
        assert indexed == ["seed", "slash"]  # documented: SQLite has no NFKC; --scan finds it


async def test_results_carry_the_article_list_fields_and_a_snippet(
    reader: AsyncEngine, stored: dict[int, str]
) -> None:
    (hit,) = (await _search(reader, '"ISIS-Khorasan" NEAR/3 expansion')).articles
    found = to_json(hit)
    listed = to_json(await use_cases(reader, NOW)[0].articles.list(limit=100))
    same = next(a for a in listed if a["id"] == found["id"])
    assert found == same | {"snippet": found["snippet"]}
    assert set(found) == set(same) | {"snippet"}
    assert "expansion of ISIS-Khorasan" in found["snippet"]
    assert found["feed"] == {"url": "http://news.test/rss", "name": "News"}


async def test_limit_and_since(reader: AsyncEngine, stored: dict[int, str]) -> None:
    assert _names(await _search(reader, "Kabul", limit=1), stored) == ["seed"]
    since = NOW - timedelta(days=30)
    assert _names(await _search(reader, "Kabul", since=since), stored) == ["seed", "slash"]


async def test_a_query_with_only_not_gets_opening_words_as_snippet(
    reader: AsyncEngine, stored: dict[int, str]
) -> None:
    result = await _search(reader, "NOT Kabul AND NOT ISIS", limit=100)
    floods = next(a for a in result.articles if stored[a.article.id] == "floods")
    assert floods.snippet == FLOODS  # under 30 words: all of them, no ellipsis
    seed = await _search(reader, "NOT Herat", limit=1)
    assert seed.articles[0].snippet.startswith("Monday, 6 May 2024 kkkk Taliban")
    assert seed.articles[0].snippet.endswith("…")


async def test_syntax_error_names_the_column(reader: AsyncEngine) -> None:
    with pytest.raises(InvalidRequest, match="at column 21"):
        await _search(reader, "Kabul AND (attack OR")


async def test_index_follows_updates_retention_and_deletes(
    engine: AsyncEngine, fresh: dict[int, str]
) -> None:
    stored = fresh
    ids = {name: article_id for article_id, name in stored.items()}
    found = await _search(engine, "relief")
    assert (_names(found, stored), found.candidates) == (["floods"], 1)
    async with engine.begin() as conn:  # retention prunes the text
        await conn.execute(update(articles).where(articles.c.id == ids["floods"]).values(text=None))
    assert (await _search(engine, "relief")).candidates == 0
    assert _names(await _search(engine, "Sindh"), stored) == ["floods"]  # still in the title
    async with engine.begin() as conn:
        await conn.execute(
            update(articles).where(articles.c.id == ids["floods"]).values(title="Monsoon rains")
        )
        await conn.execute(delete(articles).where(articles.c.id == ids["crisis"]))
    assert (await _search(engine, "Sindh")).candidates == 0
    assert _names(await _search(engine, "monsoon"), stored) == ["floods"]
    assert (await _search(engine, "ISKCON OR kiosk")).candidates == 0


async def test_postgresql_uses_the_expression_index(reader: AsyncEngine) -> None:
    if reader.dialect.name != "postgresql":
        pytest.skip("SQLite queries its FTS5 table")
    async with reader.connect() as conn:
        await conn.execute(text("SET enable_seqscan = off"))
        plan = await conn.execute(
            text(
                "EXPLAIN SELECT id FROM articles WHERE (monitor_search_document(articles.title, "
                "articles.text) @@ to_tsquery('simple', 'kabul:*') OR "
                "monitor_search_truncated(articles.title, articles.text))"
            )
        )
        lines = "\n".join(row[0] for row in plan)
    assert "ix_articles_search " in lines + " "
    assert "ix_articles_search_long" in lines


async def test_articles_too_long_for_a_tsvector_are_always_candidates(
    engine: AsyncEngine,
) -> None:
    (feed_id,) = (await add_feeds(engine, FeedConfig(url="http://long.test/rss"))).values()
    filler = " ".join(f"w{i}" for i in range(60_000))  # > 250,000 characters
    article_id, _ = await store(engine, article(feed_id, "long", "Report", filler + " Herat"))
    result = await _search(engine, "Herat")
    assert [a.article.id for a in result.articles] == [article_id]


def test_preselection_takes_positive_terms_only_when_the_query_needs_one() -> None:
    assert preselection(parse_query('"ISIS-K" NEAR/5 Kabul')) == [
        ("isis", "k"),
        ("isisk",),
        ("kabul",),
    ]
    assert preselection(parse_query("Taliban’s AND NOT Herat")) == [("talibans",), ("taliban", "s")]
    assert preselection(parse_query('"Исламское государство"')) == [
        ("исламское", "государство"),
        ("исламск",),
    ]
    assert ("للقاعده",) in (preselection(parse_query("القاعدة")) or [])
    assert preselection(parse_query("NOT Herat")) is None
    assert preselection(parse_query("Kabul OR NOT Herat")) is None
    assert fts5_query([("isis", "k"), ("kabul",)]) == '"isis k" * OR "kabul" *'


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0002", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _letters_normalize_changes() -> Iterator[str]:
    """Arabic-script, Cyrillic and format characters the matcher folds or drops inside a word
    (NFKC compatibility forms aside: SQLite has no NFKC, PostgreSQL applies it)."""
    ranges = [range(0x0600, 0x0700), range(0x0750, 0x0780), range(0x08A0, 0x0900)]
    ranges += [
        range(0x0400, 0x0500),
        range(0x2000, 0x2070),
        range(0xFEFF, 0xFF00),
        range(0xAD, 0xAE),
    ]
    for block in ranges:
        for cp in block:
            char = chr(cp)
            if unicodedata.decomposition(char).startswith("<") or cp in (0x200B, 0x200C):
                continue
            if unicodedata.category(char)[0] in "PSZ":
                continue  # separators for every tokenizer
            seen = normalize_text("ب" + char + "ب")
            if seen not in ("ب" + char.casefold() + "ب", "ب" + char.lower() + "ب"):
                yield char


def test_migration_folds_are_the_matchers_folds() -> None:
    migration = _migration()
    folds = dict(migration.general_folds() + migration.arabic_folds())
    for char, replacement in folds.items():
        assert normalize_text("ب" + char + "ب") == "ب" + replacement.casefold() + "ب", hex(
            ord(char)
        )
    missing = [hex(ord(c)) for c in _letters_normalize_changes() if c not in folds]
    assert missing == []
