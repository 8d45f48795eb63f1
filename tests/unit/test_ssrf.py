"""The SSRF guard's address classification and connect-time enforcement, with no connection at all."""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import pytest
from pydantic import ValidationError

from monitor.config import PollingConfig
from monitor.errors import BlockedAddress, TransportError
from monitor.pipeline.redirects import checked_url
from monitor.pipeline.ssrf import (
    GuardedBackend,
    Resolver,
    allowed_addresses,
    ip_literal,
    parse_networks,
    refusal_message,
    refusal_reason,
)

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.1.1", "link-local"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "private"),  # reserved 240/4; Python files it under private too
    ("255.255.255.255", "private"),
    ("100.64.0.1", "non-public"),  # carrier-grade NAT
    ("198.18.0.1", "private"),  # benchmarking
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),  # unique local
    ("fd12:3456:789a::1", "private"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:7f00:2", "loopback"),  # IPv4-mapped, hex form
    ("::ffff:169.254.169.254", "cloud metadata"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::a9fe:a9fe", "cloud metadata"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
    ("::7f00:1", "reserved"),  # deprecated IPv4-compatible form
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2001:4860:4860::8888",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of a public address (IPv6-only networks need it)
    "2002:808:808::",
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal_reason(address) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(address) is None


@pytest.mark.parametrize(
    ("address", "allow", "allowed"),
    [
        ("127.0.0.1", ["127.0.0.0/8"], True),
        ("127.0.0.2", ["127.0.0.1/32"], False),
        ("127.0.0.1", ["127.0.0.1/32"], True),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"], True),
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("10.1.2.3", ["192.168.0.0/16"], False),
        ("169.254.169.254", ["127.0.0.0/8"], False),
        ("169.254.169.254", ["169.254.169.254/32"], True),
        ("fd00::5", ["fd00::/8"], True),
        ("::1", ["127.0.0.0/8"], False),
    ],
)
def test_allow_networks_open_exactly_the_listed_ranges(
    address: str, allow: list[str], allowed: bool
) -> None:
    assert (refusal_reason(address, parse_networks(allow)) is None) is allowed


def test_parse_networks_accepts_host_bits() -> None:
    assert [str(n) for n in parse_networks(["127.0.0.1/8", "::1"])] == ["127.0.0.0/8", "::1/128"]


def test_refusal_message_is_one_human_line() -> None:
    assert refusal_message("127.0.0.2", "loopback") == (
        "refused address 127.0.0.2 (loopback, not in polling.allow_networks)"
    )


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/feed", "gopher://x/", "data:text/plain,hi"]
)
def test_non_http_schemes_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress, match="refused scheme"):
        checked_url(url)


def test_url_without_host_is_an_error() -> None:
    with pytest.raises(TransportError, match="no host"):
        checked_url("http:///feed")


# --- connect-time enforcement, with a fake resolver and a fake inner backend ------------------


