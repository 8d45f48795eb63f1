"""What the fetcher captures for evidence, against a real server on 127.0.0.1: every hop's
request and response headers with credentials redacted, the peer address, and the body as
received (still gzip-encoded) beside the decoded one; nothing when capture is off."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from monitor.config import PollingConfig
from monitor.pipeline.capture import REDACTED
from monitor.pipeline.fetch import PAGE_ACCEPT, Fetcher
from tests.support.feedserver import FeedServer

PAGE = b"<html><body><p>" + b"Body text of the page. " * 50 + b"</p></body></html>"
STAMP = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        srv.add("/page", gzip.compress(PAGE), headers={"Content-Encoding": "gzip"})
        srv.add("/moved", b"", status=308, headers={"Location": "/page"})
        yield srv


def fetcher() -> Fetcher:
    polling = PollingConfig(allow_networks=("127.0.0.0/8",))
    return Fetcher(polling, now=lambda: STAMP)


async def test_capture_keeps_hops_peer_raw_body_and_redacts_credentials(
    server: FeedServer,
) -> None:
    async with fetcher() as client:
        response = await client.get(
            server.url("/moved"),
            headers={"Authorization": "Bearer s3cret", "X-Trace": "1"},
            max_bytes=1_000_000,
            accept=PAGE_ACCEPT,
            capture=True,
        )
    capture = response.capture
    assert capture is not None
    assert response.body == PAGE
    assert capture.raw_body == server.routes["/page"].body
    assert gzip.decompress(capture.raw_body) == PAGE
    assert [(e.url, e.status) for e in capture.exchanges] == [
        (server.url("/moved"), 308),
        (server.url("/page"), 200),
    ]
    first = dict(capture.exchanges[0].request_headers)
    assert first["authorization"] == REDACTED
    assert first["x-trace"] == "1"
    assert "s3cret" not in repr(capture)
    final = capture.final
    assert (final.peer_ip, final.http_version, final.reason) == ("127.0.0.1", "HTTP/1.1", "OK")
    assert ("content-encoding", "gzip") in final.response_headers
    assert (capture.request_url, capture.fetched_at) == (server.url("/moved"), STAMP)


async def test_no_capture_unless_asked(server: FeedServer) -> None:
    async with fetcher() as client:
        response = await client.get(server.url("/page"), max_bytes=1_000_000)
    assert response.capture is None
    assert response.body == PAGE
