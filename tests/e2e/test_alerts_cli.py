"""`monitor alerts` as a user runs it in an 80-column pipe: ids and times are printed whole,
`alerts show` takes a unique prefix, an unknown `--watchlist` is one line with exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.cells import cell_len

from tests.support.fitting import ARABIC, TIME, kept_whole, seeded, three_alerts
from tests.support.fitting import monitor_at as _monitor


async def test_alert_ids_are_never_cut_and_a_prefix_shows_one(tmp_path: Path) -> None:
    config, ids = await three_alerts(tmp_path)

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


async def test_alerts_list_fits_80_columns_one_line_per_alert(tmp_path: Path) -> None:
    config, ids = await seeded(tmp_path)

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
        kept_whole(title)
    assert [a["article"]["title"] for a in json.loads(as_json.stdout)] == [ARABIC] * 3


async def test_status_fits_80_columns_and_cuts_only_the_error(tmp_path: Path) -> None:
    config, _ = await seeded(tmp_path)

    status = _monitor(config, "status")
    wide = _monitor(config, "status", columns=200)

    assert status.returncode == 0, status.stderr
    table = status.stdout.splitlines()[:2]
    assert all(cell_len(line.rstrip()) <= 80 for line in table), status.stdout
    assert table[0].split()[:4] == ["id", "name", "state", "last"], table[0]
    assert " never " in table[1], table[1]
    assert "HTTP 503" in table[1], table[1]
    assert table[1].rstrip().endswith("…"), table[1]
    kept_whole(re.split(r"\s{2,}", table[1])[1])
    assert "last success" in wide.stdout
    assert "next poll" in wide.stdout
