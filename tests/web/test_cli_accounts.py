"""`monitor users/tokens/audit` and `monitor serve` as a user drives them (real processes):
a token is printed once and works against the API `monitor run` serves (SQLite) and
`monitor serve` serves (PostgreSQL); `serve` on SQLite and a public address without users
are refused with one line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from monitor.storage.engine import create_engine, upgrade
from tests.support.api import served_api
from tests.support.cli import monitor, write_config
from tests.support.databases import pg_database
from tests.support.notify import free_port

PASSWORD = "a long enough password"


def _run(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def _config(tmp_path: Path, server: str = "") -> Path:
    return write_config(
        tmp_path / "monitor.toml", f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [], server
    )


def test_users_tokens_and_audit_from_the_command_line(tmp_path: Path) -> None:
    config = _config(tmp_path)
    added = _run(config, "users", "add", "ann", "--role", "analyst", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "ann" in _run(config, "users", "list").stdout
    created = _run(config, "tokens", "create", "--user", "ann", "--expires", "30d")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("fmt_")
    assert "not shown again" in created.stderr
    listed = _run(config, "tokens", "list", "--json")
    assert secret not in listed.stdout
    assert secret[:10] in listed.stdout
    assert _run(config, "tokens", "revoke", "1").returncode == 0
    assert '"state": "revoked"' in _run(config, "tokens", "list", "--json").stdout
    short = _run(config, "users", "passwd", "ann", stdin="short\n")
    assert short.returncode == 2
    assert len(short.stderr.strip().splitlines()) == 1
    actions = _run(config, "audit", "list", "--json").stdout
    for action in ("user.add", "token.create", "token.revoke"):
        assert action in actions
    assert secret not in actions
    assert PASSWORD not in actions


def test_serve_on_sqlite_is_refused_with_one_line(tmp_path: Path) -> None:
    result = monitor(_config(tmp_path), "serve")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "PostgreSQL" in lines[0]


def test_a_public_address_without_users_is_refused_with_one_line(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, f'\n[server]\nenabled = true\nhost = "0.0.0.0"\nport = {port}\n')
    result = monitor(config, "run", timeout=60)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if "error" in line]
    assert len(lines) == 1, result.stderr
    assert "no user exists" in lines[0]


async def _get(url: str, token: str) -> int:
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        try:
            response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            return 0
        return response.status_code


def test_monitor_run_on_sqlite_serves_the_api_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, f"\n[server]\nenabled = true\nport = {port}\n")
    assert _run(config, "users", "add", "vic", stdin=PASSWORD + "\n").returncode == 0
    token = _run(config, "tokens", "create", "--user", "vic").stdout.strip()
    process = _start(config, "run", tmp_path / "service.log")
    try:
        url = f"http://127.0.0.1:{port}/api/v1/me"
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and status != 200:
            assert process.poll() is None, (tmp_path / "service.log").read_text()
            status = asyncio.run(_get(url, token))
            time.sleep(0.2)
        assert status == 200
        assert asyncio.run(_get(url, "fmt_wrong")) == 401
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def _start(config: Path, command: str, log: Path) -> subprocess.Popen[bytes]:
    """`monitor COMMAND` in the background, its output to `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), command],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _serve_and_call(config: Path, port: int, token: str, log: Path) -> None:
    process = _start(config, "serve", log)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and status != 200:
            assert process.poll() is None, log.read_text()
            status = await _get(f"{base}/readyz", token)
            await asyncio.sleep(0.2)
        assert status == 200  # a web tier is ready without a scheduler of its own
        assert await _get(f"{base}/api/v1/alerts", token) == 200
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        if process.poll() is None:
            process.kill()


async def test_monitor_serve_is_a_web_tier_on_postgresql(tmp_path: Path) -> None:
    async with pg_database() as url:
        port = free_port()
        config = write_config(tmp_path / "monitor.toml", url, [], f"\n[server]\nport = {port}\n")
        add = await asyncio.to_thread(_run, config, "users", "add", "vic", stdin=PASSWORD + "\n")
        assert add.returncode == 0, add.stderr
        created = await asyncio.to_thread(_run, config, "tokens", "create", "--user", "vic")
        await _serve_and_call(config, port, created.stdout.strip(), tmp_path / "serve.log")


async def test_triage_from_the_command_line(tmp_path: Path) -> None:
    config = _config(tmp_path)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(engine)
        async with served_api(engine) as api:
            alert = api.seeded.alert_id
    finally:
        await engine.dispose()
    refused = await asyncio.to_thread(_run, config, "alerts", "triage", alert, "false_positive")
    assert refused.returncode == 2
    assert "note" in refused.stderr
    done = await asyncio.to_thread(
        _run, config, "alerts", "triage", alert, "false_positive", "--note", "satire"
    )
    assert done.returncode == 0, done.stderr
    listed = await asyncio.to_thread(
        _run, config, "alerts", "list", "--triage", "false_positive", "--json"
    )
    assert alert in listed.stdout
    shown = await asyncio.to_thread(_run, config, "alerts", "show", alert)
    assert "triage: false_positive by cli:" in shown.stdout
    audit = await asyncio.to_thread(_run, config, "audit", "list", "--target", f"alert:{alert}")
    assert "alert.triage" in audit.stdout
