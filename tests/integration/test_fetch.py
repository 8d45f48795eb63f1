"""Fetch + parse against a hostile HTTP server on 127.0.0.1: every scenario gives one clear health line."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.config import PollingConfig
from monitor.errors import (
    BlockedAddress,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ParseError,
    TransportError,
)
from monitor.models import ParsedFeed, Response
from monitor.pipeline.discover import discover_feed
from monitor.pipeline.fetch import Fetcher
from monitor.pipeline.headers import parse_max_age, parse_retry_after, split_content_type
from monitor.pipeline.parse import parse_feed
from tests.support.hostile_server import (
    SCENARIO_POLLING,
    SCENARIOS,
    HostileServer,
    Reply,
    Scenario,
)

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running
    assert running.stats.canary_connections == 0  # nothing ever reached 127.0.0.2


def polling(**overrides: Any) -> PollingConfig:
    return PollingConfig(**{**SCENARIO_POLLING, **overrides})


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(polling()) as running:
        yield running


class Outcome:
    """What one poll of one feed came to: the health line, and the response and feed if any."""

    def __init__(self) -> None:
        self.health = ""
        self.response: Response | None = None
        self.feed: ParsedFeed | None = None


async def poll(fetcher: Fetcher, url: str, **kwargs: Any) -> Outcome:
    outcome = Outcome()
    try:
        response = await fetcher.get(url, max_bytes=fetcher.polling.max_feed_bytes, **kwargs)
        outcome.response = response
        if not response.not_modified:
            outcome.feed = parse_feed(
                response.body,
                url=response.url,
                content_type=response.content_type,
                charset=response.charset,
                now=NOW,
            )
    except (FetchError, ParseError) as e:
        outcome.health = str(e)
    return outcome


def titles(outcome: Outcome) -> list[str]:
    assert outcome.feed is not None
    return [e.title for e in outcome.feed.entries]


# What else each scenario must show, beyond its health line.
CHECKS: dict[str, Callable[[Outcome, HostileServer], object]] = {
    "rss 2.0": lambda o, s: len(titles(o)) == 4,
    "rss 1.0 / rdf": lambda o, s: len(titles(o)) == 3,
    "atom": lambda o, s: titles(o)[0] == "Water rationing extended in Mashhad & Nishapur",
    "json feed 1.1": lambda o, s: len(titles(o)) == 2,
    "json feed 1": lambda o, s: titles(o)[0] == "Gwadar ferry service to Muscat delayed again",
    "windows-1256 arabic, header says iso-8859-1": lambda o, s: (
        titles(o)[1] == "طهران تعلن خطة جديدة لترشيد استهلاك الكهرباء"
        and o.response is not None
        and o.response.charset == "iso-8859-1"
    ),
    "windows-1251 russian, no header charset": lambda o, s: titles(o)[1].startswith("Курс тенге"),
    "windows-1251 russian, no labels at all": lambda o, s: titles(o)[0].startswith("В Душанбе"),
    "mislabelled utf-8": lambda o, s: titles(o)[1] == "د کندهار په ښار کې د اوبو کمښت زیات شوی",
    "bozo but sound (&nbsp;, bare &)": lambda o, s: (
        len(titles(o)) == 2 and o.feed is not None and "undefined entity" in o.feed.warning
    ),
    "truncated xml": lambda o, s: len(titles(o)) == 3,
    "duplicate guids": lambda o, s: len(titles(o)) == 2,
    "entries without guid or link": lambda o, s: len(titles(o)) == 3,
    "future and odd dates": lambda o, s: (
        o.feed is not None and o.feed.entries[0].published_at == NOW
    ),
    "relative links": lambda o, s: (
        o.feed is not None and o.feed.entries[0].url == s.url("/news/2026/11/27/herat-airport")
    ),
    "html entities in titles": lambda o, s: titles(o)[0].startswith("Muzaffarabad & Neelum"),
    "10,000 items": lambda o, s: len(titles(o)) == 10_000,
    "gzip body": lambda o, s: len(titles(o)) == 4,
    "deflate body": lambda o, s: len(titles(o)) == 4,
    "brotli body": lambda o, s: len(titles(o)) == 4,
    "no content-length, close-delimited": lambda o, s: len(titles(o)) == 2,
    "cache-control max-age": lambda o, s: o.response is not None and o.response.max_age == 600,
    "conditional get": lambda o, s: o.response is not None and o.response.etag == '"rss2-v1"',
    "billion laughs entities": lambda o, s: o.feed is not None and len(o.feed.title) < 100,
    "301 permanent redirect": lambda o, s: (
        o.response is not None and o.response.permanent_url == s.url("/feeds/rss2.xml")
    ),
    "302 temporary redirect": lambda o, s: (
        o.response is not None
        and o.response.permanent_url is None
        and o.response.url == s.url("/feeds/rss2.xml")
    ),
    "307 temporary redirect": lambda o, s: (
        o.response is not None and o.response.permanent_url is None
    ),
    "308 permanent redirect": lambda o, s: (
        o.response is not None and o.response.permanent_url == s.url("/feeds/atom.xml")
    ),
    "5 redirects": lambda o, s: len(titles(o)) == 4,
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
async def test_scenario(scenario: Scenario, server: HostileServer, fetcher: Fetcher) -> None:
    outcome = await poll(fetcher, server.url(scenario.route))
    if scenario.health:
        assert scenario.health in outcome.health
        assert "\n" not in outcome.health
        assert len(outcome.health) < 200
    else:
        assert outcome.health == ""
    check = CHECKS.get(scenario.name)
    if check is not None:
        assert check(outcome, server)


def test_the_scenario_table_is_big_enough() -> None:
    assert len(SCENARIOS) >= 30
    assert sum(1 for s in SCENARIOS if s.health) >= 20


async def test_other_feeds_still_flow_while_one_drips(
    server: HostileServer, fetcher: Fetcher
) -> None:
    routes = ["/hostile/drip", "/feeds/atom.xml", "/hostile/gzip-bomb", "/feeds/rss2.xml"]
    outcomes = await asyncio.gather(*(poll(fetcher, server.url(r)) for r in routes))
    assert [o.health.split(" (")[0] for o in outcomes] == [
        "timeout after 1s",
        "",
        "gzip body expands past 5 MB",
        "",
    ]


# --- errors carry what the scheduler needs --------------------------------------------------


async def test_retry_after_seconds_and_date(server: HostileServer, fetcher: Fetcher) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.get(server.url("/status/429"), max_bytes=1000)
    assert (caught.value.status, caught.value.retry_after) == (429, 120)
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.get(server.url("/status/503-date"), max_bytes=1000)
    assert caught.value.status == 503
    assert caught.value.retry_after == pytest.approx(300, abs=1)


async def test_gone_and_not_found_are_status_errors(
    server: HostileServer, fetcher: Fetcher
) -> None:
    for code in (404, 410, 500):
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(server.url(f"/status/{code}"), max_bytes=1000)
        assert caught.value.status == code
        assert caught.value.retry_after is None


async def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError, match="connection refused"):
        await fetcher.get(f"http://127.0.0.1:{port}/feed", max_bytes=1000)


# --- redirects ------------------------------------------------------------------------------


async def test_permanent_url_only_for_a_permanent_chain_from_the_start(
    server: HostileServer, fetcher: Fetcher
) -> None:
    moved = await fetcher.get(server.url("/redirect/301-then-302"), max_bytes=10**6)
    assert moved.permanent_url == server.url("/redirect/302")  # moved for good, then a detour
    assert moved.url == server.url("/feeds/rss2.xml")
    detour = await fetcher.get(server.url("/redirect/302-then-301"), max_bytes=10**6)
    assert detour.permanent_url is None


async def test_credentials_do_not_follow_a_cross_origin_redirect(
    server: HostileServer, fetcher: Fetcher
) -> None:
    secret = {"Cookie": "session=abc", "Referer": "https://site.example/"}
    before = len(server.stats.headers["/feeds/rss2.xml"])
    await fetcher.get(server.url("/redirect/302"), headers=secret, max_bytes=10**6)
    await fetcher.get(server.url("/redirect/to-localhost"), headers=secret, max_bytes=10**6)
    same_origin, cross_origin = server.stats.headers["/feeds/rss2.xml"][before:]
    assert same_origin["cookie"] == "session=abc"
    assert "cookie" not in cross_origin
    assert cross_origin["referer"] == "https://site.example/"
    assert cross_origin["host"] == f"localhost:{server.port}"


# --- SSRF guard at the connect ----------------------------------------------------------------


async def test_loopback_is_refused_unless_allowed(server: HostileServer) -> None:
    before = server.stats.requests["/feeds/rss2.xml"]
    async with Fetcher(polling(allow_networks=[])) as strict:
        with pytest.raises(BlockedAddress, match=r"refused address 127\.0\.0\.1 \(loopback"):
            await strict.get(server.url("/feeds/rss2.xml"), max_bytes=10**6)
        with pytest.raises(BlockedAddress, match="loopback"):
            await strict.get(server.url("/feeds/rss2.xml", host="localhost"), max_bytes=10**6)
    assert server.stats.requests["/feeds/rss2.xml"] == before  # refused before connecting


async def test_a_name_resolving_to_an_allowed_address_is_fetched_with_its_host_header(
    server: HostileServer, fetcher: Fetcher
) -> None:
    response = await fetcher.get(server.url("/feeds/rss2.xml", host="localhost"), max_bytes=10**6)
    assert response.status == 200
    assert server.stats.headers["/feeds/rss2.xml"][-1]["host"] == f"localhost:{server.port}"


async def test_env_proxies_are_ignored(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    async with Fetcher(polling()) as direct:
        response = await direct.get(server.url("/feeds/rss2.xml"), max_bytes=10**6)
    assert response.status == 200


async def test_configured_proxy_is_used_and_targets_are_still_checked(
    server: HostileServer,
) -> None:
    before = server.stats.proxied
    async with Fetcher(polling(proxy=server.url(""))) as proxied:
        response = await proxied.get(server.url("/feeds/atom.xml"), max_bytes=10**6)
        assert response.status == 200
        assert server.stats.proxied == before + 1
        with pytest.raises(BlockedAddress, match=r"127\.0\.0\.2"):
            await proxied.get(server.url("/redirect/to-127.0.0.2"), max_bytes=10**6)


# --- politeness -----------------------------------------------------------------------------


async def test_honest_user_agent_and_encodings(server: HostileServer) -> None:
    agent = "feed-monitor/0.1.0 (+https://github.com/feed-monitor/feed-monitor)"
    async with Fetcher(polling(user_agent=agent)) as f:
        await f.get(server.url("/feeds/rss1-rdf.xml"), max_bytes=10**6)
    sent = server.stats.headers["/feeds/rss1-rdf.xml"][-1]
    assert sent["user-agent"] == agent
    assert sent["accept-encoding"] == "gzip, deflate, br"
    assert "application/rss+xml" in sent["accept"]


async def test_conditional_get_gives_304(server: HostileServer, fetcher: Fetcher) -> None:
    url = server.url("/quirks/conditional")
    first = await fetcher.get(url, max_bytes=10**6)
    assert first.status == 200
    assert first.etag == '"rss2-v1"'
    assert first.last_modified == "Fri, 27 Nov 2026 14:05:11 GMT"
    by_etag = await fetcher.get(url, etag=first.etag, max_bytes=10**6)
    assert by_etag.not_modified
    assert by_etag.body == b""
    assert by_etag.etag == first.etag
    by_date = await fetcher.get(url, last_modified=first.last_modified, max_bytes=10**6)
    assert by_date.not_modified
    assert (
        server.stats.headers["/quirks/conditional"][-1]["if-modified-since"] == first.last_modified
    )


async def test_304s_and_error_replies_keep_the_connection(
    server: HostileServer, fetcher: Fetcher
) -> None:
    # A round of 304s must not open a connection per feed: the empty (or short) body of a
    # non-2xx reply is read to its end so the connection goes back to the pool.
    url = server.url("/quirks/conditional")
    first = await fetcher.get(url, max_bytes=10**6)
    before = server.stats.connections
    for _ in range(3):
        assert (await fetcher.get(url, etag=first.etag, max_bytes=10**6)).not_modified
    with pytest.raises(HTTPStatusError):
        await fetcher.get(server.url("/no/such/feed"), max_bytes=10**6)
    assert (await fetcher.get(url, etag=first.etag, max_bytes=10**6)).not_modified
    assert server.stats.connections == before


async def test_two_feeds_on_one_host_never_exceed_per_host(server: HostileServer) -> None:
    async with Fetcher(polling(per_host=2, concurrency=10)) as f:
        urls = [server.url("/slow/a"), server.url("/slow/b")] * 3
        await asyncio.gather(*(f.get(u, max_bytes=10**6) for u in urls))
    assert server.stats.peak("/slow/") == 2


async def test_per_host_is_the_knob(server: HostileServer) -> None:
    async with Fetcher(polling(per_host=3, concurrency=10)) as f:
        urls = [server.url("/slow/a"), server.url("/slow/b")] * 3
        await asyncio.gather(*(f.get(u, max_bytes=10**6) for u in urls))
    assert server.stats.peak("/slow/") == 3


async def test_global_concurrency_limit(server: HostileServer) -> None:
    async with Fetcher(polling(per_host=5, concurrency=1)) as f:
        await asyncio.gather(*(f.get(server.url("/slow/c"), max_bytes=10**6) for _ in range(3)))
    assert server.stats.peak("/slow/c") == 1


async def test_request_starts_to_one_host_are_spaced(server: HostileServer) -> None:
    async with Fetcher(polling(per_host=4, host_spacing="0.15s")) as f:
        await asyncio.gather(
            *(f.get(server.url("/feeds/jsonfeed-1.json"), max_bytes=10**6) for _ in range(3))
        )
    starts = server.stats.starts["/feeds/jsonfeed-1.json"][-3:]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 0.1


async def test_waiting_for_a_host_slot_does_not_eat_the_deadline(server: HostileServer) -> None:
    # Each request holds the host's one slot 0.3 s; the fourth queues 0.9 s, longer than
    # the 0.8 s deadline, yet succeeds: the deadline starts when its own request does.
    async with Fetcher(polling(per_host=1, timeout="0.8s")) as f:
        url = server.url("/slow/a")
        results = await asyncio.gather(*(f.get(url, max_bytes=10**6) for _ in range(4)))
    assert [r.status for r in results] == [200] * 4


async def test_a_dripping_server_is_cut_at_the_total_deadline(server: HostileServer) -> None:
    loop = asyncio.get_running_loop()
    async with Fetcher(polling(timeout="0.5s")) as f:
        started = loop.time()
        with pytest.raises(FetchTimeout, match=r"^timeout after 0\.5s$"):
            await f.get(server.url("/hostile/drip"), max_bytes=10**6)
        assert loop.time() - started < 2.0  # the whole body would take minutes


# --- webhooks -------------------------------------------------------------------------------


async def test_post_returns_status_headers_and_a_body_prefix(
    server: HostileServer, fetcher: Fetcher
) -> None:
    result = await fetcher.post(
        server.url("/webhook"), content=b'{"id": "alt_1"}', headers={"X-Test": "1"}, timeout=2
    )
    assert result.status == 202
    assert result.headers["content-type"] == "text/plain"
    assert result.body.startswith(b'accepted {"id": "alt_1"}')
    assert len(result.body) == 4096


async def test_post_goes_through_the_same_guard(server: HostileServer, fetcher: Fetcher) -> None:
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.2"):
        await fetcher.post(server.canary_url("/hook"), content=b"{}", headers={}, timeout=1)
    with pytest.raises(BlockedAddress, match="refused scheme"):
        await fetcher.post("file:///etc/passwd", content=b"{}", headers={}, timeout=1)
    with pytest.raises(FetchTimeout, match=r"timeout after 0\.3s"):
        await fetcher.post(
            server.url("/hostile/slow-headers"), content=b"{}", headers={}, timeout=0.3
        )


# --- autodiscovery --------------------------------------------------------------------------


async def test_discover_from_link_tags(server: HostileServer, fetcher: Fetcher) -> None:
    found = await discover_feed(fetcher, server.url("/hostile/html-instead-of-feed"), now=NOW)
    assert found == server.url("/feed/rss2.xml")


async def test_discover_returns_a_feed_url_unchanged(
    server: HostileServer, fetcher: Fetcher
) -> None:
    url = server.url("/feeds/atom.xml")
    assert await discover_feed(fetcher, url, now=NOW) == url


async def test_discover_falls_back_to_common_paths(server: HostileServer, fetcher: Fetcher) -> None:
    assert await discover_feed(fetcher, server.url("/plain-site"), now=NOW) == server.url("/feed")


async def test_discover_says_when_there_is_no_feed(fetcher: Fetcher) -> None:
    no_feed = {"/feed": lambda req, srv: Reply(404)}
    with HostileServer(routes=no_feed) as bare, pytest.raises(ParseError, match="no feed found"):
        await discover_feed(fetcher, bare.url("/plain-site"), now=NOW)


# --- header parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Fri, 27 Nov 2026 15:05:00 GMT", 300.0),
        ("Fri, 27 Nov 2026 14:00:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=300", 300.0),
        ("public, max-age=600, must-revalidate", 600.0),
        ('max-age="60"', 60.0),
        ("s-maxage=900", None),
        ("no-cache, max-age=600", None),
        ("no-store", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_max_age(value: str | None, expected: float | None) -> None:
    assert parse_max_age(value) == expected


def test_split_content_type() -> None:
    assert split_content_type('Application/RSS+XML; Charset="Windows-1256"') == (
        "application/rss+xml",
        "windows-1256",
    )
    assert split_content_type(None) == ("", None)
