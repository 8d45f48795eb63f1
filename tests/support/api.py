"""A served REST API for tests: a seeded database (through the pipeline's write path), users
of each role with their tokens (plus an expired and a revoked one), and the app on uvicorn
on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.app import compile_matcher
from monitor.clock import FrozenClock
from monitor.config import Settings
from monitor.metrics import Metrics
from monitor.models import Article
from monitor.notify.outbox import alert_builder
from monitor.pipeline import dedupe
from monitor.pipeline.evidence import snapshot_of
from monitor.services import Monitor
from monitor.services.context import Context
from monitor.storage.feeds import sync_config_feeds
from monitor.storage.store import StoreResult, store_article
from monitor.web.app import create_app
from monitor.web.limits import FailureLimiter
from monitor.web.server import WebServer
from tests.support.usecases import settings_over

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SEED = (Path(__file__).parents[1] / "fixtures" / "seed-article.txt").read_text(encoding="utf-8")
SEED_TITLE, SEED_BODY = SEED.split("\n", 1)
OTHER_TITLE = "Wheat prices steady at the Kabul market"
OTHER_BODY = "Traders at the Kabul grain market said wheat prices held steady this week. " * 8
FEEDS = ("http://outlet-a.test/rss", "http://outlet-b.test/rss", "http://outlet-c.test/rss")
PASSWORD = "correct horse battery"
CONFIG: dict[str, Any] = {
    "feeds": [{"url": url, "name": f"Outlet {url[14]}"} for url in FEEDS],
    "watchlists": [
        {
            "name": "isis-k",
            "severity": "high",
            "channels": ["desk-log"],
            "actors": [{"name": "ISIS-Khorasan", "aliases": ["ISIS-K", "ISKP"]}],
        }
    ],
    "channels": {"desk-log": {"type": "log"}},
}


@dataclass
class Seeded:
    """What the seed stored: ids to put in paths, and the secrets of each credential."""

    alert_id: str = ""
    story_id: int = 0
    article_id: int = 0
    feed_ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # viewer, analyst, admin, expired, revoked


def article(feed_id: int, guid: str, title: str, text: str, *, at: datetime = NOW) -> Article:
    """An article of `feed_id` fetched at `at`, with its dedupe keys."""
    print_ = dedupe.fingerprint(text)
    url = f"http://outlet.test/{feed_id}/{guid}"
    return Article(
        feed_id=feed_id,
        guid=guid,
        url=url,
        canonical_url=url,
        title=title,
        author="",
        published_at=at,
        fetched_at=at,
        summary="",
        text=text,
        language="en",
        content_hash=dedupe.content_hash(title + text),
        signature=dedupe.pack_fingerprint(print_),
        bands=print_.bands,
        snapshot=snapshot_of(text, None, 0),  # no page fetched: the text is the evidence
    )


def _pick(candidates: Sequence[tuple[int, bytes]], new: Article) -> int | None:
    mine = dedupe.unpack_fingerprint(new.signature)
    options = [(story, dedupe.unpack_fingerprint(packed)) for story, packed in candidates]
    return dedupe.pick_story(options, mine, 0.7)


async def ingest(
    engine: AsyncEngine, settings: Settings, clock: FrozenClock, item: Article
) -> StoreResult:
    """Match and store one article as the service does (alerts and outbox rows included)."""
    found = compile_matcher(settings).match(item.title, item.text, language=item.language)
    return await store_article(
        engine,
        item,
        found,
        pick=_pick,
        build=alert_builder(settings, clock),
        window=timedelta(days=3),
    )


async def seed(engine: AsyncEngine, monitor: Monitor, clock: FrozenClock) -> Seeded:
    """Three config feeds, one alerting article, one quiet article, and five credentials."""
    seeded = Seeded()
    settings = monitor.settings
    async with engine.begin() as conn:
        await sync_config_feeds(conn, settings.feeds, NOW)
    seeded.feed_ids = {f.url: f.id for f in await monitor.feeds.list()}
    first = seeded.feed_ids[FEEDS[0]]
    stored = await ingest(engine, settings, clock, article(first, "seed", SEED_TITLE, SEED_BODY))
    assert stored.article_id is not None, stored
    assert stored.story_id is not None, stored
    assert stored.alert_ids, stored
    seeded.alert_id, seeded.story_id = stored.alert_ids[0], stored.story_id
    seeded.article_id = stored.article_id
    await ingest(engine, settings, clock, article(first, "wheat", OTHER_TITLE, OTHER_BODY))
    for role in ("viewer", "analyst", "admin"):
        await monitor.users.add(role, role, PASSWORD, actor="test")
        issued = await monitor.tokens.create(role, expires=None, actor="test")
        seeded.tokens[role] = issued.secret
    issued = await monitor.tokens.create("admin", expires=timedelta(hours=1), actor="test")
    seeded.tokens["revoked"] = issued.secret
    await monitor.tokens.revoke(issued.info.id, actor="test")
    clock.advance(-timedelta(days=2))
    seeded.tokens["expired"] = (
        await monitor.tokens.create("admin", expires=timedelta(days=1), actor="test")
    ).secret
    clock.advance(timedelta(days=2))
    return seeded


@dataclass
class Served:
    """The API on 127.0.0.1 over a seeded database."""

    base_url: str
    monitor: Monitor
    clock: FrozenClock
    seeded: Seeded
    engine: AsyncEngine

    def client(self, credential: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """A client sending the named credential's token (None: no credentials)."""
        headers = dict(kwargs.pop("headers", {}))
        if credential is not None:
            secret = self.seeded.tokens.get(credential, credential)
            headers["Authorization"] = f"Bearer {secret}"
        return httpx.AsyncClient(
            base_url=self.base_url, headers=headers, trust_env=False, timeout=30, **kwargs
        )


async def _ready() -> str | None:
    return None


@contextlib.asynccontextmanager
async def served_api(
    engine: AsyncEngine, *, limiter_limit: int = 10, max_body: int = 1_000_000
) -> AsyncIterator[Served]:
    """Seed `engine`'s database and serve the app over it until the block ends."""
    clock = FrozenClock(NOW)
    settings = settings_over(engine, CONFIG)
    monitor = Monitor.build(Context(settings, engine, clock))
    seeded = await seed(engine, monitor, clock)
    app = create_app(
        monitor,
        readiness=_ready,
        clock=clock,
        metrics=Metrics(),
        max_body=max_body,
        limiter=FailureLimiter(clock, limit=limiter_limit),
    )
    server = WebServer(app, host="127.0.0.1", port=0)
    await server.start()
    try:
        yield Served(f"http://127.0.0.1:{server.port}", monitor, clock, seeded, engine)
    finally:
        await server.stop()
