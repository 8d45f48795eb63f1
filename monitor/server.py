"""The web server a process runs: the ASGI app of `monitor.web` on uvicorn, wired to the use
cases, for `monitor run` (when `[server] enabled`) and `monitor serve`.

- `StatusServer` serves the app for one process: `/healthz`, `/readyz` (this process's
  health: database, migrations, its scheduler's tick), `/metrics`, and — given the `Monitor`
  facade — the REST API and the console.
- `serve_status` starts it for `monitor run` when `[server] enabled`; `serve_web` is
  `monitor serve` (the app without polling, PostgreSQL only).
- `check_bind` refuses an address other than loopback while no user exists: the API would
  answer no one, and the probes alone are no reason to listen on a network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.app import open_engine
from monitor.clock import Clock
from monitor.config import Settings
from monitor.errors import ConfigError
from monitor.metrics import METRICS, Metrics
from monitor.services.health import Liveness, check_health, max_tick_age, stale_tick
from monitor.web.app import DEFAULT_MAX_BODY, create_app
from monitor.web.server import WebServer

__all__ = [
    "StatusServer",
    "check_bind",
    "max_tick_age",
    "serve_status",
    "serve_web",
    "stale_tick",
]
log = structlog.get_logger("monitor.server")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, has_users: bool) -> None:
    """ConfigError (one line) when `host` is not loopback and no user is defined."""
    if not is_loopback(host) and not has_users:
        raise ConfigError(
            f"server.host = {host!r} listens beyond this machine but no user exists: "
            "add one with `monitor users add NAME --role admin`, or keep 127.0.0.1"
        )


class StatusServer:
    """The app of one process on uvicorn; `/readyz` answers for this process."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        metrics: Metrics,
        clock: Clock,
        host: str,
        port: int,
        max_tick_age: timedelta,
        db_timeout: float = 3.0,
        monitor: Any = None,
        last_tick: Any = None,
        max_body: int | None = None,
    ) -> None:
        self.engine, self.metrics, self.clock = engine, metrics, clock
        self.host, self.port = host, port
        self.db_timeout = db_timeout
        self.stopping = False
        self.liveness = Liveness(
            last_tick=last_tick or (lambda: self.metrics.last_tick_at),
            max_age=max_tick_age,
            stopping=lambda: self.stopping,
        )
        self.app = create_app(
            monitor,
            readiness=self.readiness,
            clock=clock,
            metrics=metrics,
            max_body=max_body or DEFAULT_MAX_BODY,
        )
        self._web: WebServer | None = None

    async def readiness(self) -> str | None:
        """None when ready, else one line saying what is wrong."""
        health = await check_health(
            self.engine, self.clock.now, liveness=self.liveness, db_timeout=self.db_timeout
        )
        return health.problem

    async def start(self) -> None:
        """Listen; `port` becomes the bound port (useful with port 0)."""
        self._web = WebServer(self.app, host=self.host, port=self.port)
        await self._web.start()
        self.port = self._web.port
        log.info("web server listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        self.stopping = True
        if self._web is not None:
            await self._web.stop()
            self._web = None


def _always_now(clock: Clock) -> Any:
    def now() -> datetime:
        return clock.now()

    return now


async def serve_status(
    *,
    engine: AsyncEngine,
    settings: Settings,
    clock: Clock,
    metrics: Metrics = METRICS,
    polling: bool = True,
    reloads: list[Callable[[Settings], None]] | None = None,
    last_tick: Callable[[], datetime | None] | None = None,
) -> StatusServer | None:
    """Start the server when `[server] enabled` (else None), with the API over the use
    cases. Without `polling` (`monitor serve`) there is no scheduler to wait for: ready
    means the database answers with current migrations — unless `last_tick` says when this
    process last showed life (the demo's `Pulse`). The use cases take each reloaded config
    from `reloads` (the runtime's SIGHUP hooks)."""
    config = settings.server
    if not config.enabled and polling:
        return None
    from monitor.services.context import Context
    from monitor.services.core import Monitor

    monitor = Monitor.build(Context(settings, engine, clock))
    if reloads is not None:
        reloads.append(monitor.reload)
    check_bind(config.host, await monitor.users.any())
    server = StatusServer(
        engine=engine,
        metrics=metrics,
        clock=clock,
        host=config.host,
        port=config.port,
        max_tick_age=max_tick_age(settings.polling.tick),
        monitor=monitor,
        last_tick=last_tick or (None if polling else _always_now(clock)),
        max_body=config.max_body,
    )
    await server.start()
    return server


async def serve_web(settings: Settings, *, clock: Clock, say: Callable[[str], None]) -> None:
    """`monitor serve`: the app without polling, until SIGTERM or SIGINT (a web tier).

    PostgreSQL only: on SQLite the one writer is `monitor run`, which serves the same app
    when `[server] enabled`."""
    if settings.database.url.startswith("sqlite"):
        raise ConfigError(
            "monitor serve needs PostgreSQL: on SQLite, `monitor run` serves the API itself"
            " (set server.enabled = true)"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with open_engine(settings, migrate=True) as engine:
        server = await serve_status(engine=engine, settings=settings, clock=clock, polling=False)
        assert server is not None
        say(f"serving http://{server.host}:{server.port}/ (API at /api/v1, SIGTERM stops)")
        await stop.wait()
        await server.stop()
