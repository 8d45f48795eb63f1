"""A local web server for the bundled demo data: recorded feeds and article pages on 127.0.0.1.

`DemoServer` serves what `monitor/demo_data/manifest.json` lists (nothing else) from a
background thread, replacing the `{{BASE}}` placeholder in every file with its own base URL,
so feed links and canonical URLs point back at it. Each response carries a strong ETag and a
Last-Modified date and honours If-None-Match / If-Modified-Since, so a second polling round
gets 304s. `replace()` swaps a file's content at run time (a feed that gained entries) and
`requests` records what was asked, for tests that count requests.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

PLACEHOLDER = b"{{BASE}}"
RECORDED_AT = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)  # Last-Modified of the bundled files


@dataclass(frozen=True, slots=True)
class Served:
    """One response body the server can send, with its validators."""

    body: bytes
    content_type: str
    etag: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class Request:
    """A request the server answered (for tests that count requests)."""

    method: str
    path: str
    status: int
    headers: dict[str, str]


def load_manifest() -> dict[str, Any]:
    """The bundled manifest: feeds, pages, sites and other files, with their metadata."""
    data: dict[str, Any] = json.loads(
        (files("monitor") / "demo_data" / "manifest.json").read_text("utf-8")
    )
    return data


def file_for(path: str) -> str:
    """The bundled file behind a URL path ("x/" → "x/index.html")."""
    return path + "index.html" if path.endswith("/") else path


def _entity_tag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _served(body: bytes, content_type: str, modified: datetime) -> Served:
    return Served(body, content_type, _entity_tag(body), modified)


def _is_fresh(headers: Any, served: Served) -> bool:
    """True when the client's validators show it already has this version."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or served.etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and served.last_modified <= since


class DemoServer:
    """Serves the bundled demo data on 127.0.0.1:<free port> until the `with` block ends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.manifest = load_manifest()
        self._lock = threading.Lock()
        self._files: dict[str, Served] = {}
        self.requests: list[Request] = []
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="demo-server", daemon=True
        )
        self._load_files()

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _load_files(self) -> None:
        root = files("monitor") / "demo_data"
        base = self.base_url.encode("ascii")
        for section in ("feeds", "pages", "sites", "files"):
            for item in self.manifest[section]:
                body = (root / file_for(item["path"])).read_bytes().replace(PLACEHOLDER, base)
                self._files[item["path"]] = _served(body, item["content_type"], RECORDED_AT)

    def url(self, path: str) -> str:
        """The absolute URL of a manifest path."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def feed_urls(self) -> list[tuple[str, str, list[str]]]:
        """Every bundled feed as (url, name, tags), ready for the config's `[[feeds]]`."""
        return [(self.url(f["path"]), f["name"], list(f["tags"])) for f in self.manifest["feeds"]]

    def pages(self) -> list[dict[str, Any]]:
        """The manifest entries of the article pages (title, language, kind, expectations …)."""
        return list(self.manifest["pages"])

    def replace(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str | None = None,
        modified: datetime | None = None,
    ) -> None:
        """Serve new content at `path` (placeholder substituted), with a new ETag and
        Last-Modified (`modified`, default now); `path` may be new if `content_type` is given."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        raw = raw.replace(PLACEHOLDER, self.base_url.encode("ascii"))
        with self._lock:
            current = self._files.get(path)
            kind = content_type or (current.content_type if current else "application/octet-stream")
            when = modified or datetime.now(UTC).replace(microsecond=0)
            self._files[path] = _served(raw, kind, when)

    def body(self, path: str) -> bytes:
        """What the server currently sends for `path`."""
        with self._lock:
            return self._files[path].body

    def lookup(self, path: str) -> Served | None:
        with self._lock:
            return self._files.get(path)

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_for(self, path: str) -> list[Request]:
        """The requests made so far for one manifest path."""
        with self._lock:
            return [r for r in self.requests if r.path == path]


def _handler_for(server: DemoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_DemoHandler):
        demo = server

    return Handler


class _DemoHandler(BaseHTTPRequestHandler):
    """GET/HEAD of manifest paths; the query string is ignored (tracking params)."""

    demo: DemoServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes on a kept-alive socket
    server_version = "feed-monitor-demo"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path).lstrip("/")
        served = self.demo.lookup(path)
        if served is None:
            status = HTTPStatus.NOT_FOUND
        elif _is_fresh(self.headers, served):
            status = HTTPStatus.NOT_MODIFIED
        else:
            status = HTTPStatus.OK
        # Recorded before the answer goes out: a client sends its next request only after
        # this answer, so the record keeps the order of the requests, whichever connection
        # (and thread) serves the next one.
        self.demo.record(Request(self.command, path, int(status), dict(self.headers.items())))
        if served is None:
            self._send(status, b"not found\n", "text/plain; charset=utf-8", send_body=send_body)
        elif status == HTTPStatus.NOT_MODIFIED:
            self._send(status, b"", None, send_body=False, served=served)
        else:
            self._send(status, served.body, served.content_type, send_body=send_body, served=served)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        *,
        send_body: bool,
        served: Served | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if served is not None:
            self.send_header("ETag", served.etag)
            self.send_header("Last-Modified", format_datetime(served.last_modified, usegmt=True))
            self.send_header("Cache-Control", "max-age=0")
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the demo prints its own summary."""
