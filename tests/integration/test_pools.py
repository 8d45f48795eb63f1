"""The fetcher's per-origin connection pools, against real servers on 127.0.0.1 (one
origin per server port): each origin keeps its own connections, idle origins beyond
`polling.concurrency` are closed least recently used first, and a failed request does
not leave its origin's pool counted as busy."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from monitor.config import PollingConfig
from monitor.errors import TransportError
from monitor.pipeline.fetch import Fetcher
from monitor.pipeline.pools import OriginPools
from tests.support.hostile_server import SCENARIO_POLLING, HostileServer

ROUTE = "/quirks/conditional"


@pytest.fixture(scope="module")
def servers() -> Iterator[list[HostileServer]]:
    with HostileServer() as a, HostileServer() as b, HostileServer() as c:
        yield [a, b, c]


def _fetcher(concurrency: int) -> Fetcher:
    return Fetcher(PollingConfig(**{**SCENARIO_POLLING, "concurrency": concurrency}))


def _pools(fetcher: Fetcher) -> OriginPools:
    transport = fetcher.client()._transport
    assert isinstance(transport, OriginPools)
    return transport


async def _not_modified(fetcher: Fetcher, server: HostileServer) -> None:
    url = server.url(ROUTE)
    first = await fetcher.get(url, max_bytes=10**6)
    assert (await fetcher.get(url, etag=first.etag, max_bytes=10**6)).not_modified


async def test_each_origin_keeps_its_own_connection(servers: list[HostileServer]) -> None:
    a, b, _ = servers
    before = [s.stats.connections for s in (a, b)]
    async with _fetcher(concurrency=4) as fetcher:
        for _ in range(3):
            await _not_modified(fetcher, a)
            await _not_modified(fetcher, b)
        assert _pools(fetcher).origins == 2
    assert [s.stats.connections - n for s, n in zip((a, b), before, strict=True)] == [1, 1]


async def test_idle_origins_beyond_the_limit_are_closed_oldest_first(
    servers: list[HostileServer],
) -> None:
    a, b, c = servers
    before = a.stats.connections
    async with _fetcher(concurrency=2) as fetcher:  # keeps 2 idle origins
        await _not_modified(fetcher, a)
        await _not_modified(fetcher, b)
        await _not_modified(fetcher, c)  # a, the least recently used, is closed
        assert _pools(fetcher).origins == 2
        await _not_modified(fetcher, c)
        await _not_modified(fetcher, a)  # reconnects
    assert a.stats.connections - before == 2


async def test_a_failed_request_does_not_keep_its_origin_busy(
    servers: list[HostileServer],
) -> None:
    a, b, _ = servers
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    async with _fetcher(concurrency=1) as fetcher:
        with pytest.raises(TransportError, match="connection refused"):
            await fetcher.get(f"http://127.0.0.1:{closed_port}/feed", max_bytes=1000)
        await _not_modified(fetcher, a)
        await _not_modified(fetcher, b)
        # Only b's pool is left: the refused origin was idle once it failed, so it went.
        assert _pools(fetcher).origins == 1
