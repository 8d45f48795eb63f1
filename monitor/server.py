"""The status server `monitor run` starts when `[server] enabled`: `/healthz`, `/readyz`,
`/metrics` over a minimal HTTP/1.1 on asyncio (one request per connection).

- `/healthz` — 200 while the process (its event loop) is alive.
- `/readyz` — 200 when the database answers, its migrations are current and the scheduler
  ticked recently; otherwise 503 with one line saying which failed.
- `/metrics` — the Prometheus text exposition of `monitor.metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import Clock
from monitor.config import Settings
from monitor.errors import MonitorError, StorageError
from monitor.metrics import CONTENT_TYPE, METRICS, Metrics
from monitor.storage.engine import migration_state

log = structlog.get_logger("monitor.server")

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}
_READ_TIMEOUT = 5.0
_MAX_HEADER_LINES = 100
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = TEXT


def max_tick_age(tick: timedelta) -> timedelta:
    """How long without a tick `/readyz` tolerates: three ticks, at least 30 s."""
    return max(tick * 3, timedelta(seconds=30))


def stale_tick(last_tick: datetime | None, now: datetime, max_age: timedelta) -> str | None:
    """Why the scheduler looks stuck, or None when it ticked within `max_age`."""
    if last_tick is None:
        return "scheduler has not ticked yet"
    age = now - last_tick
    if age > max_age:
        return f"scheduler has not ticked for {int(age.total_seconds())}s"
    return None


class StatusServer:
    """Serves health, readiness and metrics for one worker process."""

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
    ) -> None:
        self.engine = engine
        self.metrics = metrics
        self.clock = clock
        self.host = host
        self.port = port
        self.max_tick_age = max_tick_age
        self.db_timeout = db_timeout
        self.stopping = False
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; `port` becomes the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("status server listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        self.stopping = True
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
            self._server = None

    async def readiness(self) -> str | None:
        """None when ready, else one line saying what is wrong."""
        if self.stopping:
            return "shutting down"
        try:
            async with asyncio.timeout(self.db_timeout):
                current, head = await migration_state(self.engine)
        except TimeoutError:
            return f"database unreachable: no answer within {self.db_timeout:g}s"
        except StorageError as e:
            return str(e)
        if current != head:
            return f"migrations not current (database at {current or 'none'}, code at {head})"
        return stale_tick(self.metrics.last_tick_at, self.clock.now(), self.max_tick_age)

    async def reply(self, method: str, path: str) -> Reply:
        """The response to one request."""
        if method not in ("GET", "HEAD"):
            return Reply(405, b"only GET and HEAD\n")
        path = path.split("?", 1)[0]
        if path == "/healthz":
            return Reply(200, b"ok\n")
        if path == "/readyz":
            problem = await self.readiness()
            return Reply(503, f"{problem}\n".encode()) if problem else Reply(200, b"ready\n")
        if path == "/metrics":
            return Reply(200, self.metrics.exposition(), CONTENT_TYPE)
        return Reply(404, b"not found: try /healthz, /readyz or /metrics\n")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT):
                method, path = await _read_request(reader)
            reply = await self.reply(method, path)
            writer.write(_encode(reply, head_only=method == "HEAD"))
            await writer.drain()
        except (TimeoutError, ValueError, ConnectionError, asyncio.IncompleteReadError):
            pass  # a client that sends garbage or hangs up gets nothing
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await writer.wait_closed()


async def serve_status(
    *, engine: AsyncEngine, settings: Settings, clock: Clock, metrics: Metrics = METRICS
) -> StatusServer | None:
    """Start the status server when `[server] enabled` (else None); one clear error if the
    address is taken."""
    config = settings.server
    if not config.enabled:
        return None
    server = StatusServer(
        engine=engine,
        metrics=metrics,
        clock=clock,
        host=config.host,
        port=config.port,
        max_tick_age=max_tick_age(settings.polling.tick),
    )
    try:
        await server.start()
    except OSError as e:
        raise MonitorError(
            f"cannot serve /healthz on {config.host}:{config.port}: {e.strerror or e}"
            " (set server.port, or server.enabled = false)"
        ) from e
    return server


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    request_line = (await reader.readline()).decode("latin-1").split()
    if len(request_line) != 3:
        raise ValueError("bad request line")
    for _ in range(_MAX_HEADER_LINES):
        if (await reader.readline()) in (b"\r\n", b"\n", b""):
            return request_line[0], request_line[1]
    raise ValueError("too many header lines")


def _encode(reply: Reply, *, head_only: bool) -> bytes:
    head = (
        f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, '')}\r\n"
        f"Content-Type: {reply.content_type}\r\n"
        f"Content-Length: {len(reply.body)}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + (b"" if head_only else reply.body)
