"""SIGHUP on a running service: the re-read config's watchlists and channels take effect in
ingest (matcher, alert builder) and delivery (notifiers), on both backends."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from monitor.config import Settings
from monitor.runner import serve
from monitor.services import load_settings
from tests.support.feedserver import FeedServer, rss
from tests.support.notify import WEBHOOK_SECRET, WebhookReceiver
from tests.support.waiting import until

BODY = "Officials blamed ISIS-Khorasan for the attack on the checkpoint near Jalalabad."
BASE = """
[database]
url = "{url}"

[polling]
allow_networks = ["127.0.0.0/8"]
fetch_articles = false
tick = "1s"
default_interval = "1s"
min_interval = "1s"
timeout = "10s"

[delivery]
shutdown_timeout = "5s"

[[feeds]]
url = "{feed}"
name = "Wire"

[[watchlists]]
name = "weather"
channels = ["desk"]
terms = ["monsoon"]

[channels.desk]
type = "log"
"""
ADDED = """
[[watchlists]]
name = "khorasan"
severity = "high"
channels = ["hook"]
terms = ["ISIS-Khorasan"]

[channels.hook]
type = "webhook"
url = "{hook}"
secret_env = "TEST_RELOAD_SECRET"
"""


async def test_sighup_adding_a_watchlist_with_a_new_channel_delivers_to_it(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_RELOAD_SECRET", WEBHOOK_SECRET)
    said: list[str] = []
    with FeedServer() as site, WebhookReceiver().running() as receiver:
        feed = site.add("/rss", rss("Wire", []), "application/rss+xml")
        config = tmp_path / "monitor.toml"
        config.write_text(BASE.format(url=database_url, feed=feed), encoding="utf-8")
        settings: Settings = load_settings(config)
        service = asyncio.create_task(serve(settings, config, say=said.append))
        await until(lambda: site.count("/rss") >= 1, "the feed was polled", 60)

        config.write_text(
            BASE.format(url=database_url, feed=feed) + ADDED.format(hook=receiver.url),
            encoding="utf-8",
        )
        os.kill(os.getpid(), signal.SIGHUP)
        await until(lambda: any("reloaded" in line for line in said), f"reloaded: {said}", 60)

        item = {"title": "Checkpoint attack", "link": site.url("/a/1"), "guid": "a1"}
        site.add("/rss", rss("Wire", [item | {"description": BODY}]), "application/rss+xml")
        await until(lambda: bool(receiver.accepted()), "the new channel got the alert", 60)

        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(service, 30)
    [got] = receiver.accepted()
    assert got.verified
    assert b'"watchlist":"khorasan"' in got.body
    assert said == ["watchlists reloaded (2)"]
