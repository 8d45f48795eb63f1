"""The benchmark's HTTP server: a raw asyncio HTTP/1.1 server in its own process.

Every response is built before the first request (status line, headers, body; a gzip
variant for clients that accept it), so a request costs a dictionary lookup and one write,
and a 304 costs even less: what is measured is the client, not this server. It listens on
several ports of 127.0.0.1 at once (one "host" per port), answers `If-None-Match` with
304, counts what it served (`GET /__stats`) and doubles as a webhook receiver (`POST
/hook` records the arrival time and the `webhook-id`).

`python -m bench.server SPEC_JSON` prints `{"ports": [...]}` on its first stdout line once
it listens, and exits when its stdin closes (the parent died or is done).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bench.site import Site, SiteSpec

_GZIP_MIN = 1024
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
_OK_EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@dataclass(frozen=True, slots=True)
class _Prepared:
    etag: bytes
    plain: bytes
    gzipped: bytes
    not_modified: bytes
    kind: str  # feed | page


def _head(status: str, fields: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def prepare(content_type: str, body: bytes, kind: str) -> _Prepared:
    """The full responses of one route: plain, gzip (when worth it) and 304."""
    etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
    common = [("Content-Type", content_type), ("ETag", etag), ("Vary", "Accept-Encoding")]
    plain = _head("200 OK", [*common, ("Content-Length", str(len(body)))]) + body
    gzipped = plain
    if len(body) >= _GZIP_MIN:
        packed = gzip.compress(body, compresslevel=1, mtime=0)
        fields = [*common, ("Content-Encoding", "gzip"), ("Content-Length", str(len(packed)))]
        gzipped = _head("200 OK", fields) + packed
    not_modified = _head("304 Not Modified", [("ETag", etag), ("Content-Length", "0")])
    return _Prepared(etag.encode(), plain, gzipped, not_modified, kind)


class Routes:
    """The prepared responses and the counters of one server process."""

    def __init__(self, site: Site) -> None:
        self.table = {
            path.encode(): prepare(ctype, body, "feed" if path.startswith("/feeds/") else "page")
            for path, (ctype, body) in site.routes().items()
        }
        self.counts: Counter[str] = Counter()
        self.hooks: list[tuple[float, str]] = []

    def respond(
        self, method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> bytes:
        if method == b"POST" and path.startswith(b"/hook"):
            self.hooks.append((time.time(), headers.get(b"webhook-id", b"").decode()))
            self.counts["hook"] += 1
            return _OK_EMPTY
        route = self.table.get(path)
        if route is None:
            return self._special(path)
        if headers.get(b"if-none-match") == route.etag:
            self.counts[f"{route.kind}_304"] += 1
            return route.not_modified
        self.counts[f"{route.kind}_200"] += 1
        return route.gzipped if b"gzip" in headers.get(b"accept-encoding", b"") else route.plain

    def _special(self, path: bytes) -> bytes:
        if path == b"/__stats":
            data = json.dumps({"counts": dict(self.counts), "hooks": self.hooks}).encode()
            return (
                _head(
                    "200 OK",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
                )
                + data
            )
        if path == b"/__reset":
            self.counts.clear()
            self.hooks.clear()
            return _OK_EMPTY
        self.counts["404"] += 1
        return _NOT_FOUND


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; requests are answered in order as they complete."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.routes.counts["connections"] += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, path = ([*lines[0].split(b" "), b"", b""])[:2]
            self.transport.write(self.routes.respond(method, path, headers, body))
            if headers.get(b"connection", b"").lower() == b"close":
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def _serve(spec: SiteSpec) -> None:
    loop = asyncio.get_running_loop()
    holder: dict[str, Routes] = {}
    servers = [
        await loop.create_server(
            lambda: _Connection(holder["routes"]), "127.0.0.1", 0, backlog=4096
        )
        for _ in range(spec.ports)
    ]
    ports = tuple(s.sockets[0].getsockname()[1] for s in servers)
    holder["routes"] = Routes(Site(spec, ports))
    print(json.dumps({"ports": ports}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    for server in servers:
        server.close()


class SiteServer:
    """Runs `python -m bench.server` for a spec; `site` is the spec bound to its ports."""

    def __init__(self, spec: SiteSpec) -> None:
        self.spec = spec
        self.process: subprocess.Popen[str] | None = None
        self.site = Site(spec, ())

    def __enter__(self) -> Self:
        root = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.server", json.dumps(asdict(self.spec))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark server did not start")
        self.site = Site(self.spec, tuple(json.loads(line)["ports"]))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stats(self) -> dict[str, Any]:
        """What the server has served since start (or the last reset)."""
        data: dict[str, Any] = json.loads(self._get("/__stats"))
        return data

    def reset(self) -> None:
        self._get("/__reset")

    def _get(self, path: str) -> bytes:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.site.base(0) + path, timeout=30) as reply:
            body: bytes = reply.read()
        return body


if __name__ == "__main__":
    asyncio.run(_serve(SiteSpec(**json.loads(sys.argv[1]))))
