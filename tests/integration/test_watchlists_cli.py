"""`monitor watchlists list/test/backfill` and `monitor articles search` through the typer app,
against a config file pointing at the test database (both backends)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import FeedConfig
from monitor.storage.engine import create_engine
from tests.support.feedserver import FeedServer
from tests.support.stored_articles import SEED, SEED_BODY, SEED_TITLE, add_feeds, article, store

SEED_FILE = Path(__file__).parents[1] / "fixtures" / "seed-article.txt"
CONFIG = """
[database]
url = "{url}"

[polling]
allow_networks = ["127.0.0.0/8"]
timeout = "10s"

[[watchlists]]
name = "isis-k"
severity = "high"
channels = ["desk-log"]
terms = ["suicide bombing"]
exclude = ["video game"]

[[watchlists.actors]]
name = "ISIS-Khorasan"
aliases = ["ISIS-K", "ISKP", "داعش خراسان"]

[[watchlists]]
name = "kabul-pk"
tags = ["pk"]
terms = ["Kabul"]

[[watchlists]]
name = "kabul-fa"
languages = ["fa"]
terms = ["کابل"]

[[watchlists]]
name = "muttaqi-near"
query = "Muttaqi NEAR/3 (countries OR neighbours OR neighbors) AND NOT \\"video game\\""

