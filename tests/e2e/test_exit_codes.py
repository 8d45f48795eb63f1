"""One exit-code rule for every command that takes an id: nothing stored under it is 1, a
malformed or ambiguous one is 2 (a usage error), and `monitor --help` says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.config import LogChannelConfig
from monitor.storage.engine import create_engine, upgrade
from tests.support.cli import monitor, write_config
from tests.support.notify import seed_alerts

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def _config(tmp_path: Path) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await seed_alerts(engine, {"desk-log": LogChannelConfig(type="log")}, NOW, 3)
    finally:
        await engine.dispose()
    return write_config(tmp_path / "monitor.toml", url, [])


async def test_unknown_is_1_malformed_or_ambiguous_is_2(tmp_path: Path) -> None:
    config = await _config(tmp_path)
    cases = {
        ("alerts", "show", "zzz"): 1,
        ("alerts", "show", "alt_zzzzzzzzzzzzzzzz"): 1,
        ("alerts", "show", "alt_"): 2,
        ("alerts", "retry", "zzz"): 1,
        ("alerts", "retry", "alt_"): 2,
        ("alerts", "triage", "zzz", "acknowledged"): 1,
        ("alerts", "triage", "alt_", "acknowledged"): 2,
        ("evidence", "export", "zzz", "-o", str(tmp_path / "e.warc.gz")): 1,
        ("evidence", "export", "alt_", "-o", str(tmp_path / "e.warc.gz")): 2,
        ("stories", "show", "999999"): 1,
        ("stories", "show", "zzz"): 2,
        ("articles", "show", "999999"): 1,
        ("articles", "show", "zzz"): 2,
        ("feeds", "enable", "999999"): 1,
        ("feeds", "disable", "https://nowhere.example/rss"): 1,
        ("feeds", "remove", "https://nowhere.example/rss"): 1,
        ("watchlists", "history", "nosuch"): 2,
        ("articles", "list", "--feed", "https://nowhere.example/rss"): 1,
    }
    got = {args: monitor(config, *args).returncode for args in cases}
    assert got == cases


async def test_triage_takes_a_unique_prefix_like_show(tmp_path: Path) -> None:
    config = await _config(tmp_path)
    alert_id = monitor(config, "alerts", "list", "--json").stdout.split('"id": "')[1][:20]

    done = monitor(config, "alerts", "triage", alert_id[:12], "acknowledged")

    assert done.returncode == 0, done.stderr
    assert '"state": "acknowledged"' in monitor(config, "alerts", "show", alert_id, "--json").stdout


async def test_export_to_a_path_that_cannot_be_written_is_one_line_and_2(tmp_path: Path) -> None:
    config = await _config(tmp_path)
    alert_id = monitor(config, "alerts", "list", "--json").stdout.split('"id": "')[1][:20]
    good = tmp_path / "out"
    good.mkdir()
    cases = {
        ("-o", "/nonexistent/dir/x.warc.gz"): "folder /nonexistent/dir does not exist",
        ("-o", str(good)): "is a directory",
        ("-o", str(good / "x.warc.gz"), "--bundle", "/nonexistent/b.zip"): "/nonexistent/b.zip",
        ("-o", str(good / "x.warc.gz"), "--bundle", str(good)): "is a directory",
    }
    for args, problem in cases.items():
        done = monitor(config, "evidence", "export", alert_id, *args)
        assert done.returncode == 2, (args, done.stderr)
        (line,) = done.stderr.splitlines()
        assert line.startswith("error: "), (args, line)
        assert problem in line, (args, line)
    assert list(good.iterdir()) == []  # nothing written, not even a partial file
    done = monitor(config, "evidence", "export", alert_id, "-o", str(good / "x.warc.gz"))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in good.iterdir()] == ["x.warc.gz"]


def test_help_states_the_rule(tmp_path: Path) -> None:
    shown = monitor(tmp_path / "none.toml", "--help").stdout
    assert "Exit codes" in shown
    assert "names nothing" in " ".join(shown.split())
