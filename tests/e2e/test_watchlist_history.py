"""Watchlist history through a running service: editing a watchlist and sending SIGHUP
records version 2 (a reload of an unchanged file records nothing), an alert raised after
it names version 2, and `monitor watchlists history` shows what changed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.storage.tables import alerts, watchlist_versions
from tests.conftest import engine_for
from tests.support.cli import monitor
from tests.support.evidence_site import MARKET, english_page
from tests.support.feedserver import FeedServer, rss

WAIT = 120.0


def _write_config(path: Path, database_url: str, feed_url: str, term: str) -> Path:
    path.write_text(
        f"""
[database]
url = "{database_url}"

[polling]
allow_networks = ["127.0.0.0/8"]
timeout = "10s"
tick = "1s"
min_interval = "1s"

[delivery]
shutdown_timeout = "5s"

[[feeds]]
url = "{feed_url}"
name = "Outlet"
interval = "1s"

[[watchlists]]
name = "isis-k"
severity = "high"
terms = ["{term}"]
""",
        encoding="utf-8",
    )
    return path


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )


async def _wait(check: Callable[[], Awaitable[bool]], what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.2)


async def _versions(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(watchlist_versions)) or 0)


async def _alert_versions(engine: AsyncEngine) -> list[tuple[str, int | None]]:
    async with engine.connect() as conn:
        return [
            tuple(r) for r in await conn.execute(select(alerts.c.id, alerts.c.watchlist_version))
        ]  # type: ignore[misc]


async def test_sighup_records_version_2_and_the_next_alert_names_it(
    database_url: str, tmp_path: Path
) -> None:
    engine = engine_for(database_url)
    log = tmp_path / "service.log"
    with FeedServer() as server:
        server.add("/market", english_page("Market attack", MARKET))
        feed_url = server.add("/rss", rss("Outlet", []), "application/rss+xml")
        config = _write_config(tmp_path / "monitor.toml", database_url, feed_url, "zzz-nothing")
        service = _start(config, log)
        try:
            await _wait(lambda: _is(engine, 1), "version 1 recorded", log)
            _write_config(config, database_url, feed_url, "ISIS-K")
            service.send_signal(signal.SIGHUP)
            await _wait(lambda: _is(engine, 2), "version 2 recorded", log)
            service.send_signal(signal.SIGHUP)  # the same file again: nothing new to record
            await _wait(lambda: _reloads(log, 2), "the second reload", log)
            assert await _versions(engine) == 2
            item = {"title": "Market attack", "link": server.url("/market"), "guid": "m"}
            server.add("/rss", rss("Outlet", [item]), "application/rss+xml")
            await _wait(lambda: _has_alert(engine), "the alert", log)
        finally:
            service.send_signal(signal.SIGTERM)
            assert service.wait(timeout=WAIT) == 0, log.read_text()[-3000:]
    ((alert_id, version),) = await _alert_versions(engine)
    await engine.dispose()
    assert version == 2
    shown = monitor(config, "alerts", "show", alert_id, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["evidence"]["watchlist_version"] == 2
    history = monitor(config, "watchlists", "history", "isis-k", "--json")
    assert history.returncode == 0, history.stderr
    first, second = json.loads(history.stdout)
    assert (first["version"], second["version"]) == (1, 2)
    assert first["diff"] == []
    assert '-      "text": "zzz-nothing"' in second["diff"]
    assert '+      "text": "ISIS-K"' in second["diff"]
    shown_text = monitor(config, "alerts", "show", alert_id)
    assert "evidence (watchlist isis-k v2):" in shown_text.stdout
    assert "/market  fetched " in shown_text.stdout
    warc, bundle = tmp_path / "e.warc.gz", tmp_path / "e.zip"
    exported = monitor(
        config, "evidence", "export", alert_id, "-o", str(warc), "--bundle", str(bundle)
    )
    assert exported.returncode == 0, exported.stderr
    assert f"pages of alert {alert_id}" in exported.stdout
    assert warc.stat().st_size > 0
    assert zipfile.is_zipfile(bundle)
    missing = monitor(
        config, "evidence", "export", "alt_nothing", "-o", str(tmp_path / "x.warc.gz")
    )
    assert missing.returncode == 1
    assert "no alert 'alt_nothing'" in missing.stderr
    text = monitor(config, "watchlists", "history", "isis-k")
    assert "isis-k v2" in text.stdout
    assert '+      "text": "ISIS-K"' in text.stdout


async def _is(engine: AsyncEngine, count: int) -> bool:
    return await _versions(engine) == count


async def _reloads(log: Path, count: int) -> bool:
    return log.read_text(errors="replace").count("watchlists reloaded") >= count


async def _has_alert(engine: AsyncEngine) -> bool:
    return bool(await _alert_versions(engine))
