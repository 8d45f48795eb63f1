"""What the tests of terminal-fitted tables share: the CLI at a given width, a database of
alerts whose titles and feed name are long vowelled Arabic, and the checks of a fitted table."""

from __future__ import annotations

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
# A vowelled Arabic headline: its marks (U+064B–U+0652) must never be cut from their letter.
ARABIC = (
    "تَنْظِيمُ الدَّوْلَةِ الإِسْلَامِيَّةِ فِي خُرَاسَانَ يُعْلِنُ مَسْؤُولِيَّتَهُ عَنْ هُجُومٍ جَدِيدٍ فِي وِلَايَةِ نَنْكَرْهَارَ شَرْقَ أَفْغَانِسْتَانَ"
)
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def monitor_at(config: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """The CLI in a pipe whose terminal width is `columns` (COLUMNS)."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": str(columns)},
    )


async def three_alerts(tmp_path: Path) -> tuple[Path, list[str]]:
    """A config on a SQLite database in `tmp_path` holding three alerts, and their ids."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        ids = await seed_alerts(engine, {"desk-log": LogChannelConfig(type="log")}, NOW, 3)
    finally:
        await engine.dispose()
    return write_config(tmp_path / "monitor.toml", url, []), ids


async def seeded(tmp_path: Path) -> tuple[Path, list[str]]:
    """Three alerts whose article has a long Arabic title, on a feed with a long last error."""
    config, ids = await three_alerts(tmp_path)
    with sqlite3.connect(tmp_path / "m.db") as db:
        db.execute("UPDATE articles SET title = ?", (ARABIC,))
        db.execute("UPDATE stories SET title = ?", (ARABIC,))
        db.execute("UPDATE feeds SET name = ?, last_error = ?", (ARABIC, "HTTP 503: " * 30))
    return config, ids


def kept_whole(shown: str) -> None:
    """A cut Arabic cell is the title's start, never ending between a letter and its mark."""
    cut = shown.removesuffix("…").rstrip()
    assert ARABIC.startswith(cut), shown
    assert not unicodedata.category(ARABIC[len(cut)]).startswith("M"), shown


def fitted_rows(result: subprocess.CompletedProcess[str], count: int, width: int = 80) -> list[str]:
    """The rows of a table printed alone: a header and one line per row, none wider than
    `width`."""
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").splitlines()
    assert len(lines) == 1 + count, result.stdout
    assert all(cell_len(line.rstrip()) <= width for line in lines), result.stdout
    return lines[1:]


def cells_of(line: str) -> list[str]:
    """A fitted row's cells (columns are two spaces apart)."""
    return re.split(r"\s{2,}", line.strip())
