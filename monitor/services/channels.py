"""Channels: list with their state, test (a clearly marked message), re-enable after a 410."""

from __future__ import annotations

from monitor.errors import NotConfigured
from monitor.notify.registry import build_notifiers, send_test
from monitor.services.context import Context
from monitor.services.records import Channel, ChannelTest
from monitor.storage.outbox import disabled_channels, enable_channel


class Channels:
    """The configured alert channels."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _check(self, name: str) -> None:
        settings = self.ctx.settings
        if name not in settings.channels:
            have = ", ".join(settings.channels) or "none"
            raise NotConfigured(f"no channel {name!r} in {settings.source} (have: {have})")

    async def list(self) -> tuple[Channel, ...]:
        """Every channel with its type, digest period, hourly cap and disabled reason."""
        async with self.ctx.read() as conn:
            disabled = await disabled_channels(conn)
        return tuple(
            Channel(
                name=name,
                type=channel.type,
                digest_seconds=channel.digest.total_seconds() if channel.digest else None,
                max_per_hour=channel.max_per_hour,
                disabled_reason=disabled.get(name),
            )
            for name, channel in self.ctx.settings.channels.items()
        )

    async def test(self, name: str) -> ChannelTest:
        """Send a test message through a channel; DeliveryError when it is not delivered."""
        self._check(name)
        async with self.ctx.fetcher() as fetcher:
            notifier = build_notifiers(self.ctx.settings, fetcher)[name]
            message_id = await send_test(notifier, self.ctx.clock.now())
        return ChannelTest(name, message_id)

    async def enable(self, name: str) -> bool:
        """Deliver to a channel disabled by a 410 Gone again; False when it was not disabled."""
        self._check(name)
        async with self.ctx.write() as conn:
            return await enable_channel(conn, name)
