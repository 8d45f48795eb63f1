"""The webhook channel: POSTs the stored JSON body, signed per Standard Webhooks.

The body goes out byte for byte as the outbox stored it; `webhook-id` is the payload id and
`webhook-timestamp` the moment of this attempt. Any 2xx is success; 410 raises `ChannelGone`
(the worker disables the channel); every other status or transport failure is retried,
honouring `Retry-After`. The POST goes through the shared fetcher the app passes in, so the SSRF
guard (`polling.allow_networks`) applies to webhook URLs too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from monitor.errors import BlockedAddress, DeliveryError, FetchError, HTTPStatusError
from monitor.notify.base import ChannelGone, OutboxMessage
from monitor.notify.signing import signature_headers
from monitor.pipeline.headers import parse_retry_after

USER_AGENT = "feed-monitor-webhook"


class PostReply(Protocol):
    """What a POST got back (the fetcher's `PostResult`)."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class PostClient(Protocol):
    """The shared HTTP client: `monitor.pipeline.fetch.Fetcher`, whose `post` goes through
    the SSRF guard, sends once (no redirects) and translates errors into FetchError."""

    async def post(
        self, url: str, *, content: bytes, headers: Mapping[str, str], timeout: float
    ) -> PostReply: ...


def status_error(status: int, retry_after: float | None) -> DeliveryError:
    """The DeliveryError for a non-2xx answer."""
    if status == 410:
        return ChannelGone("HTTP 410 Gone: the receiver retired this webhook")
    return DeliveryError(f"HTTP {status}", retry_after=retry_after)


class WebhookNotifier:
    """Signs and POSTs each message to one URL."""

    def __init__(
        self,
        name: str,
        url: str,
        key: bytes,
        client: PostClient,
        *,
        timeout: float = 15.0,
        headers: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.url = url
        self._key = key
        self._client = client
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._clock = clock

    def request_headers(self, message: OutboxMessage, body: bytes, now: datetime) -> dict[str, str]:
        """The headers of one attempt: the channel's own, then content type and signature."""
        signed = signature_headers(self._key, message.event_id, int(now.timestamp()), body)
        return self._headers | {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signed,
        }

    async def send(self, message: OutboxMessage) -> None:
        body = message.body.encode("utf-8")
        now = self._clock()
        headers = self.request_headers(message, body, now)
        try:
            response = await self._client.post(
                self.url, content=body, headers=headers, timeout=self._timeout
            )
        except HTTPStatusError as e:
            raise status_error(e.status, e.retry_after) from e
        except BlockedAddress as e:  # the SSRF guard: retrying cannot help
            raise DeliveryError(f"{self.url}: {e}", permanent=True) from e
        except FetchError as e:
            raise DeliveryError(f"{self.url}: {e}", retry_after=e.retry_after) from e
        if not 200 <= response.status < 300:
            retry_after = parse_retry_after(_header(response.headers, "retry-after"), now)
            raise status_error(response.status, retry_after)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)
