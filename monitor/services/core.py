"""`open_monitor`: the one entry every face calls, and the `Monitor` it yields.

A `Monitor` is a set of sub-services, one per module of this package, each an attribute
built from the shared `Context`. Adding a use-case module means adding one attribute here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.clock import Clock, SystemClock
from monitor.config import Settings
from monitor.services.alerts import Alerts
from monitor.services.articles import Articles
from monitor.services.audit import Audit
from monitor.services.channels import Channels
from monitor.services.context import Context
from monitor.services.evidence import Evidence
from monitor.services.feeds import Feeds
from monitor.services.health import HealthService, Liveness
from monitor.services.sessions import Sessions
from monitor.services.settings import open_engine
from monitor.services.stories import Stories
from monitor.services.tokens import Tokens
from monitor.services.trends import Trends
from monitor.services.triage import TriageDesk
from monitor.services.users import Users
from monitor.services.watchlists import Watchlists


@dataclass
class Monitor:
    """The use cases, grouped by what they are about."""

    ctx: Context
    alerts: Alerts
    stories: Stories
    articles: Articles
    feeds: Feeds
    watchlists: Watchlists
    channels: Channels
    health: HealthService
    users: Users
    tokens: Tokens
    sessions: Sessions
    audit: Audit
    triage: TriageDesk
    trends: Trends
    evidence: Evidence

    @classmethod
    def build(cls, ctx: Context, *, liveness: Liveness | None = None) -> Monitor:
        """Every sub-service over one context."""
        users = Users(ctx)
        return cls(
            ctx=ctx,
            alerts=Alerts(ctx),
            stories=Stories(ctx),
            articles=Articles(ctx),
            feeds=Feeds(ctx),
            watchlists=Watchlists(ctx),
            channels=Channels(ctx),
            health=HealthService(ctx, liveness),
            users=users,
            tokens=Tokens(ctx),
            sessions=Sessions(ctx, users),
            audit=Audit(ctx),
            triage=TriageDesk(ctx),
            trends=Trends(ctx),
            evidence=Evidence(ctx),
        )

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def reload(self, settings: Settings) -> None:
        """Use `settings` from the next call on (the runtime's SIGHUP reload calls this)."""
        self.ctx.settings = settings


@contextlib.asynccontextmanager
async def open_monitor(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
    liveness: Liveness | None = None,
) -> AsyncIterator[Monitor]:
    """The use cases over the configured database (migrated first unless `migrate` is
    False). Pass the `engine` of a running service to share it; it is then not closed here.
    `liveness` makes health answer for this serving process (`/readyz`)."""
    clock = clock or SystemClock()
    if engine is not None:
        yield Monitor.build(Context(settings, engine, clock), liveness=liveness)
        return
    async with open_engine(settings, migrate=migrate) as own:
        yield Monitor.build(Context(settings, own, clock), liveness=liveness)
