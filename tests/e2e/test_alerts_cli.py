"""`monitor alerts` as a user runs it in an 80-column pipe: ids and times are printed whole,
`alerts show` takes a unique prefix, an unknown `--watchlist` is one line with exit 2."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from rich.cells import cell_len

from monitor.config import LogChannelConfig
from monitor.storage.engine import create_engine, upgrade
from tests.support.cli import write_config
from tests.support.notify import seed_alerts

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _monitor(config: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": str(columns)},
    )


async def test_alert_ids_are_never_cut_and_a_prefix_shows_one(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        ids = await seed_alerts(engine, {"desk-log": LogChannelConfig(type="log")}, NOW, 3)
    finally:
        await engine.dispose()
    config = write_config(tmp_path / "monitor.toml", url, [])

    listed = _monitor(config, "alerts", "list")
    shown = _monitor(config, "alerts", "show", ids[1][:12])
    unknown = _monitor(config, "alerts", "list", "--watchlist", "nope")

    assert listed.returncode == 0, listed.stderr
    assert set(re.findall(r"alt_[0-9a-z]+", listed.stdout)) == set(ids)
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", listed.stdout)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(ids[1])
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "error: no watchlist 'nope' (configured: demo)"


# A vowelled Arabic headline: its marks (U+064B–U+0652) must never be cut from their letter.
ARABIC = (
    "تَنْظِيمُ الدَّوْلَةِ الإِسْلَامِيَّةِ فِي خُرَاسَانَ يُعْلِنُ مَسْؤُولِيَّتَهُ عَنْ هُجُومٍ جَدِيدٍ فِي وِلَايَةِ نَنْكَرْهَارَ شَرْقَ أَفْغَانِسْتَانَ"
)
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


async def _seeded(tmp_path: Path) -> tuple[Path, list[str]]:
    """Three alerts whose article has a long Arabic title, on a feed with a long last error."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        ids = await seed_alerts(engine, {"desk-log": LogChannelConfig(type="log")}, NOW, 3)
    finally:
        await engine.dispose()
    with sqlite3.connect(tmp_path / "m.db") as db:
        db.execute("UPDATE articles SET title = ?", (ARABIC,))
        db.execute("UPDATE feeds SET name = ?, last_error = ?", (ARABIC, "HTTP 503: " * 30))
    return write_config(tmp_path / "monitor.toml", url, []), ids


def _kept_whole(shown: str) -> None:
    """A cut Arabic cell is the title's start, never ending between a letter and its mark."""
    cut = shown.removesuffix("…").rstrip()
    assert ARABIC.startswith(cut), shown
    assert not unicodedata.category(ARABIC[len(cut)]).startswith("M"), shown


async def test_alerts_list_fits_80_columns_one_line_per_alert(tmp_path: Path) -> None:
    config, ids = await _seeded(tmp_path)

    listed = _monitor(config, "alerts", "list")
    as_json = _monitor(config, "alerts", "list", "--json")

    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.rstrip("\n").splitlines()
    assert len(lines) == 1 + len(ids), listed.stdout  # a header and one line per alert
    assert all(cell_len(line.rstrip()) <= 80 for line in lines), listed.stdout
    assert {line.split(" ")[0] for line in lines[1:]} == set(ids)  # ids whole
    for line in lines[1:]:
        assert TIME.search(line), line
        assert " high " in line, line
        title = next(cell for cell in re.split(r"\s{2,}", line) if cell[:1] in ARABIC)
        assert title.endswith("…"), line
        _kept_whole(title)
    assert [a["article"]["title"] for a in json.loads(as_json.stdout)] == [ARABIC] * 3


async def test_status_fits_80_columns_and_cuts_only_the_error(tmp_path: Path) -> None:
    config, _ = await _seeded(tmp_path)

    status = _monitor(config, "status")
    wide = _monitor(config, "status", columns=200)

    assert status.returncode == 0, status.stderr
    table = status.stdout.splitlines()[:2]
    assert all(cell_len(line.rstrip()) <= 80 for line in table), status.stdout
    assert table[0].split()[:4] == ["id", "name", "state", "last"], table[0]
    assert " never " in table[1], table[1]
    assert "HTTP 503" in table[1], table[1]
    assert table[1].rstrip().endswith("…"), table[1]
    _kept_whole(re.split(r"\s{2,}", table[1])[1])
    assert "last success" in wide.stdout
    assert "next poll" in wide.stdout
