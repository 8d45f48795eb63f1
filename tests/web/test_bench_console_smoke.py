"""Benchmark scenario 10 (the console's pages over a large store) runs end to end on tiny
sizes: a filled database, the served app, the load client in its own process reading pages
with an API token, one row per figure and no failed request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_console_scenario_runs_on_tiny_sizes(tmp_path: Path) -> None:
    out = tmp_path / "console.json"
    command = ["-m", "bench", "--profile", "tiny", "--only", "console", "--no-chart"]
    done = subprocess.run(
        [sys.executable, *command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {row["figure"]: row for row in json.loads(out.read_text(encoding="utf-8"))["rows"]}
    for figure in ("inbox", "inbox filtered", "alert page", "search page"):
        row = rows[f"{figure} p95, sqlite"]
        assert row["value"] > 0, figure
        assert "failures" not in row["note"], row["note"]
    assert rows["inbox p95, sqlite"]["target"] == "≤ 150 ms"
    assert rows["alert page p95, sqlite"]["target"] == "≤ 150 ms"
    assert rows["/healthz p95, sqlite"]["value"] > 0
