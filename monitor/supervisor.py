"""`monitor run --workers N`: N worker processes under one supervisor on one host.

Each worker is an ordinary `python -m monitor --config FILE run` process. Workers share the
PostgreSQL database and claim work there with leases, so the supervisor only starts, watches
and stops them:

- a worker that exits unasked is restarted after a backoff (1 s doubling to 60 s; the count
  resets once a worker has run for a minute), and the crash is logged;
- a worker exiting with code 2 (a config or usage error) stops everything: restarting
  cannot help;
- SIGTERM/SIGINT is forwarded to every worker; the supervisor waits for them up to
  `delivery.shutdown_timeout` plus a margin, SIGKILLs stragglers, and exits 0 when every
  worker stopped cleanly; SIGHUP is forwarded (each worker reloads);
- workers die with the supervisor (SIGTERM from the kernel when it is SIGKILLed), so none
  outlives it holding its port;
- a worker that cannot listen on its port exits 2 like a config error: everything stops
  with that one line instead of restarting forever;
- with `[server] enabled`, worker i listens on `server.port + i`.

SQLite serves one process, so `--workers` above 1 on SQLite is refused (exit 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from monitor.config import Settings, load_config
from monitor.errors import ConfigError
from monitor.lifetime import SUPERVISOR_ENV
from monitor.storage.engine import sqlite_path

log = structlog.get_logger("monitor.supervisor")

STOP_MARGIN = 5.0  # seconds past shutdown_timeout before a worker is killed
CONFIG_ERROR = 2
CLEAN_EXITS = (0, -signal.SIGTERM, -signal.SIGINT)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Restart delays: `base` doubling per consecutive crash up to `cap`."""

    base: float = 1.0
    cap: float = 60.0
    reset_after: float = 60.0  # a worker that ran this long starts the count afresh

    def delay(self, crashes: int) -> float:
        return float(min(self.cap, self.base * 2.0 ** max(0, crashes - 1)))


@dataclass
class Slot:
    """One worker position: its current process and crash history."""

    index: int
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    crashes: int = 0
    restarts: int = 0
    last_exit: int | None = None


Command = Callable[[int], Sequence[str]]
Environment = Callable[[int], Mapping[str, str]]


def _describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class Supervisor:
    """Starts `workers` processes from `command(i)`, restarts crashed ones, stops them all."""

    def __init__(
        self,
        command: Command,
        workers: int,
        *,
        stop_timeout: float,
        env: Environment | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.command = command
        self.env = env or (lambda _index: os.environ)
        self.slots = [Slot(i) for i in range(workers)]
        self.stop_timeout = stop_timeout
        self.backoff = backoff
        self.stopping = asyncio.Event()
        self.fatal: int | None = None

    def stop(self) -> None:
        """Begin a graceful stop (signal handlers call this)."""
        self.stopping.set()

    async def run(self) -> int:
        """Run until `stop()` or a fatal worker exit; return the process exit code."""
        watchers = [asyncio.create_task(self._watch(slot)) for slot in self.slots]
        await self.stopping.wait()
        self._signal_all(signal.SIGTERM)
        _, pending = await asyncio.wait(watchers, timeout=self.stop_timeout)
        if pending:
            log.error("workers did not stop in time; killing them", workers=len(pending))
            self._signal_all(signal.SIGKILL)
            await asyncio.gather(*pending, return_exceptions=True)
        return self._exit_code()

    def _exit_code(self) -> int:
        if self.fatal is not None:
            return self.fatal
        codes = [slot.last_exit for slot in self.slots if slot.last_exit is not None]
        return 0 if all(code in CLEAN_EXITS for code in codes) else 1

    def forward(self, signum: int) -> None:
        """Pass a signal (SIGHUP: reload) on to every running worker."""
        log.info("forwarding signal to workers", signal=signal.Signals(signum).name)
        self._signal_all(signum)

    async def _start(self, slot: Slot) -> asyncio.subprocess.Process:
        argv = list(self.command(slot.index))
        # The worker asks the kernel for SIGTERM when this process dies (`lifetime`), so a
        # SIGKILLed supervisor leaves no worker holding its port.
        env = dict(self.env(slot.index)) | {SUPERVISOR_ENV: str(os.getpid())}
        process = await asyncio.create_subprocess_exec(*argv, env=env)
        slot.process, slot.started_at = process, time.monotonic()
        log.info("worker started", worker=slot.index, pid=process.pid)
        return process

    async def _watch(self, slot: Slot) -> None:
        """Keep one worker running until the supervisor stops."""
        while not self.stopping.is_set():
            process = await self._start(slot)
            if self.stopping.is_set():  # stop() came while this worker was starting
                process.send_signal(signal.SIGTERM)
            slot.last_exit = code = await process.wait()
            if self.stopping.is_set():
                log.info("worker stopped", worker=slot.index, pid=process.pid, exit=code)
                return
            if code == CONFIG_ERROR:
                log.error("worker refused to start (config or usage error)", worker=slot.index)
                self.fatal = CONFIG_ERROR
                self.stop()
                return
            await self._pause_after_crash(slot, process.pid, code)

    async def _pause_after_crash(self, slot: Slot, pid: int, code: int) -> None:
        ran_for = time.monotonic() - slot.started_at
        slot.crashes = 1 if ran_for >= self.backoff.reset_after else slot.crashes + 1
        delay = self.backoff.delay(slot.crashes)
        log.warning(
            "worker exited unexpectedly; restarting",
            worker=slot.index,
            pid=pid,
            exit=_describe_exit(code),
            ran_for=round(ran_for, 1),
            restart_in=delay,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=delay)
        if not self.stopping.is_set():
            slot.restarts += 1

    def _signal_all(self, signum: int) -> None:
        for slot in self.slots:
            process = slot.process
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)


