"""The benchmark harness (bench/) runs end to end on tiny sizes: local feed server, a real
`run --once --all` round in a worker process, the extraction baseline, the results table,
latest.json and the chart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_harness_runs_the_end_to_end_scenario_on_tiny_sizes(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--profile",
            "tiny",
            "--only",
            "end-to-end",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["profile"] == "tiny"
    assert data["machine"]["cores"] >= 1
    rows = {row["figure"]: row for row in data["rows"]}
    round_ = rows["articles/s, sqlite"]
    assert round_["note"].startswith("10/10 stored"), round_["note"]
    assert round_["value"] > 0
    assert round_["baseline"] > 0
    assert round_["ratio"] == pytest.approx(round_["value"] / round_["baseline"])
    assert round_["target"] == "≥ 0.75×"
    assert round_["passed"] == (round_["ratio"] >= 0.75)
    assert out.with_suffix(".png").stat().st_size > 1000
    assert "articles/s, sqlite" in done.stdout


def test_harness_runs_the_scale_out_curve_on_tiny_sizes(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    command = ["-m", "bench", "--profile", "tiny", "--only", "scale-out", "--no-chart"]
    done = subprocess.run(
        [sys.executable, *command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {row["figure"]: row for row in json.loads(out.read_text(encoding="utf-8"))["rows"]}
    for workers in ("1 worker", "2 workers", "4 workers"):
        point = rows[f"304 round on PostgreSQL, {workers}"]
        assert point["note"].startswith("60/60 answered 304"), point["note"]
        assert point["value"] > 0
    assert rows["304 round on PostgreSQL, 1 worker"]["target"] == "≥ 500 polls/s"
    assert rows["304 round on PostgreSQL, 2 workers"]["baseline"] == pytest.approx(
        rows["304 round on PostgreSQL, 1 worker"]["value"]
    )
    assert 0 < rows["claim latency, median (60 feeds due)"]["value"] < 10_000
