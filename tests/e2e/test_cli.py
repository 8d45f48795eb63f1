"""The `monitor` command as a user drives it: real processes, a real feed server on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import monitor, write_config
from tests.support.feedserver import FeedServer, corpus_pages, rss

PAGES = corpus_pages()[:4]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        for page_id, html, _ in PAGES:
            srv.add(f"/a/{page_id}", html)
        items = [
            {"title": f"T{i}", "link": srv.url(f"/a/{p[0]}"), "guid": p[0]}
            for i, p in enumerate(PAGES)
        ]
        srv.add("/rss", rss("feed", items), "application/rss+xml")
        yield srv


def test_bad_config_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[polling]\ntimeout = "soon"\nbogus = 1\n', encoding="utf-8")
    result = monitor(config, "config", "check")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(config) in lines[0]
    assert "polling." in lines[0]


def test_a_bad_env_override_names_the_env_variable_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "cfg.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [])
    monkeypatch.setenv("MONITOR_POLLING__TIMEOUT", "soon")
    result = monitor(config, "config", "check")
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: MONITOR_POLLING__TIMEOUT (overrides polling.timeout in {config}): 'soon' is not"
        " a duration"
    ), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    monkeypatch.setenv("MONITOR_POLLING__TIMEOUT", "5s")
    monkeypatch.setenv("MONITOR_POLLING__ALLOW_NETWORKS", "127.0.0.0/8")  # not JSON
    result = monitor(config, "config", "check")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"error: MONITOR_POLLING__ALLOW_NETWORKS (overrides polling.allow_networks in {config}):"
    ), result.stderr


def test_missing_secret_env_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "monitor.toml",
        f"sqlite+aiosqlite:///{tmp_path / 'm.db'}",
        [],
        '\n[channels.hook]\ntype = "webhook"\nurl = "https://hooks.example.org/x"\nsecret_env = "MONITOR_TEST_NOT_SET"\n',
    )
    result = monitor(config, "config", "check")
    assert result.returncode == 2
    assert "channels.hook.secret_env" in result.stderr
    assert "MONITOR_TEST_NOT_SET" in result.stderr


def test_unreachable_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "monitor.toml", "postgresql+asyncpg://postgres@127.0.0.1:1/nope", []
    )
    result = monitor(config, "run", "--once", timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "database" in result.stderr


def test_run_once_then_status_articles_and_health(server: FeedServer, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "monitor.toml", "sqlite+aiosqlite:///data/m.db", [server.url("/rss")]
    )
    result = monitor(config, "run", "--once")
    assert result.returncode == 0, result.stderr
    assert "4 articles stored" in result.stdout
    assert "polled 1 feed:" in result.stdout
    assert (tmp_path / "data" / "m.db").exists()  # relative to the config file's folder
    status = json.loads(monitor(config, "status", "--json").stdout)
    assert status[0]["url"] == server.url("/rss")
    assert {
        "url",
        "name",
        "state",
        "last_error",
        "last_poll_at",
        "last_success_at",
        "next_poll_at",
        "articles",
    } <= set(status[0])
    assert (status[0]["state"], status[0]["articles"]) == ("ok", 4)
    listed = json.loads(monitor(config, "articles", "list", "--json").stdout)
    assert len(listed) == 4
    shown = json.loads(monitor(config, "articles", "show", str(listed[0]["id"]), "--json").stdout)
    assert {
        "id",
        "url",
        "canonical_url",
        "title",
        "published_at",
        "language",
        "feed",
        "story_id",
        "text",
    } <= set(shown)
    assert len(shown["text"]) > 200
    # Not running: the heartbeat of --once is fresh, so health passes right after it.
    assert monitor(config, "health").returncode == 0


def test_service_stops_gracefully_on_sigterm(server: FeedServer, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [server.url("/rss")]
    )
    # The service's logs go to a file: an unread pipe would fill and block the service.
    log_path = tmp_path / "service.log"
    log_file = log_path.open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--log-format", "json", "run"],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            status = json.loads(monitor(config, "status", "--json").stdout or "[]")
            if status and status[0]["articles"] == 4:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the service stored nothing within 90 s:\n" + log_path.read_text()[-3000:])
        second = monitor(config, "run", "--once")
        assert second.returncode == 1
        assert "another `monitor run`" in second.stderr
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
        log_file.close()
    leases = json.loads(monitor(config, "status", "--json").stdout)
    assert leases[0]["state"] == "ok"
