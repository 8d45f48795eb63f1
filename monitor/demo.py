"""`monitor demo`: the real pipeline, offline, against bundled recorded feeds on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import secrets
import shlex
import signal
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from rich.console import Console

from monitor.config import Settings, settings_from_dict
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe

DEMO_CONFIG = Path(__file__).with_name("demo.toml")
CONFIG_NAME = "monitor.toml"  # the config written beside a kept demo database
DEMO_USER = "demo"
# One line per row in any terminal (`textfit`): ids whole, titles cut to what is left.
ARTICLE_COLUMNS = (
    Col("id", "kept"),
    Col("lang", "kept"),
    Col("feed", cap=20),
    Col("title", "free"),
    Col("story", "kept"),
)
ALERT_COLUMNS = (
    Col("alert", "kept"),
    Col("severity", "kept"),
    Col("watchlist", cap=16),
    Col("article", "free"),
    Col("matches", cap=24, drop=1),
)


def demo_settings(
    feeds: list[tuple[str, str, list[str]]], folder: Path, *, port: int | None = None
) -> Settings:
    """The demo config: bundled watchlists, a log channel, SQLite in `folder`, loopback allowed;
    with `port`, the web server on 127.0.0.1:`port`."""
    raw: dict[str, Any] = tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    raw["database"] = {"url": f"sqlite+aiosqlite:///{folder / 'demo.db'}"}
    if port is not None:
        raw["server"] = {"enabled": True, "host": "127.0.0.1", "port": port}
    raw.setdefault("polling", {})["allow_networks"] = ["127.0.0.0/8"]
    raw["feeds"] = [{"url": url, "name": name, "tags": tags} for url, name, tags in feeds]
    return settings_from_dict(raw, base=folder, source=str(DEMO_CONFIG))


def write_demo_config(folder: Path, database_url: str) -> Path:
    """`folder/monitor.toml`: the demo's config with its database, so `monitor --config` on
    it works from any folder (the feeds are in the database; the CLI needs no more)."""
    path = folder / CONFIG_NAME
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    # A JSON string is a valid TOML basic string.
    note = (
        "# For the CLI, the API and the console on the demo's database. Its feeds are rows of\n"
        "# the database, not of this file (their server lived only while the demo ran), so\n"
        "# `monitor run` with this file disables them, as it does any feed a config drops.\n"
    )
    path.write_text(
        f"{note}{text}\n[database]\nurl = {json.dumps(database_url)}\n", encoding="utf-8"
    )
    return path


def cli_hint(config: Path) -> str:
    """The command that points the CLI at a kept demo database, runnable from anywhere."""
    return f"monitor --config {shlex.quote(str(config))} alerts list"


async def run_demo(console: Console, *, keep: bool = False, hint: bool = True) -> Path | None:
    """Serve the demo feeds, run one round into a temporary database, print the results;
    the folder of the database when it is kept."""
    from monitor.app import open_runtime
    from monitor.demo_server import DemoServer
    from monitor.scheduler import run_round

    folder = Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    with DemoServer() as server:
        settings = demo_settings(server.feed_urls(), folder)
        console.print(
            f"serving {len(settings.feeds)} recorded feeds on {server.base_url}; database {folder / 'demo.db'}",
            highlight=False,
        )
        async with open_runtime(settings) as runtime:
            with console.status("polling feeds, extracting articles, matching watchlists…"):
                report = await run_round(runtime, all_feeds=True)
            await _print_results(console, runtime.settings, runtime.engine, report)
    if keep:
        config = write_demo_config(folder, settings.database.url)
        console.print(
            safe(f"kept the demo database: {settings.database.url}"),
            highlight=False,
        )
        if hint:  # `demo --serve` prints it with the console's address
            console.print(safe(f"CLI on it: {cli_hint(config)}"), highlight=False)
        return folder
    for item in sorted(folder.glob("*"), reverse=True):
        item.unlink()
    folder.rmdir()
    return None


async def serve_demo(console: Console, *, port: int, stop: asyncio.Event | None = None) -> None:
    """`monitor demo --serve`: run the demo, keep its database and serve the console on
    127.0.0.1 with a `demo` analyst whose one-time password is printed, until SIGINT/SIGTERM
    (or `stop`)."""
    from monitor.app import open_engine, worker_id
    from monitor.clock import SystemClock
    from monitor.server import serve_status
    from monitor.services import open_monitor
    from monitor.services.health import Pulse
    from monitor.web.server import listening_socket

    if port:  # refused before the round, not after it, and with no folder left behind
        listening_socket("127.0.0.1", port).close()
    folder = await run_demo(console, keep=True, hint=False)
    assert folder is not None
    settings, password = demo_settings([], folder, port=port), secrets.token_urlsafe(12)
    stop = stop or _stop_on_signals()
    clock = SystemClock()
    async with open_engine(settings, migrate=True) as engine:
        async with open_monitor(settings, engine=engine, migrate=False) as m:
            await m.users.add(DEMO_USER, "analyst", password, actor="monitor demo")
        # This process is the demo's service while it serves: it beats like a worker's tick,
        # so `/readyz` (its own beat) and `monitor health` (the newest heartbeat) agree.
        pulse = Pulse(engine, worker_id(), clock.now, settings.polling.tick)
        await pulse.beat()
        beating = asyncio.create_task(pulse.run(), name="demo heartbeat")
        server = await serve_status(
            engine=engine,
            settings=settings,
            clock=clock,
            polling=False,
            last_tick=lambda: pulse.last,
        )
        assert server is not None
        console.print(
            f"console: http://127.0.0.1:{server.port}/  user: {DEMO_USER}  password: {password}"
            "  (shown once; Ctrl-C stops)",
            highlight=False,
        )
        console.print(
            safe(
                f"CLI on this database: {cli_hint(folder / CONFIG_NAME)}"
                f"  (API: http://127.0.0.1:{server.port}/api/v1)"
            ),
            highlight=False,
        )
        try:
            await stop.wait()
        finally:
            await server.stop()
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)


def _stop_on_signals() -> asyncio.Event:
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _print_results(console: Console, settings: Settings, engine: Any, report: Any) -> None:
    from monitor.services import open_monitor

    async with open_monitor(settings, engine=engine) as m:
        stored = await m.articles.list(limit=1000)
        stories = await m.stories.list(limit=1000)
        alerts = (await m.alerts.list(limit=100)).items
    width = terminal_width()
    console.print(
        fitted(
            ARTICLE_COLUMNS,
            [(a.id, a.language, a.feed.name, a.title, a.story_id) for a in reversed(stored)],
            width,
            title=f"{len(stored)} articles stored",
        ),
        soft_wrap=False,
        crop=False,
    )
    merged = [s for s in stories if s.articles > 1]
    console.print(
        f"{len(stories)} stories; {len(merged)} carried by several outlets: "
        + ", ".join(f"#{s.id} ×{s.articles}" for s in merged),
        highlight=False,
    )
    rows = [
        (
            alert.id,
            alert.severity,
            alert.watchlist,
            alert.article.title,
            ", ".join(f"{m.term}×{m.count}" for m in alert.matches),
        )
        for alert in alerts
    ]
    console.print(
        fitted(ALERT_COLUMNS, rows, width, title=f"{len(alerts)} alerts"),
        soft_wrap=False,
        crop=False,
    )
    console.print(
        f"round: {len(report.polls)} feeds polled, {report.stored} articles stored, "
        f"{report.alerts} alerts raised, {report.delivered} messages delivered (to the demo's log "
        f"channel), {report.failed_deliveries()}, {report.errors} feed errors",
        highlight=False,
    )
