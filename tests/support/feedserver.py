"""A real HTTP server on 127.0.0.1 serving feed files and article pages, with ETags and a
request log, for integration tests."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parents[1] / "fixtures"
CORPUS = FIXTURES / "corpus"


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    before: Callable[[], None] | None = None  # runs in the server thread before answering


class FeedServer:
    """Serves `routes` (path → Route) on 127.0.0.1:<free port>; counts every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        **kw: Any,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, content_type, **kw)
        return self.url(path)

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if p == path)

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(p for p, _ in self.requests)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        with self.lock:
            self.requests.append((path, dict(handler.headers.items())))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._respond(handler, path)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _respond(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        route = self.routes.get(path)
        if route is None:
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if route.before is not None:
            route.before()
        if route.delay:
            time.sleep(route.delay)
        etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
        if route.status == 200 and handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        handler.send_header("Content-Length", str(len(route.body)))
        handler.send_header("ETag", etag)
        for key, value in route.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(route.body)


def corpus_pages() -> list[tuple[str, bytes, str]]:
    """(page id, html bytes, ground-truth body) for the real corpus pages."""
    truth = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for path in sorted(CORPUS.glob("*.html.gz")):
        page_id = path.name.removesuffix(".html.gz")
        pages.append((page_id, gzip.decompress(path.read_bytes()), truth[page_id]["articleBody"]))
    return pages


def rss(title: str, items: list[dict[str, str]]) -> str:
    """An RSS 2.0 document with `items` (keys: title, link, guid, description, pubDate)."""
    parts = []
    for item in items:
        fields = "".join(
            f"<{k}>{v}</{k}>" for k, v in item.items() if k in ("title", "link", "guid", "pubDate")
        )
        description = item.get("description", "")
        parts.append(f"<item>{fields}<description><![CDATA[{description}]]></description></item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.org/</link><description>test</description>"
        + "".join(parts)
        + "</channel></rss>"
    )


def atom(title: str, items: list[dict[str, str]]) -> str:
    entries = "".join(
        f'<entry><title>{i["title"]}</title><link href="{i["link"]}"/><id>{i.get("guid", i["link"])}</id>'
        f"<updated>2026-11-27T10:00:00Z</updated><summary>{i.get('description', '')}</summary></entry>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:test:{title}</id><updated>2026-11-27T10:00:00Z</updated>"
        + entries
        + "</feed>"
    )


def json_feed(title: str, items: list[dict[str, str]]) -> str:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "items": [
                {
                    "id": i.get("guid", i["link"]),
                    "url": i["link"],
                    "title": i["title"],
                    "summary": i.get("description", ""),
                    "date_published": "2026-11-27T09:00:00Z",
                }
                for i in items
            ],
        }
    )


def gz(data: bytes) -> bytes:
    return gzip.compress(data)
