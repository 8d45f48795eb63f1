"""Serving the app with uvicorn inside the caller's event loop (the service's, or `monitor
serve`'s), so that the process's own signal handling stays in charge: uvicorn's is off.

    server = WebServer(app, host="127.0.0.1", port=0)
    await server.start()      # listening; `server.port` is the bound port
    ...
    await server.stop()       # stop accepting, let requests in flight finish (2 s at most)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from monitor.errors import ConfigError, MonitorError

GRACE = 2.0  # seconds for requests in flight to finish at stop


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """One uvicorn server for `app` on `host:port`, started and stopped by its owner."""

    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        self.host, self.port = host, port
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="off",
            log_config=None,
            access_log=False,  # requests are not logged: a URL may carry a search an analyst ran
            proxy_headers=False,  # the client address is the peer's, never a header's claim
            server_header=False,
            timeout_graceful_shutdown=int(GRACE),
            timeout_keep_alive=5,
            limit_concurrency=256,
        )
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)

    async def start(self) -> None:
        """Listen, or raise MonitorError with one line when the address cannot be bound."""
        sock = self._bind()
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(
            self._server.serve([sock]), name=f"http {self.host}:{self.port}"
        )
        while not self._server.started:
            if self._task.done():
                raise MonitorError(f"the web server on {self.host}:{self.port} did not start")
            await asyncio.sleep(0.01)

    def _bind(self) -> socket.socket:
        # bound here, not by uvicorn, which exits the process when a bind fails
        return listening_socket(self.host, self.port)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            async with asyncio.timeout(GRACE + 1):
                await asyncio.shield(self._task)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, SystemExit, Exception):
            await self._task
        self._task = None


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port; ConfigError (exit 2) with one line when it cannot
    be bound: another process has the port, or the host is not this machine's (a config
    problem, not a crash to restart from)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        raise ConfigError(f"server: cannot listen on {host}:{port}: {e.strerror or e}") from e
    return sock
