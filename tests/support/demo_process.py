"""`monitor demo --serve` in a child process, as a user starts it: its output read to the end
by a thread (an unread pipe would fill and block the server), the console's address,
password and database folder taken from it; stopped with SIGINT, which must exit 0, and its
folder removed."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.demo import DEMO_USER

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServedDemo:
    base_url: str
    password: str
    folder: Path  # holds demo.db
    output: list[str]  # every line printed so far (the thread keeps appending)


@contextlib.contextmanager
def served_demo(timeout: float) -> Iterator[ServedDemo]:
    """The demo serving until the block ends; `timeout` seconds for it to start."""
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"},
        cwd=ROOT,
    )
    try:
        served = _wait_until_served(process, timeout)
    except BaseException:
        process.kill()
        raise
    try:
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=30) == 0, "monitor demo --serve did not exit 0 on SIGINT"
        finally:
            process.kill()
            for item in sorted(served.folder.glob("*"), reverse=True):
                item.unlink()
            served.folder.rmdir()


def _wait_until_served(process: subprocess.Popen[str], timeout: float) -> ServedDemo:
    output: list[str] = []
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    deadline, folder = time.monotonic() + timeout, None
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            break
        if kept := re.search(r"sqlite\+aiosqlite:///(\S+)/demo\.db", line):
            folder = Path(kept.group(1))
        if served := re.search(
            r"console: (http://127\.0\.0\.1:\d+/)\s+user: (\S+)\s+password: (\S+)", line
        ):
            assert served.group(2) == DEMO_USER
            assert folder is not None, "".join(output)
            return ServedDemo(served.group(1), served.group(3), folder, output)
    raise AssertionError("monitor demo --serve did not start:\n" + "".join(output[-30:]))
