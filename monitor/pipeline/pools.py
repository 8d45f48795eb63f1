"""One small connection pool per origin, behind one httpx transport.

httpcore's pool scans every connection it holds on each request and on each response
close (an expiry check that asks the socket whether it is readable, and a quadratic count
of idle connections). With `polling.concurrency` connections kept alive across many hosts,
that scan cost more than the request it served in a round of 304s. Here each origin
(scheme, host, port) gets its own pool of at most `per_host` kept connections, and the
pools of origins no request is using are closed, least recently used first, once more
than `keep` of them are idle: the same number of sockets kept open, each request
scanning only its own origin's few.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress

import httpx

Origin = tuple[str, str, int | None]


class _Pool:
    """One origin's transport and how many responses of it are still open."""

    __slots__ = ("active", "transport")

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport
        self.active = 0


class OriginPools(httpx.AsyncBaseTransport):
    """Dispatches each request to its origin's transport (made by `make`); keeps the
    transports of at most `keep` idle origins open."""

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport], *, keep: int) -> None:
        self._make = make
        self._keep = keep
        self._pools: OrderedDict[Origin, _Pool] = OrderedDict()  # least recently used first

    @property
    def origins(self) -> int:
        """How many origins have a pool open (idle or in use)."""
        return len(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = (request.url.scheme, request.url.host, request.url.port)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = _Pool(self._make())
        self._pools.move_to_end(origin)
        pool.active += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            await self._release(pool)
            raise
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)  # an async transport's body
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Released(stream, lambda: self._release(pool)),
            extensions=response.extensions,
        )

    async def _release(self, pool: _Pool) -> None:
        pool.active -= 1
        if pool.active:
            return
        idle = [origin for origin, p in self._pools.items() if not p.active]
        for origin in idle[: max(0, len(idle) - self._keep)]:
            closing = self._pools.pop(origin)
            with suppress(Exception):  # its sockets are gone either way
                await closing.transport.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()


class _Released(httpx.AsyncByteStream):
    """A response body that tells its origin's pool, once, when it is closed."""

    def __init__(
        self, inner: httpx.AsyncByteStream, release: Callable[[], Awaitable[None]]
    ) -> None:
        self._inner = inner
        self._release: Callable[[], Awaitable[None]] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                await release()
