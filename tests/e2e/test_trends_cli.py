"""`monitor trends` as a user runs it: counts and a surge stored by the trends check, printed
as JSON and as a table; bad options are one line and exit 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.cli.trends import sparkline
from monitor.clock import FrozenClock
from monitor.config import load_config
from monitor.services.trends import Trends
from monitor.storage.engine import create_engine, upgrade
from monitor.trends import hour_floor
from monitor.units import iso_z
from tests.support.cli import monitor
from tests.support.trend_store import Ctx, add_feeds, add_stories

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        f"""
[database]
url = "sqlite+aiosqlite:///{tmp_path / "monitor.db"}"

[[watchlists]]
name = "isis-k"
terms = ["ISIS-K"]
channels = ["desk-log"]
surge = true

[[watchlists]]
name = "quiet-one"
terms = ["nothing"]

[channels.desk-log]
type = "log"
""",
        encoding="utf-8",
    )
    return path


async def _stored_surge(config: Path) -> str:
    settings = load_config(config)
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
        outlets = await add_feeds(engine, 3, NOW - timedelta(days=30))
        calm = [NOW - timedelta(days=10) + timedelta(hours=12) * i for i in range(19)]
        await add_stories(engine, calm, outlets[:1])
        burst = [NOW - timedelta(minutes=50) + timedelta(minutes=5) * i for i in range(9)]
        await add_stories(engine, burst, outlets)
        report = await Trends(Ctx(settings, engine, FrozenClock(NOW))).check(NOW)
    finally:
        await engine.dispose()
    assert len(report.opened) == 1
    return report.opened[0]


async def test_trends_prints_counts_expected_values_and_the_surge(tmp_path: Path) -> None:
    config = _config(tmp_path)
    surge = await _stored_surge(config)

    result = monitor(config, "trends", "isis-k", "--since", "2d", "--by", "hour", "--json")

    assert result.returncode == 0, result.stderr
    [trend] = json.loads(result.stdout)
    assert (trend["watchlist"], trend["by"], trend["surge_detection"]) == ("isis-k", "hour", True)
    marked = [p for p in trend["points"] if p["surge"]]
    assert [p["start"] for p in marked] == [iso_z(hour_floor(NOW))]  # raised in this hour
    assert sum(p["stories"] for p in trend["points"]) >= 9
    assert all(p["expected"] is not None and p["expected"] < 1 for p in trend["points"])
    assert all(p["band"][0] <= p["expected"] <= p["band"][1] for p in trend["points"])
    assert [e["id"] for e in trend["episodes"]] == [surge]
    assert trend["episodes"][0]["payload"]["type"] == "watchlist.surge"

    assert (trend["actor"], trend["actors"]) == (None, ["ISIS-Khorasan"])
    by_actor = monitor(
        config,
        "trends",
        "isis-k",
        "--since",
        "2d",
        "--by",
        "hour",
        "--actor",
        "ISIS-Khorasan",
        "--json",
    )
    assert by_actor.returncode == 0, by_actor.stderr
    [actor] = json.loads(by_actor.stdout)
    assert actor["actor"] == "ISIS-Khorasan"
    assert sum(p["stories"] for p in actor["points"]) == sum(p["stories"] for p in trend["points"])

    table = monitor(config, "trends", "--since", "3d")
    assert table.returncode == 0, table.stderr
    assert "isis-k" in table.stdout
    assert "quiet-one" in table.stdout
    assert "SURGE" in table.stdout
    assert surge in table.stdout


def test_bad_options_are_one_line_and_exit_2(tmp_path: Path) -> None:
    config = _config(tmp_path)
    for args, message in (
        (("--by", "week"), "--by: must be hour or day"),
        (("--since", "soon"), "--since: "),
        (("nobody",), "no watchlist 'nobody'"),
        (("isis-k", "--actor", "Nobody"), "watchlist 'isis-k' has no actor 'Nobody'"),
        (("--actor", "Nobody"), "no watchlist has an actor 'Nobody'"),
    ):
        result = monitor(config, "trends", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_sparkline_scales_to_the_busiest_bucket() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""
