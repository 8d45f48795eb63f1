"""Recording an HTTP exchange as evidence: the request as sent (credentials redacted), the
response's status line and headers as received, and the peer address connected to.

The body is kept by the fetcher (`body.read_capped(raw_sink=…)`), as received: still
content-encoded, chunked transfer coding already undone by the HTTP library.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from monitor.models import Exchange, Headers

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def redacted(headers: httpx.Headers) -> Headers:
    """The headers in order, with the values of credential headers replaced."""
    return tuple(
        (name, REDACTED if name.lower() in SECRET_HEADERS else value)
        for name, value in headers.multi_items()
    )


def peer_ip(response: httpx.Response) -> str | None:
    """The IP address the response came from, when the transport tells it. Ask before the
    body is read: a server that closes the connection after the body leaves a socket that
    no longer knows its peer (the address the SSRF guard checked at connect)."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    address = stream.get_extra_info("server_addr")
    if isinstance(address, tuple) and address:
        return str(address[0]).split("%")[0]
    return None


def exchange_of(
    response: httpx.Response, started_at: datetime, peer: str | None = None
) -> Exchange:
    """The Exchange of a response whose headers have arrived; `peer` is its `peer_ip`, taken
    before the body was read (else asked now, which fails once the connection closed)."""
    request = response.request
    return Exchange(
        url=str(request.url),
        method=request.method,
        request_headers=redacted(request.headers),
        http_version=response.http_version or "HTTP/1.1",
        status=response.status_code,
        reason=response.reason_phrase,
        response_headers=tuple(response.headers.multi_items()),
        peer_ip=peer or peer_ip(response),
        started_at=started_at,
    )
