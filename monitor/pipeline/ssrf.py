"""The SSRF guard: which IP addresses the fetcher may connect to, enforced at connect time.

`refusal_reason` is pure: it classifies one address (loopback, private, link-local incl.
the 169.254.169.254 cloud-metadata address, multicast, reserved, unspecified, other
non-public ranges) against `polling.allow_networks`, looking through IPv4-mapped,
6to4 and NAT64 IPv6 forms at the IPv4 address they carry.

`ip_literal` reads a host written as an IP address, brackets and one trailing dot allowed
(`127.0.0.2.` is 127.0.0.2): such a host is checked as that address and never resolved.

`GuardedBackend` is the httpcore network backend that enforces it: it resolves the host
itself, drops every refused address, and connects to one of the checked IP literals,
so a second DNS answer (rebinding) can never slip in between the check and the
connect. TLS still uses the original host name for SNI and certificate checks because
httpcore passes it to `start_tls` separately.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore
import httpx

from monitor.errors import BlockedAddress, TransportError
from monitor.pipeline.pools import OriginPools

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
METADATA_ADDRESS = ipaddress.IPv4Address("169.254.169.254")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """Turn `polling.allow_networks` strings into networks (hosts bits allowed)."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def ip_literal(host: str) -> Address | None:
    """The address a host written as an IP literal stands for, else None (a name)."""
    bare = host.strip()
    if bare.startswith("[") and bare.endswith("]"):
        bare = bare[1:-1]
    elif bare.endswith(".") and ":" not in bare:
        bare = bare[:-1]
    try:
        return ipaddress.ip_address(bare.split("%")[0])
    except ValueError:
        return None


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4 or NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _category(address: Address) -> str | None:
    """Why this bare address is not a public unicast address, or None if it is."""
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address == METADATA_ADDRESS, "cloud metadata"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "non-public"),
    )
    return next((reason for hit, reason in checks if hit), None)


def refusal_reason(address: str | Address, allow: Sequence[Network] = ()) -> str | None:
    """None when the guard lets the fetcher connect to `address`, else a short reason.

    An address inside `allow` is always allowed; otherwise both the address and the IPv4
    address it embeds must be public unicast.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    inner = embedded_ipv4(ip)
    candidates = [ip] if inner is None else [ip, inner]
    if any(candidate in network for candidate in candidates for network in allow):
        return None
    # A mapped, 6to4 or NAT64 address goes where its IPv4 address goes.
    return _category(ip if inner is None else inner)


def refusal_message(address: str, reason: str) -> str:
    """The one-line health text for a refused address."""
    return f"refused address {address} ({reason}, not in polling.allow_networks)"


def check_address(address: str, allow: Sequence[Network]) -> None:
    """Raise BlockedAddress unless the guard allows `address`."""
    reason = refusal_reason(address, allow)
    if reason is not None:
        raise BlockedAddress(refusal_message(address, reason))


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve `host` with the system resolver; IP literals come back unchanged."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise TransportError(f"DNS lookup failed for {host}") from e
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def allowed_addresses(
    host: str, port: int, allow: Sequence[Network], resolver: Resolver = system_resolver
) -> list[str]:
    """Resolve `host` and keep the addresses the guard allows; raise if none is left.

    A host written as an IP literal is that address: it is not handed to the resolver."""
    literal = ip_literal(host)
    addresses = [str(literal)] if literal is not None else await resolver(host, port)
    if not addresses:
        raise TransportError(f"DNS lookup failed for {host}")
    allowed = [a for a in addresses if refusal_reason(a, allow) is None]
    if not allowed:
        check_address(addresses[0], allow)
    return allowed


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only ever connects to addresses the guard allows.

    `trusted_hosts` (the configured proxy) skip the check: the operator named them.
    """

    def __init__(
        self,
        allow: Sequence[Network],
        *,
        inner: httpcore.AsyncNetworkBackend | None = None,
        resolver: Resolver = system_resolver,
        trusted_hosts: Iterable[str] = (),
    ) -> None:
        self._allow = tuple(allow)
        self._inner = inner or httpcore.AnyIOBackend()
        self._resolver = resolver
        self._trusted = frozenset(h.lower() for h in trusted_hosts)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host.lower() in self._trusted:
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        last_error: Exception | None = None
        for address in await allowed_addresses(host, port, self._allow, self._resolver):
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last_error = e
                continue
            return await self._verified(stream)
        assert last_error is not None
        raise last_error

    async def _verified(self, stream: httpcore.AsyncNetworkStream) -> httpcore.AsyncNetworkStream:
        """Check the peer the socket is really connected to (belt and braces)."""
        peer = stream.get_extra_info("server_addr")
        if isinstance(peer, tuple) and peer:
            address = str(peer[0]).split("%")[0]
            reason = refusal_reason(address, self._allow)
            if reason is not None:
                await stream.aclose()
                raise BlockedAddress(refusal_message(address, reason))
        return stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("refused unix socket target")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(
    allow: Sequence[Network],
    *,
    proxy: str = "",
    max_keepalive: int = 32,
    per_origin: int = 2,
    resolver: Resolver = system_resolver,
) -> OriginPools:
    """An httpx transport whose every TCP connect goes through `GuardedBackend`: one pool
    per origin (`pools.OriginPools`), at most `per_origin` connections kept in each and
    the pools of at most `max_keepalive` idle origins kept open.

    httpx does not take a network backend, so the guard is installed on each transport's
    httpcore pool (direct, HTTP proxy or SOCKS: all three keep it in `_network_backend`).
    """
    trusted = [httpx.URL(proxy).host] if proxy else []
    ssl_context = httpx.create_ssl_context()  # one for all origins: loading CAs is slow

    def one_origin() -> httpx.AsyncHTTPTransport:
        transport = httpx.AsyncHTTPTransport(
            verify=ssl_context,
            proxy=proxy or None,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=per_origin),
        )
        pool = transport._pool
        if not hasattr(pool, "_network_backend"):  # pragma: no cover - httpx internals moved
            raise RuntimeError("cannot install the SSRF guard on this httpx version")
        pool._network_backend = GuardedBackend(allow, resolver=resolver, trusted_hosts=trusted)
        return transport

    return OriginPools(one_origin, keep=max_keepalive)
