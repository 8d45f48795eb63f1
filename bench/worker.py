"""Each measurement runs in a fresh worker process (`python -m bench.worker`), like one
`monitor run` would, while the parent samples the memory of its whole process tree.

A job is a function `params -> dict` (sync or async) named "module:function"; the worker
reads `{"job": ..., "params": ...}` on stdin, runs it, and prints its result as one JSON
line on stdout. Its logs go to a file, as a service's would.

Memory: the parent reads, every 50 ms, the proportional set size (PSS, from
/proc/PID/smaps_rollup) of the worker and every descendant (the extraction pool, its
forkserver): PSS splits shared pages between the processes sharing them, so the sum is
what the tree really holds. The worker's own peak RSS (VmHWM) is reported beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class JobResult:
    """A job's own result plus what the parent saw of its process tree."""

    data: dict[str, Any]
    wall_seconds: float
    peak_tree_pss_mb: float
    peak_main_rss_mb: float
    pss_at_peak: tuple[float, ...] = ()  # the worker first, then its descendants


class JobFailed(RuntimeError):
    """The worker exited with an error; the message carries the end of its log."""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_pss_mb(pid: int) -> dict[int, float]:
    """PSS of a process and each of its descendants, in MB."""
    return {p: _pss_kb(p) / 1024 for p in _descendants(pid)}


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a live process and its reaped children have used (the
    extraction pool's retired workers are reaped by its forkserver)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(b")") + 2 :].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process's live descendants, itself excluded."""
    return sum(cpu_seconds(p) for p in _descendants(pid) if p != pid)


class _Sampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0.0
        self.at_peak: dict[int, float] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            sizes = tree_pss_mb(self.pid)
            if sum(sizes.values()) > self.peak:
                self.peak, self.at_peak = sum(sizes.values()), sizes
            self.stopping.wait(self.every)


def run_job(job: str, params: Mapping[str, Any], *, log: Path, timeout: float = 3600) -> JobResult:
    """Run `job` in a fresh worker process; raise JobFailed with its log tail if it fails."""
    started = time.perf_counter()
    with open(log, "ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=ROOT,
        )
        sampler = _Sampler(process.pid)
        sampler.start()
        try:
            out, _ = process.communicate(
                json.dumps({"job": job, "params": dict(params)}).encode(), timeout
            )
        finally:
            sampler.stopping.set()
            sampler.join()
            if process.poll() is None:
                process.kill()
                process.wait()
    lines = out.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        tail = log.read_text(errors="replace")[-3000:]
        raise JobFailed(f"{job} exited with {process.returncode}:\n{tail}")
    data = json.loads(lines[-1])
    peak_rss = float(data.pop("_peak_rss_mb", 0.0))
    at_peak = (
        sampler.at_peak.get(process.pid, 0.0),
        *tuple(sorted((v for k, v in sampler.at_peak.items() if k != process.pid), reverse=True)),
    )
    return JobResult(data, time.perf_counter() - started, sampler.peak, peak_rss, at_peak)


@contextlib.contextmanager
def profiled(name: str) -> Iterator[None]:
    """With BENCH_PROFILE=FOLDER set, profile the block with pyinstrument (if installed) and
    write FOLDER/<name>-<pid>.txt; otherwise do nothing."""
    folder = os.environ.get("BENCH_PROFILE")
    if not folder:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002, async_mode="enabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        path = Path(folder) / f"{name}-{os.getpid()}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(profiler.output_text(unicode=True, show_all=False))


def finish_now(result: dict[str, Any]) -> NoReturn:
    """Report `result` and end the worker at once, skipping clean-up that would hang (a
    deadlocked process pool)."""
    result["_peak_rss_mb"] = _own_peak_rss_mb()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _own_peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _main() -> None:
    request = json.loads(sys.stdin.read())
    module_name, _, func_name = request["job"].partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    result = func(request["params"])
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    result["_peak_rss_mb"] = _own_peak_rss_mb()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    _main()
