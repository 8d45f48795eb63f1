"""Benchmark scenario 9 (the REST API over a large store) runs end to end on tiny sizes: a
filled database, the served app, the load client in its own process, one row per figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_api_scenario_runs_on_tiny_sizes(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    command = ["-m", "bench", "--profile", "tiny", "--only", "api", "--no-chart"]
    done = subprocess.run(
        [sys.executable, *command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {row["figure"]: row for row in json.loads(out.read_text(encoding="utf-8"))["rows"]}
    for figure in (
        "/healthz p95, sqlite",
        "alerts first page p95, sqlite",
        "alerts deep cursor page p95, sqlite",
        "alert show p95, sqlite",
        "articles search p95, sqlite",
    ):
        assert rows[figure]["value"] > 0, figure
        assert "failures" not in rows[figure]["note"], rows[figure]["note"]
    assert rows["alert show p95, sqlite"]["target"] == "≤ 100 ms"
    assert rows["articles search p95, sqlite"]["target"] == "≤ 300 ms"
