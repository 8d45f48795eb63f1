"""The supervisor with real child processes: crashed workers restart, a stop is forwarded,
stubborn workers are killed, a config error stops everything, SQLite is refused."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.supervisor import Backoff, Supervisor, supervise
from tests.support.waiting import until

CHILD = r"""
import os, pathlib, signal, sys
folder, index, mode = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
if mode == "config-error":
    sys.exit(2)
def stop(*_):
    (folder / f"stopped-{index}-{os.getpid()}").touch()
    sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "stubborn" else stop)
(folder / f"started-{index}-{os.getpid()}").touch()
while True:
    signal.pause()
"""

FAST = Backoff(base=0.05, cap=0.2, reset_after=60)


def _command(folder: Path, mode: str) -> Callable[[int], list[str]]:
    return lambda i: [sys.executable, "-c", CHILD, str(folder), str(i), mode]


def _pids(folder: Path, prefix: str, index: int) -> list[int]:
    return sorted(int(p.name.rsplit("-", 1)[1]) for p in folder.glob(f"{prefix}-{index}-*"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_crashed_worker_is_restarted_and_a_stop_reaches_every_worker(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(_command(tmp_path, "normal"), 2, stop_timeout=10, backoff=FAST)
    running = asyncio.create_task(supervisor.run())
    await until(lambda: all(_pids(tmp_path, "started", i) for i in range(2)))
    victim = _pids(tmp_path, "started", 1)[0]

    os.kill(victim, signal.SIGKILL)
    await until(lambda: len(_pids(tmp_path, "started", 1)) == 2)

    assert supervisor.slots[1].restarts == 1
    assert supervisor.slots[0].restarts == 0
    replacement = next(p for p in _pids(tmp_path, "started", 1) if p != victim)
    supervisor.stop()
    assert await asyncio.wait_for(running, 15) == 0
    assert _pids(tmp_path, "stopped", 1) == [replacement]
    assert _pids(tmp_path, "stopped", 0) == _pids(tmp_path, "started", 0)
    assert not _alive(replacement)


async def test_repeated_crashes_back_off() -> None:
    backoff = Backoff(base=1, cap=60, reset_after=60)
    assert [backoff.delay(n) for n in (1, 2, 3, 7, 20)] == [1, 2, 4, 60, 60]


async def test_a_worker_ignoring_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    supervisor = Supervisor(_command(tmp_path, "stubborn"), 1, stop_timeout=0.5, backoff=FAST)
    running = asyncio.create_task(supervisor.run())
    await until(lambda: bool(_pids(tmp_path, "started", 0)))
    pid = _pids(tmp_path, "started", 0)[0]
    supervisor.stop()
    assert await asyncio.wait_for(running, 10) == 1  # not a clean stop
    assert supervisor.slots[0].last_exit == -signal.SIGKILL
    assert not _alive(pid)


async def test_a_config_error_in_a_worker_stops_the_supervisor_with_exit_2(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(_command(tmp_path, "config-error"), 3, stop_timeout=5, backoff=FAST)
    assert await asyncio.wait_for(supervisor.run(), 10) == 2
    assert all(slot.restarts == 0 for slot in supervisor.slots)


def test_several_workers_on_sqlite_are_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[database]\nurl = "sqlite+aiosqlite:///data/monitor.db"\n')
    assert supervise(config, 3, log_format="json", verbose=0) == 2
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1
    assert "SQLite" in message
    assert "PostgreSQL" in message
    assert "database.url" in message
