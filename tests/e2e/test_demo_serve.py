"""`monitor demo --serve` as a new user meets it: the console's `/readyz` and `monitor health`
on the demo's database give the same answer."""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240  # seconds: the demo round extracts 37 articles, slowly on a loaded machine


@dataclass
class Demo:
    base_url: str
    folder: Path
    cli_hint: str  # the command the demo prints to point the CLI at its database

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.folder / 'demo.db'}"

    def sql(self, statement: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.folder / "demo.db", timeout=30) as db:
            return db.execute(statement).fetchall()

    def health(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(ROOT / "monitor/demo.toml"),
                "health",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ | {"MONITOR_DATABASE__URL": self.database_url, "NO_COLOR": "1"},
        )

    def readyz(self) -> httpx.Response:
        return httpx.get(self.base_url + "readyz", timeout=30)


def _start() -> tuple[subprocess.Popen[str], Demo]:
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"},
        cwd=ROOT,
    )
    output: list[str] = []
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # an unread pipe would fill and block the server
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    deadline, folder, base_url = time.monotonic() + START_TIMEOUT, None, ""
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            break
        if kept := re.search(r"sqlite\+aiosqlite:///(\S+)/demo\.db", line):
            folder = Path(kept.group(1))
        if served := re.search(r"console: (http://127\.0\.0\.1:\d+/)", line):
            base_url = served.group(1)
        if hint := re.search(r"CLI on this database: (.+?)  \(API:", line):  # after console:
            assert folder is not None, "".join(output)
            assert base_url, "".join(output)
            return process, Demo(base_url, folder, hint.group(1))
    process.kill()
    raise AssertionError("monitor demo --serve did not start:\n" + "".join(output[-30:]))


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    process, served = _start()
    try:
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=30) == 0
        finally:
            process.kill()
            for item in sorted(served.folder.glob("*"), reverse=True):
                item.unlink()
            served.folder.rmdir()


def test_readyz_and_monitor_health_agree_while_the_demo_serves(demo: Demo) -> None:
    # As if the round's heartbeat were long gone (`monitor health` allows 60 s): the serving
    # process must show its own life in the database, not only to its /readyz.
    demo.sql("UPDATE heartbeats SET beat_at = '2000-01-01 00:00:00.000000'")
    time.sleep(7)  # more than one `polling.tick` (5 s)

    health, ready = demo.health(), demo.readyz()

    assert (health.returncode, ready.status_code) == (0, 200), (health.stderr, ready.text)
    assert health.stdout.strip() == "healthy"
    assert ready.text.strip() == "ready"


def test_the_printed_cli_command_works_from_any_folder(demo: Demo, tmp_path: Path) -> None:
    program, *args = shlex.split(demo.cli_hint)
    assert program == "monitor"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # not a checkout: no config/monitor.toml here
        env=env | {"NO_COLOR": "1", "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert "alt_" in done.stdout


def test_a_taken_port_is_refused_before_the_round(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "demo", "--serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ | {"TMPDIR": str(tmp_path)},
        )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: server: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert result.stdout == ""  # no round was run
    assert list(tmp_path.iterdir()) == []  # and no demo folder kept