def worker_command(config: Path, *, log_format: str | None, verbose: int) -> Command:
    """The argv of worker i: this interpreter running `monitor … run`."""
    argv = [sys.executable, "-m", "monitor", "--config", str(config)]
    if log_format:
        argv += ["--log-format", log_format]
    argv += ["-v"] * verbose + ["run"]
    return lambda _index: argv


def worker_environment(settings: Settings) -> Environment:
    """Worker i's environment: ours, with its own status-server port when the server is on."""

    def env(index: int) -> Mapping[str, str]:
        values = dict(os.environ)
        if settings.server.enabled and settings.server.port:
            values["MONITOR_SERVER__PORT"] = str(settings.server.port + index)
        return values

    return env


def refuse_sqlite(settings: Settings, workers: int) -> str | None:
    """The one-line refusal for several workers on SQLite, or None."""
    if workers > 1 and settings.database.url.startswith("sqlite"):
        where = sqlite_path(settings.database.url) or "an in-memory database"
        return (
            f"{settings.source}: database.url: SQLite ({where}) serves one process;"
            f" run without --workers, or use PostgreSQL for {workers} workers"
        )
    return None


def supervise(config: Path, workers: int, *, log_format: str | None, verbose: int) -> int:
    """Run `workers` worker processes until SIGTERM/SIGINT; return the exit code."""
    try:
        settings = load_config(config, check_secrets=False)
    except ConfigError as e:
        sys.stderr.write(f"error: {e}\n")
        return CONFIG_ERROR
    refusal = refuse_sqlite(settings, workers)
    if refusal:
        sys.stderr.write(f"error: {refusal}\n")
        return CONFIG_ERROR
    supervisor = Supervisor(
        worker_command(config, log_format=log_format, verbose=verbose),
        workers,
        stop_timeout=settings.delivery.shutdown_timeout.total_seconds() + STOP_MARGIN,
        env=worker_environment(settings),
    )
    return asyncio.run(_run_with_signals(supervisor))


async def _run_with_signals(supervisor: Supervisor) -> int:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, supervisor.stop)
    loop.add_signal_handler(signal.SIGHUP, supervisor.forward, signal.SIGHUP)
    log.info("supervisor started", workers=len(supervisor.slots), pid=os.getpid())
    code = await supervisor.run()
    log.info("supervisor stopped", exit=code)
    return code
