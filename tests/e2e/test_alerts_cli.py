"""`monitor alerts` as a user runs it in an 80-column pipe: ids and times are printed whole,
`alerts show` takes a unique prefix, an unknown `--watchlist` is one line with exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.config import LogChannelConfig
from monitor.storage.engine import create_engine, upgrade
from tests.support.cli import write_config
from tests.support.notify import seed_alerts

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _monitor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
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
