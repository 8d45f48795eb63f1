"""The console in a real browser: `monitor demo --serve` (the real pipeline's demo database,
served by uvicorn on 127.0.0.1) driven by Playwright with Debian's Chromium.

The session starts the demo once, signs in as its printed one-time user, and adds what the
tests need through the use cases: a viewer, and a feed and an alerting article whose titles
hold markup. Screenshots go to `tmp/artefacts/browser/` (or `$MONITOR_ARTEFACTS`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from monitor.clock import FrozenClock
from monitor.demo import DEMO_USER, demo_settings
from monitor.services import open_monitor
from tests.support.api import article, ingest

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
)
ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("MONITOR_ARTEFACTS", ROOT / "tmp" / "artefacts" / "browser"))
VIEWER, VIEWER_PASSWORD = "vera", "viewer password 1"
HOSTILE = '<script>alert("feed")</script><img src=x onerror=alert("img")>'
WIDTHS = (375, 1440)
T = TypeVar("T")
START_TIMEOUT = 180  # seconds: the demo round extracts 37 articles, slowly on a loaded machine
DEMO_ALERTS = 7  # the bundled recordings raise seven alerts, one on a story five outlets carry


@dataclass
class Site:
    """The served console and what the session seeded in it."""

    base_url: str
    folder: Path
    password: str  # the demo user's one-time password
    demo_alerts: list[str]  # ids of the alerts the demo round raised
    seed_alert: str = ""  # the alert on the story five outlets carried
    seed_title: str = ""  # the title of the copy it was raised on: the first to be stored
    rtl_alert: str = ""  # an alert on an article in Arabic script
    spare: list[str] = field(default_factory=list)  # the other demo alerts, one per test
    hostile_alert: str = ""

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def raise_alert(self, title: str, text: str, **options: Any) -> str:
        """Store an alerting article through the pipeline's write path; its alert id.
        `options`: `feed` (its URL), `age` (published that long ago), `language`."""
        return _in_thread(_store_alerting(self.folder, title, text, **options))

    def add_feed(self, url: str, name: str) -> str:
        """Add a feed named `name` (no discovery, never polled here); its URL."""
        return _in_thread(_add_feed(self.folder, url, name))


@dataclass
class Watched:
    """A page with everything it said or asked: console messages, page errors, dialogs."""

    page: Page
    console: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self) -> Watched:
        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                self.console.append(f"{message.type}: {message.text}")

        def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        self.page.on("dialog", on_dialog)
        return self


def _in_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on an event loop of its own thread (Playwright's runs in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _store_alerting(
    folder: Path,
    title: str,
    text: str,
    *,
    feed: str = "",
    age: timedelta = timedelta(0),
    language: str = "en",
) -> str:
    settings = demo_settings([], folder)
    async with open_monitor(settings, migrate=False) as m:
        feeds = await m.feeds.list()
        feed_id = next((f.id for f in feeds if feed and f.url == feed), feeds[0].id)
        clock = FrozenClock(datetime.now(UTC))
        guid = f"browser-{time.time_ns()}"
        item = article(feed_id, guid, title, text, at=clock.now() - age)
        stored = await ingest(m.ctx.engine, settings, clock, replace(item, language=language))
    assert stored.alert_ids, f"{title!r} raised no alert"
    return stored.alert_ids[0]


async def _add_feed(folder: Path, url: str, name: str) -> str:
    async with open_monitor(demo_settings([], folder), migrate=False) as m:
        return (await m.feeds.add(url, name=name, discover=False)).url


async def _seed(site: Site) -> None:
    settings = demo_settings([], site.folder)
    async with open_monitor(settings, migrate=False) as m:
        alerts = (await m.alerts.list(limit=100)).items
        site.demo_alerts = [a.id for a in alerts]
        seed = next(a for a in alerts if a.story.articles == 5)
        site.seed_alert, site.seed_title = seed.id, seed.article.title or ""
        site.rtl_alert = next((a.id for a in alerts if a.article.language in ("fa", "ar")), "")
        site.spare = [a for a in site.demo_alerts if a not in (site.seed_alert, site.rtl_alert)]
        await m.users.add(VIEWER, "viewer", VIEWER_PASSWORD, actor="test")
        added = await m.feeds.add("http://127.0.0.1:9/hostile.xml", name=HOSTILE, discover=False)
    site.hostile_alert = await _store_alerting(
        site.folder,
        f"ISKP claims {HOSTILE}",
        f"The ISKP statement {HOSTILE} was posted on a channel used by the group. " * 3,
        feed=added.url,
    )


def _start_demo() -> tuple[subprocess.Popen[str], str, str, Path, list[str]]:
    """Start `monitor demo --serve`; its output is read to the end by a thread (an unread
    pipe would fill and block the server), and the console's address, password and
    database folder are taken from it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"},
        cwd=ROOT,
    )
    output: list[str] = []
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    deadline, folder = time.monotonic() + START_TIMEOUT, None
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            break
        if kept := re.search(r"sqlite\+aiosqlite:///(\S+)/demo\.db", line):
            folder = Path(kept.group(1))
        if served := re.search(
            r"console: (http://127\.0\.0\.1:\d+/)\s+user: (\S+)\s+password: (\S+)", line
        ):
            assert served.group(2) == DEMO_USER
            assert folder is not None, "".join(output)
            return process, served.group(1), served.group(3), folder, output
    process.kill()
    raise AssertionError("monitor demo --serve did not start:\n" + "".join(output[-30:]))


@contextlib.contextmanager
def running_demo() -> Iterator[tuple[Site, list[str]]]:
    """`monitor demo --serve` until the block ends (then stopped by SIGINT, its folder
    removed): the site as the demo left it, and the demo's output."""
    process, base_url, password, folder, output = _start_demo()
    try:
        yield Site(base_url, folder, password, []), output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=30) == 0, "monitor demo --serve did not exit 0 on SIGINT"
        finally:
            process.kill()
            for item in sorted(folder.glob("*"), reverse=True):
                item.unlink()
            folder.rmdir()


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    with running_demo() as (served, output):
        rounds = [line for line in output if line.startswith("round:")]
        _in_thread(_seed(served))
        assert len(served.demo_alerts) == DEMO_ALERTS, f"the demo round was incomplete: {rounds}"
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module: while Playwright's sync API runs, its event loop is this thread's, and the
    # asyncio tests collected after the browser tests could not start theirs.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def sign_in(page: Page, site: Site, name: str, password: str) -> None:
    """Sign in through the form and land on the inbox."""
    page.goto(site.url("/login"))
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url("/"))


@pytest.fixture
def as_user(browser: Browser, site: Site) -> Iterator[Callable[..., Watched]]:
    """`as_user(role, width=1440)`: a fresh browser context signed in as the analyst (the demo
    user) or the viewer, its page watched for console errors and dialogs."""
    contexts: list[Any] = []

    def open_as(role: str = "analyst", *, width: int = 1440) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        watched = Watched(context.new_page()).attach()
        if role == "analyst":
            sign_in(watched.page, site, DEMO_USER, site.password)
        else:
            sign_in(watched.page, site, VIEWER, VIEWER_PASSWORD)
        return watched

    yield open_as
    for context in contexts:
        context.close()


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot kept as a test artefact."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