[channels.desk-log]
type = "log"
"""
PERSIAN = (
    "انفجار در کابل: مقام‌های محلی می‌گویند دست کم سه نفر در این حادثه کشته شدند و "
    "گروه داعش خراسان مسئولیت آن را بر عهده گرفته است."
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI points logging at CliRunner's streams, which close after each command."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def _config(folder: Path, url: str) -> Path:
    path = folder / "monitor.toml"
    path.write_text(CONFIG.format(url=url), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    """A config on the parametrized test database."""
    return _config(tmp_path, database_url)


@pytest.fixture
def offline(tmp_path: Path) -> Path:
    """A config for the commands that never open the database (`list`, `test`)."""
    return _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'never-created.db'}")


def _monitor(config: Path, *args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, ["--config", str(config), *args], input=stdin)


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_shows_each_watchlist_with_its_term_count(offline: Path) -> None:
    rows = _json(_monitor(offline, "watchlists", "list", "--json"))
    assert [(r["name"], r["terms"]) for r in rows] == [
        ("isis-k", 5),  # a term, the actor's name and three aliases
        ("kabul-pk", 1),
        ("kabul-fa", 1),
        ("muttaqi-near", 0),
    ]
    assert rows[0]["severity"] == "high"
    assert rows[0]["channels"] == ["desk-log"]
    assert rows[1]["tags"] == ["pk"]
    assert rows[2]["languages"] == ["fa"]
    assert rows[3]["query"].startswith("Muttaqi NEAR/3")
    table = _monitor(offline, "watchlists", "list")
    assert table.exit_code == 0
    assert "tags: pk" in table.stdout
    assert "languages: fa" in table.stdout
    assert "Muttaqi NEAR/3" in table.stdout


def test_test_prints_the_json_shape_for_a_file(offline: Path) -> None:
    found = _json(_monitor(offline, "watchlists", "test", "--json", str(SEED_FILE)))
    assert [f["watchlist"] for f in found] == ["isis-k", "muttaqi-near"]
    for element in found:
        assert set(element) == {"watchlist", "matches", "snippets", "hits"}
        assert all(set(m) == {"term", "actor", "count"} for m in element["matches"])
        assert all(set(h) == {"term", "actor", "start", "end", "rule"} for h in element["hits"])
    assert found[0]["matches"] == [
        {"term": "ISIS-K", "actor": "ISIS-Khorasan", "count": 5},
        {"term": "ISIS-Khorasan", "actor": "ISIS-Khorasan", "count": 4},
    ]
    assert "ISIS-K’s Expansion" in found[0]["snippets"][0]


def test_test_json_says_which_rule_produced_each_hit(offline: Path) -> None:
    text = "ISKP and #ISISK, then Isis K. Thompson; IS K and داعش \u200bخراسان"
    (found,) = _json(_monitor(offline, "watchlists", "test", "--json", "-", stdin=text))
    hits = [(text[h["start"] : h["end"]], h["term"], h["rule"]) for h in found["hits"]]
    assert hits == [
        ("ISKP", "ISKP", "exact"),
        ("ISISK", "ISIS-K", "joined"),
        ("داعش \u200bخراسان", "داعش خراسان", "invisible"),
    ]


def test_test_reads_stdin_and_prints_an_empty_array_when_nothing_matches(offline: Path) -> None:
    result = _monitor(offline, "watchlists", "test", "--json", "-", stdin="The crisis deepened.")
    assert _json(result) == []
    plain = _monitor(offline, "watchlists", "test", stdin="The crisis deepened.")
    assert plain.exit_code == 0
    assert "no watchlist matched" in plain.stdout


def test_human_output_names_terms_counts_and_snippets(offline: Path) -> None:
    result = _monitor(offline, "watchlists", "test", str(SEED_FILE))
    assert result.exit_code == 0, result.output
    assert "language: en" in result.stdout
    assert "isis-k (high) → desk-log" in result.stdout
    assert "ISIS-K (ISIS-Khorasan) ×5" in result.stdout
    assert "expansion of ISIS-Khorasan. Without" in " ".join(result.stdout.split())


def test_tag_scoped_watchlists_need_tags_and_language_scope_follows_detection(
    offline: Path,
) -> None:
    text = "A blast in Kabul killed three people on Sunday, officials said."
    untagged = _monitor(offline, "watchlists", "test", "--json", "-", stdin=text)
    assert _json(untagged) == []
    assert "not applied (limited to feed tags; pass --tags): kabul-pk" in untagged.stderr
    tagged = _monitor(offline, "watchlists", "test", "--json", "--tags", "af, pk", stdin=text)
    assert [f["watchlist"] for f in _json(tagged)] == ["kabul-pk"]
    persian = _json(_monitor(offline, "watchlists", "test", "--json", "-", stdin=PERSIAN))
    assert [f["watchlist"] for f in persian] == ["isis-k", "kabul-fa"]
    quoted = "The Persian name of the city, کابل, appears in English text about the capital."
    assert _json(_monitor(offline, "watchlists", "test", "--json", stdin=quoted)) == []


def test_test_fetches_and_extracts_a_url_using_the_page_title(offline: Path) -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in SEED_BODY.split("\n\n") if p.strip())
    html = (
        "<html><head><title>ISKP claims the Kabul blast</title></head><body>"
        "<nav><a href='/'>Home</a> ISKP video game review</nav>"
        f"<article><h1>ISKP claims the Kabul blast</h1>{paragraphs}</article></body></html>"
    )
    with FeedServer() as server:
        url = server.add("/news/blast.html", html)
        found = _json(_monitor(offline, "watchlists", "test", "--json", url))
    isis_k = next(f for f in found if f["watchlist"] == "isis-k")  # the nav's exclude is ignored
    counts = {m["term"]: m["count"] for m in isis_k["matches"]}
    assert counts == {"ISIS-K": 5, "ISIS-Khorasan": 4, "ISKP": 1}  # ISKP only in the title


def test_test_refuses_a_missing_file_and_a_failed_fetch(offline: Path) -> None:
    missing = _monitor(offline, "watchlists", "test", "/nonexistent/file.txt")
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr
    with FeedServer() as server:
        url = server.add("/gone", "gone", status=404)
        failed = _monitor(offline, "watchlists", "test", url)
    assert failed.exit_code == 1
    assert "404" in failed.stderr
    assert "Traceback" not in failed.output


async def _store_seed_story(url: str) -> None:
    engine = create_engine(url)
    try:
        ids = await add_feeds(
            engine,
            FeedConfig(url="http://af.test/rss", name="AF", tags=("af",)),
            FeedConfig(url="http://pk.test/rss", name="PK", tags=("pk",)),
        )
        first, second = ids.values()
        await store(engine, article(first, "s1", SEED_TITLE, SEED_BODY, age=timedelta(1)))
        await store(engine, article(second, "s2", SEED_TITLE, SEED_BODY + " (copy)"))
        await store(engine, article(first, "fa", "کابل", PERSIAN, language="fa"))
    finally:
        await engine.dispose()


def test_backfill_reports_scanned_matched_and_new_alerts(config: Path, database_url: str) -> None:
    asyncio.run(_store_seed_story(database_url))
    dry = _monitor(config, "watchlists", "backfill", "isis-k", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "3 articles scanned, 3 would match (dry run: nothing stored)" in dry.stdout
    assert "ISIS-K" in dry.stdout
    assert "expansion of ISIS-Khorasan" in " ".join(dry.stdout.split())
    first = _monitor(config, "watchlists", "backfill", "isis-k", "--since", "30d")
    assert first.exit_code == 0, first.output
    assert "3 articles scanned, 3 matched, 2 new alerts" in first.stdout  # 2 stories
    again = _monitor(config, "watchlists", "backfill", "isis-k")
    assert "3 articles scanned, 3 matched, 0 new alerts" in again.stdout
    alerts = _json(_monitor(config, "alerts", "list", "--json"))
    assert sorted(a["watchlist"] for a in alerts) == ["isis-k", "isis-k"]


def test_backfill_of_an_unknown_watchlist_names_the_configured_ones(offline: Path) -> None:
    # the name is checked before the database is opened
    result = _monitor(offline, "watchlists", "backfill", "nope")
    assert result.exit_code == 2
    assert "no watchlist 'nope'" in result.stderr
    assert "isis-k, kabul-pk, kabul-fa, muttaqi-near" in result.stderr


def test_articles_search_prints_results_json_and_query_errors(
    config: Path, database_url: str
) -> None:
    asyncio.run(_store_seed_story(database_url))
    found = _json(_monitor(config, "articles", "search", "--json", '"ISIS-Khorasan" NEAR/2 surge'))
    assert len(found) == 2
    assert found[0]["fetched_at"] >= found[1]["fetched_at"]
    assert set(found[0]) == {
        "id",
        "url",
        "canonical_url",
        "title",
        "published_at",
        "fetched_at",
        "language",
        "feed",
        "story_id",
        "snippet",
    }
    assert "surge in ISIS-Khorasan activities" in found[0]["snippet"]
    persian = _json(_monitor(config, "articles", "search", "--json", "--limit", "5", "کابل"))
    assert [a["language"] for a in persian] == ["fa"]
    plain = _monitor(config, "articles", "search", "Muttaqi", "--limit", "1")
    assert plain.exit_code == 0, plain.output
    assert f"#{found[0]['id']}" in plain.stdout
    assert "1 found" in plain.stderr
    bad = _monitor(config, "articles", "search", "Kabul AND (attack OR")
    assert bad.exit_code == 2
    assert "column 21" in bad.stderr
    too_long = _monitor(config, "articles", "search", "Kabul OR " * 223 + "Muttaqi")
    assert too_long.exit_code == 2
    assert too_long.stderr.strip().splitlines() == [
        "error: queries are limited to 2,000 characters; this one has 2,014"
    ]
    assert SEED.count("Muttaqi") > 1


def test_offline_commands_never_created_the_database(offline: Path) -> None:
    assert _monitor(offline, "watchlists", "list").exit_code == 0
    assert _monitor(offline, "watchlists", "test", str(SEED_FILE)).exit_code == 0
    assert not (offline.parent / "never-created.db").exists()


def test_testing_a_url_never_creates_the_database(tmp_path: Path) -> None:
    """The URL form fetches and extracts like the FILE form matches: no database is opened,
    so a database path whose folder does not exist stays absent (no migrations, no rows)."""
    folder = tmp_path / "db"
    config = _config(tmp_path, f"sqlite+aiosqlite:///{folder / 'other.db'}")
    paragraphs = "".join(f"<p>{p}</p>" for p in SEED_BODY.split("\n\n") if p.strip())
    html = f"<html><head><title>{SEED_TITLE}</title></head><body><article>{paragraphs}</article>"
    with FeedServer() as server:
        url = server.add("/a/wire.html", html + "</body></html>")
        found = _json(_monitor(config, "watchlists", "test", "--json", url))
    assert [f["watchlist"] for f in found] == ["isis-k", "muttaqi-near"]
    assert not folder.exists()
