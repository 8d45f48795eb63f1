"""What every channel implements (`Notifier`) and the outbox message it is handed.

A notifier delivers one message or raises `DeliveryError`: `retry_after` (seconds) when the
receiver asked for a pause, `permanent=True` when retrying cannot help. `ChannelGone` (a
`DeliveryError`) means the receiver said the endpoint is gone for good (HTTP 410): the
worker disables the channel instead of retrying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from monitor.errors import DeliveryError


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message for one channel, as stored in the outbox (its body rendered once)."""

    message_id: str  # unique per outbox row; the email Message-ID is derived from it
    channel: str
    # alert: one alert; digest: a channel's period of alerts; summary: alerts held back by
    # max_per_hour; test: `channels test`; system: a notice written by the service itself.
    kind: str
    body: str  # JSON, sent unchanged on every attempt
    alert_id: str | None = None
    row_id: int | None = None
    attempts: int = 0  # attempts made before this one, all told (kept across `alerts retry`)
    retried_from: int = 0  # `attempts` when it was last requeued: the budget counts from here
    created_at: datetime | None = None

    @property
    def event_id(self) -> str:
        """The id receivers de-duplicate on: the payload `id` (= `webhook-id`)."""
        if self.kind == "alert" and self.alert_id:
            return self.alert_id
        return self.message_id


class Notifier(Protocol):
    """A configured channel that can deliver an outbox message."""

    name: str

    async def send(self, message: OutboxMessage) -> None:
        """Deliver `message` or raise DeliveryError."""
        ...


class ChannelGone(DeliveryError):
    """The receiver answered 410 Gone: stop sending to this channel until it is re-enabled."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)
