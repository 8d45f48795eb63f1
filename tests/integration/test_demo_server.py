"""The demo server on 127.0.0.1: every bundled file served with its base URL substituted,
feeds that parse into entries pointing at bundled pages, and conditional GETs answered 304."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest

from monitor.demo_server import DemoServer

DEMO = Path(__file__).parent.parent.parent / "monitor" / "demo_data"


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer() as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


def test_demo_data_stays_small() -> None:
    size = sum(f.stat().st_size for f in DEMO.rglob("*") if f.is_file())
    assert size < 2 * 1024 * 1024


def test_every_manifest_path_is_served_with_the_base_url(
    server: DemoServer, client: httpx.Client
) -> None:
    manifest = server.manifest
    paths = [
        item["path"]
        for section in ("feeds", "pages", "sites", "files")
        for item in manifest[section]
    ]
    assert len(manifest["feeds"]) >= 6
    assert len(manifest["pages"]) >= 30
    for path in paths:
        response = client.get(server.url(path))
        assert response.status_code == 200, path
        assert b"{{BASE}}" not in response.content
        assert server.base_url.encode() in response.content, path
        assert response.headers["etag"]
        assert response.headers["last-modified"]


def entry_links(server: DemoServer, client: httpx.Client, feed_url: str) -> list[str]:
    response = client.get(feed_url)
    if "json" in response.headers["content-type"]:
        return [item["url"] for item in json.loads(response.content)["items"]]
    parsed = feedparser.parse(
        response.content, response_headers={"content-type": response.headers["content-type"]}
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.link for entry in parsed.entries]


def test_every_feed_parses_and_links_to_bundled_pages(
    server: DemoServer, client: httpx.Client
) -> None:
    pages = {page["path"] for page in server.pages()}
    linked: set[str] = set()
    for (url, name, _tags), entry in zip(server.feed_urls(), server.manifest["feeds"], strict=True):
        links = entry_links(server, client, url)
        assert len(links) == entry["entries"], name
        for link in links:
            assert link.startswith(server.base_url)
            linked.add(urlsplit(link).path.lstrip("/"))
    assert linked == pages


def test_query_strings_are_ignored_and_unknown_paths_are_404(
    server: DemoServer, client: httpx.Client
) -> None:
    page = server.pages()[0]["path"]
    tracked = client.get(server.url(page) + "?utm_source=feed&utm_medium=rss")
    assert tracked.status_code == 200
    assert tracked.content == server.body(page)
    assert client.get(server.url("no/such/page.html")).status_code == 404
    assert client.get(server.url("README.md")).status_code == 404


def test_conditional_requests_get_304(server: DemoServer, client: httpx.Client) -> None:
    feed = server.manifest["feeds"][0]["path"]
    first = client.get(server.url(feed))
    by_etag = client.get(server.url(feed), headers={"If-None-Match": first.headers["etag"]})
    by_date = client.get(
        server.url(feed), headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    stale = client.get(server.url(feed), headers={"If-None-Match": '"something-else"'})
    assert (by_etag.status_code, by_date.status_code, stale.status_code) == (304, 304, 200)
    assert by_etag.content == b""
    statuses = [r.status for r in server.requests_for(feed)][-4:]
    assert statuses == [200, 304, 304, 200]
    assert server.requests_for(feed)[-3].headers["If-None-Match"] == first.headers["etag"]


def test_replaced_content_gets_new_validators() -> None:
    with DemoServer() as server, httpx.Client(timeout=5) as client:
        feed = server.manifest["feeds"][0]["path"]
        first = client.get(server.url(feed))
        changed = first.content.replace(b"<ttl>15</ttl>", b"<ttl>30</ttl>")
        server.replace(feed, changed, modified=datetime(2024, 5, 7, tzinfo=UTC))
        again = client.get(
            server.url(feed),
            headers={
                "If-None-Match": first.headers["etag"],
                "If-Modified-Since": first.headers["last-modified"],
            },
        )
    assert again.status_code == 200
    assert again.content == changed
    assert again.headers["etag"] != first.headers["etag"]
    assert again.headers["last-modified"] == "Tue, 07 May 2024 00:00:00 GMT"


def test_windows_1256_pages_are_served_as_recorded(
    server: DemoServer, client: httpx.Client
) -> None:
    arabic = [p for p in server.pages() if p["charset"] == "windows-1256"]
    assert arabic
    for page in arabic:
        response = client.get(server.url(page["path"]))
        assert response.headers["content-type"] == page["content_type"]
        assert page["title"] in response.content.decode("cp1256")
