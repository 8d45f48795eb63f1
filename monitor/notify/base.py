"""What every channel implements (`Notifier`) and the outbox message it is handed.

A notifier delivers one message or raises `DeliveryError`: `retry_after` (seconds) when the
receiver asked for a pause, `permanent=True` when retrying cannot help. `ChannelGone` (a
`DeliveryError`) means the receiver said the endpoint is gone for good (HTTP 410): the
worker disables the channel instead of retrying.
"""

from __future__ import annotations

from typing import Protocol

from monitor.errors import DeliveryError
from monitor.models import OutboxMessage

__all__ = ["ChannelGone", "Notifier", "OutboxMessage"]


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
