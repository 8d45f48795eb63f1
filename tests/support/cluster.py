"""A small cluster for end-to-end tests: `monitor run` worker processes on one PostgreSQL
database, a feed server with generated feeds and article pages, and a webhook receiver.

Every article page has its own random text (so no two are near-duplicates); every third
one mentions ISKP, which the watchlist alerts on through the webhook channel.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.tables import alerts, articles, feeds, outbox, periodic_tasks
from tests.support.feedserver import FeedServer, rss
from tests.support.notify import WEBHOOK_SECRET, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
_RNG = random.Random(0)
_WORDS = [
    "".join(_RNG.choice("bcdfghklmnprstvz") + _RNG.choice("aeiou") for _ in range(3))
    for _ in range(3000)
]


def page_text(feed: int, item: int) -> str:
    """Two paragraphs of words unique to (feed, item); every third page mentions ISKP."""
    rng = random.Random(f"{feed}/{item}")
    words = [rng.choice(_WORDS) for _ in range(160)]
    if (feed + item) % 3 == 0:
        words[40:40] = ["ISKP", "claimed", "the", "attack"]
    first, second = " ".join(words[:80]), " ".join(words[80:])
    return f"{first[0].upper()}{first[1:]}.\n\n{second[0].upper()}{second[1:]}."


def page_html(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home · World</nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>© test</footer></body></html>"
    )


def alerting(feed: int, item: int) -> bool:
    return (feed + item) % 3 == 0


@dataclass
class Feeds:
    """`count` feeds on `server`, each with `items[f]` entries so far."""

    server: FeedServer
    count: int
    page_delay: float = 0.0
    items: list[int] = field(default_factory=list)
    published: str = ""  # pubDate of the entries published last

    def path(self, feed: int) -> str:
        return f"/f/{feed}.xml"

    def url(self, feed: int) -> str:
        return self.server.url(self.path(feed))

    def add_items(self, per_feed: int) -> None:
        """Publish `per_feed` new entries in every feed (their pages included)."""
        if not self.items:
            self.items = [0] * self.count
        self.published = format_datetime(datetime.now(UTC), usegmt=True)
        for feed in range(self.count):
            for item in range(self.items[feed], self.items[feed] + per_feed):
                title = f"Report {feed}-{item}"
                self.server.add(
                    f"/a/{feed}/{item}",
                    page_html(title, page_text(feed, item)),
                    delay=self.page_delay,
                )
            self.items[feed] += per_feed
            entries = [
                {
                    "title": f"Report {feed}-{item}",
                    "link": self.server.url(f"/a/{feed}/{item}"),
                    "guid": f"urn:test:{feed}:{item}",
                    "pubDate": self.published,
                }
                for item in range(self.items[feed])
            ]
            self.server.add(self.path(feed), rss(f"Feed {feed}", entries), "application/rss+xml")

    @property
    def articles(self) -> int:
        return sum(self.items)

    @property
    def alerts(self) -> int:
        return sum(alerting(f, i) for f in range(self.count) for i in range(self.items[f]))


def write_config(
    path: Path,
    *,
    database_url: str,
    feeds: Feeds,
    receiver: WebhookReceiver,
    lease: str = "5m",
    shutdown_timeout: str = "5s",
    server_port: int | None = None,
) -> Path:
    feed_tables = "\n".join(
        f'[[feeds]]\nurl = "{feeds.url(i)}"\nname = "Feed {i}"\n' for i in range(feeds.count)
    )
    path.write_text(
        f"""
[database]
url = "{database_url}"

[polling]
allow_networks = ["127.0.0.0/8"]
tick = "1s"
per_host = 16
concurrency = 16
lease = "{lease}"
timeout = "10s"

[delivery]
shutdown_timeout = "{shutdown_timeout}"
retry_base = "1s"

[server]
enabled = {"true" if server_port else "false"}
port = {server_port or 0}

{feed_tables}

[[watchlists]]
name = "isis-k"
severity = "high"
channels = ["soc"]
terms = ["ISKP"]

[channels.soc]
type = "webhook"
url = "{receiver.url}"
secret_env = "MONITOR_WEBHOOK_SECRET"
""",
        encoding="utf-8",
    )
    return path


def monitor_argv(config: Path, *args: str) -> list[str]:
    """`python -m monitor --config CONFIG --log-format json ARGS…`"""
    return [sys.executable, "-m", "monitor", "--config", str(config), "--log-format", "json", *args]


@dataclass
class Worker:
    index: int
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Cluster:
    """Worker processes running one config; logs go to `logs/`."""

    config: Path
    logs: Path
    workers: list[Worker] = field(default_factory=list)
    started: int = 0
    status_ports: list[int] = field(default_factory=list)  # worker i serves /metrics on [i]

    def start(self, index: int | None = None, *extra: str) -> Worker:
        index = len(self.workers) if index is None else index
        self.started += 1
        log = open(self.logs / f"worker-{index}-{self.started}.log", "wb")  # noqa: SIM115
        env = dict(os.environ, MONITOR_WEBHOOK_SECRET=WEBHOOK_SECRET)
        if self.status_ports:
            env |= {
                "MONITOR_SERVER__ENABLED": "true",
                "MONITOR_SERVER__PORT": str(self.status_ports[index]),
            }
        process = subprocess.Popen(
            monitor_argv(self.config, "run", *extra),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        worker = Worker(index, process)
        if index < len(self.workers):
            self.workers[index] = worker
        else:
            self.workers.append(worker)
        return worker

    def kill(self, index: int) -> None:
        self.workers[index].process.send_signal(signal.SIGKILL)
        self.workers[index].process.wait(10)

    def terminate_all(self, timeout: float) -> list[tuple[int | None, float]]:
        """SIGTERM every worker at once; (exit code, seconds to exit) for each."""
        started = time.monotonic()
        for worker in self.workers:
            worker.process.send_signal(signal.SIGTERM)
        results = []
        for worker in self.workers:
            try:
                code: int | None = worker.process.wait(
                    max(0.1, timeout - (time.monotonic() - started))
                )
            except subprocess.TimeoutExpired:
                code = None
            results.append((code, time.monotonic() - started))
        return results

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        texts = []
        for path in sorted(self.logs.glob("worker-*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            texts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(texts)


async def scalar(engine: AsyncEngine, query: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(query)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    """Articles, alerts, outbox rows not yet sent, leases held."""
    return {
        "articles": int(await scalar(engine, select(func.count()).select_from(articles))),
        "alerts": int(await scalar(engine, select(func.count()).select_from(alerts))),
        "unsent": int(await scalar(engine, select(func.count()).where(outbox.c.status != "sent"))),
        "feed_leases": int(
            await scalar(engine, select(func.count()).where(feeds.c.lease_owner.is_not(None)))
        ),
        "outbox_leases": int(
            await scalar(engine, select(func.count()).where(outbox.c.lease_owner.is_not(None)))
        ),
        "task_leases": int(
            await scalar(
                engine, select(func.count()).where(periodic_tasks.c.lease_owner.is_not(None))
            )
        ),
    }


async def make_all_due(engine: AsyncEngine, now: Any) -> None:
    """Start a new round: every feed due now (the workers are idle between rounds)."""
    async with engine.begin() as conn:
        await conn.execute(update(feeds).values(next_poll_at=now))


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float, cluster: Cluster, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        for worker in cluster.workers:
            code = worker.process.poll()
            if code is not None and code != -signal.SIGKILL:
                raise AssertionError(f"worker {worker.index} exited {code}\n{cluster.log_tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{cluster.log_tail()}")
        await asyncio.sleep(0.2)
