"""The notifiers of the configured channels, and `channels test`.

Secrets come from the env variables the config names; a missing or malformed one is a
ConfigError naming the channel's key, raised at start-up rather than at the first alert.
"""

from __future__ import annotations

from datetime import datetime

from monitor.config import (
    ChannelConfig,
    EmailChannelConfig,
    LogChannelConfig,
    Settings,
    WebhookChannelConfig,
)
from monitor.errors import ConfigError
from monitor.notify.base import Notifier, OutboxMessage
from monitor.notify.email import EmailNotifier, message_id_header
from monitor.notify.log import LogNotifier
from monitor.notify.payload import channel_test_payload, render_json
from monitor.notify.signing import secret_key
from monitor.notify.webhook import PostClient, WebhookNotifier


def _secret(settings: Settings, channel: str, key: str, env_name: str) -> str:
    value = settings.secret(env_name)
    if not value:
        raise ConfigError(
            f"{settings.source}: channels.{channel}.{key}: env variable {env_name} is not set"
        )
    return value


def _webhook(
    settings: Settings, name: str, config: WebhookChannelConfig, client: PostClient
) -> WebhookNotifier:
    secret = _secret(settings, name, "secret_env", config.secret_env)
    try:
        key = secret_key(secret)
    except ValueError as e:
        raise ConfigError(
            f"{settings.source}: channels.{name}.secret_env: {config.secret_env}: {e}"
        ) from e
    timeout = settings.delivery.timeout.total_seconds()
    return WebhookNotifier(name, config.url, key, client, timeout=timeout, headers=config.headers)


def _email(settings: Settings, name: str, config: EmailChannelConfig) -> EmailNotifier:
    password = None
    if config.password_env:
        password = _secret(settings, name, "password_env", config.password_env)
    try:
        return EmailNotifier(name, config, password)
    except ConfigError as e:
        raise ConfigError(f"{settings.source}: channels.{name}.{e}") from e


def build_notifiers(settings: Settings, client: PostClient) -> dict[str, Notifier]:
    """One notifier per configured channel; webhooks share `client` (the guarded fetcher)."""
    notifiers: dict[str, Notifier] = {}
    for name, config in settings.channels.items():
        if isinstance(config, LogChannelConfig):
            notifiers[name] = LogNotifier(name)
        elif isinstance(config, EmailChannelConfig):
            notifiers[name] = _email(settings, name, config)
        elif isinstance(config, WebhookChannelConfig):
            notifiers[name] = _webhook(settings, name, config, client)
    return notifiers


def receiver_message_id(channel: ChannelConfig | None, message: OutboxMessage) -> str:
    """The id the receiver of `message` gets, to match its logs against: the `Message-ID`
    header of a mail, else the event id (a webhook's `webhook-id`, a log line's `id`). A
    channel no longer configured has no known type; its event id is the best guess."""
    if isinstance(channel, EmailChannelConfig):
        return message_id_header(message.message_id)
    return message.event_id


def channel_test_message(channel: str, now: datetime) -> OutboxMessage:
    """The clearly marked message `channels test NAME` sends (not stored in the outbox)."""
    payload = channel_test_payload(channel, now)
    return OutboxMessage(
        message_id=payload["id"], channel=channel, kind="test", body=render_json(payload)
    )


async def send_test(notifier: Notifier, now: datetime) -> str:
    """Send a test message through `notifier`; return its id, or raise DeliveryError."""
    message = channel_test_message(notifier.name, now)
    await notifier.send(message)
    return message.message_id
