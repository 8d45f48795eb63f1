"""A `monitor run` SIGKILLed at any moment of start-up leaves no process of its extraction
pool behind (the forkserver and the pool workers die with it), however early the kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.feedserver import FeedServer, corpus_pages, rss

ROOT = Path(__file__).resolve().parents[2]
MARK = "MONITOR_TEST_POOL_MARK"
GONE_WITHIN = 20.0  # seconds; an orphaned pool lived on for 13 minutes
POOL_STARTS_WITHIN = 120.0  # seconds from start to the first page extraction, loaded machine


def _marked(mark: str) -> list[int]:
    """Pids of live processes whose environment carries `mark` (the service's descendants)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except (FileNotFoundError, PermissionError, ProcessLookupError, IndexError):
            continue
        if f"{MARK}={mark}".encode() in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


async def _pool_appeared(mark: str, service: subprocess.Popen[bytes]) -> None:
    """Wait until a process besides the service carries the mark (the pool is starting)."""
    deadline = time.monotonic() + POOL_STARTS_WITHIN
    while len(_marked(mark)) < 2:
        if service.poll() is not None or time.monotonic() > deadline:
            service.kill()
            raise AssertionError("the service never started its extraction pool")
        await asyncio.sleep(0.05)


async def _still_marked(mark: str) -> list[int]:
    """The marked processes still alive after waiting up to GONE_WITHIN for them to end."""
    deadline = time.monotonic() + GONE_WITHIN
    for _ in range(int(GONE_WITHIN / 0.2) + 1):
        left = _marked(mark)
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.2)
    return _marked(mark)


def _start(config: Path, log: Path, mark: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=ROOT, env=dict(os.environ, **{MARK: mark}), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("after", [0.0, 0.2, 0.5, 1.0, 2.0])
async def test_a_service_killed_while_its_pool_starts_leaves_no_pool_process(
    tmp_path: Path, after: float
) -> None:
    """Killed `after` seconds after its first pool process (the forkserver) appeared: while
    the forkserver loads the language models, and while it forks the pool workers."""
    with FeedServer() as server:
        pages = corpus_pages()[:6]
        for page_id, html, _ in pages:
            server.add(f"/a/{page_id}", html)
        items = [{"title": p, "link": server.url(f"/a/{p}"), "guid": p} for p, _, _ in pages]
        feed = server.add("/rss", rss("feed", items), "application/rss+xml")
        config = tmp_path / "monitor.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "m.db"}"\n\n'
            f'[polling]\nallow_networks = ["127.0.0.0/8"]\ntick = "1s"\n\n'
            f'[[feeds]]\nurl = "{feed}"\n',
            encoding="utf-8",
        )
        mark = uuid.uuid4().hex
        process = _start(config, tmp_path / "run.log", mark)
        await _pool_appeared(mark, process)
        await asyncio.sleep(after)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

        left = await _still_marked(mark)
    for pid in left:  # leave the machine clean whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"pool processes outlived the service killed after {after}s"