def fake_resolver(answers: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return answers.get(host, [])

    return resolve


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records where it was asked to connect; never touches the network."""

    def __init__(self, peer: str | None = None) -> None:
        self.connects: list[tuple[str, int]] = []
        self.streams: list[PeerStream] = []
        self.peer = peer

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        self.streams.append(PeerStream(self.peer or host, port))
        return self.streams[-1]


class PeerStream(httpcore.AsyncMockStream):
    def __init__(self, host: str, port: int) -> None:
        super().__init__([])
        self.peer = (host, port)
        self.closed = False

    def get_extra_info(self, info: str) -> object:
        return self.peer if info == "server_addr" else None

    async def aclose(self) -> None:
        self.closed = True


async def test_guard_connects_only_to_the_checked_address() -> None:
    inner = RecordingBackend()
    resolver = fake_resolver({"feeds.example": ["127.0.0.2", "127.0.0.1"]})
    guard = GuardedBackend(parse_networks(["127.0.0.1/32"]), inner=inner, resolver=resolver)
    await guard.connect_tcp("feeds.example", 80)
    assert inner.connects == [("127.0.0.1", 80)]  # the IP literal, never the name again


async def test_guard_refuses_before_connecting() -> None:
    inner = RecordingBackend()
    resolver = fake_resolver({"metadata.example": ["169.254.169.254"]})
    guard = GuardedBackend((), inner=inner, resolver=resolver)
    with pytest.raises(BlockedAddress, match=r"refused address 169\.254\.169\.254"):
        await guard.connect_tcp("metadata.example", 80)
    assert inner.connects == []


async def test_guard_checks_the_peer_actually_connected() -> None:
    inner = RecordingBackend(peer="10.0.0.7")  # e.g. a transparent redirect under us
    resolver = fake_resolver({"public.example": ["93.184.216.34"]})
    guard = GuardedBackend((), inner=inner, resolver=resolver)
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7"):
        await guard.connect_tcp("public.example", 443)
    assert inner.streams[0].closed


async def test_guard_lets_the_configured_proxy_through() -> None:
    inner = RecordingBackend()
    guard = GuardedBackend((), inner=inner, trusted_hosts=["proxy.internal"])
    await guard.connect_tcp("proxy.internal", 3128)
    assert inner.connects == [("proxy.internal", 3128)]


async def test_guard_refuses_unix_sockets() -> None:
    with pytest.raises(BlockedAddress):
        await GuardedBackend(()).connect_unix_socket("/var/run/docker.sock")


async def test_allowed_addresses_filters_and_names_the_refused_one() -> None:
    mixed = fake_resolver({"h": ["10.0.0.1", "93.184.216.34"], "bad": ["fd00::1"], "none": []})
    assert await allowed_addresses("h", 80, (), mixed) == ["93.184.216.34"]
    with pytest.raises(BlockedAddress, match=r"fd00::1 \(private"):
        await allowed_addresses("bad", 80, (), mixed)
    with pytest.raises(TransportError, match="DNS lookup failed"):
        await allowed_addresses("none", 80, (), mixed)


# --- hosts written as IP literals, and allow_networks that would let everything through ------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.2", "127.0.0.2"),
        ("127.0.0.2.", "127.0.0.2"),
        ("169.254.169.254.", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.2", "::ffff:7f00:2"),
        ("feeds.example", None),
        ("feeds.example.", None),
        ("127.0.0.2..", None),
        ("", None),
    ],
)
def test_ip_literal_reads_a_trailing_dot_as_the_address(host: str, address: str | None) -> None:
    found = ip_literal(host)
    assert (str(found) if found is not None else None) == address


def test_a_trailing_dot_ip_is_classified_as_that_ip() -> None:
    allow = parse_networks(["127.0.0.1/32"])
    literal = ip_literal("127.0.0.2.")
    assert literal is not None
    assert refusal_reason(literal, allow) == "loopback"
    assert refusal_reason(literal, parse_networks(["127.0.0.0/8"])) is None


async def test_a_trailing_dot_ip_is_never_handed_to_the_resolver() -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["93.184.216.34"]  # what a hostile DNS server would answer for it

    with pytest.raises(BlockedAddress, match=r"refused address 127\.0\.0\.2 \(loopback"):
        await allowed_addresses("127.0.0.2.", 80, parse_networks(["127.0.0.1/32"]), resolver)
    assert asked == []


@pytest.mark.parametrize(
    "networks",
    [
        ["0.0.0.0/0"],
        ["::/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["127.0.0.0/8", "0.0.0.0/0"],
        ["::ffff:0:0/96"],  # every IPv4 address, written as IPv4-mapped IPv6
    ],
)
def test_allow_networks_that_cover_everything_need_the_second_key(networks: list[str]) -> None:
    with pytest.raises(ValidationError, match="lets every address through"):
        PollingConfig(allow_networks=networks)
    assert PollingConfig(allow_networks=networks, allow_all_networks=True).allow_networks


@pytest.mark.parametrize("networks", [["127.0.0.0/8"], ["10.0.0.0/8", "::1/128"], ["0.0.0.0/1"]])
def test_allow_networks_short_of_everything_are_fine(networks: list[str]) -> None:
    assert PollingConfig(allow_networks=networks).allow_networks == tuple(networks)
