"""`--log-format json`: every line the service writes is a JSON object — start-up, reload
notices, library warnings, shutdown — and Arabic-script text is written as itself."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.feedserver import FeedServer, rss

ROOT = Path(__file__).resolve().parents[2]
TITLE = "داعش خراسان تتبنى هجوم كابل"


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--log-format", "json",
             "run"],
            cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def _until_logged(log: Path, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(encoding="utf-8", errors="replace"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged\n{log.read_text(errors='replace')[-3000:]}")
        await asyncio.sleep(0.2)


async def test_every_line_of_the_service_is_json(tmp_path: Path) -> None:
    with FeedServer() as server:
        items = [{"guid": "a1", "title": TITLE, "description": "ISIS-K claimed the attack."}]
        feed = server.add("/rss", rss("feed", items), "application/rss+xml")
        config = tmp_path / "monitor.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "m.db"}"\n\n'
            '[polling]\nallow_networks = ["127.0.0.0/8"]\ntick = "1s"\nfetch_articles = false\n\n'
            f'[[feeds]]\nurl = "{feed}"\n\n'
            '[[watchlists]]\nname = "isis-k"\nterms = ["ISIS-K"]\nchannels = ["desk"]\n\n'
            '[channels.desk]\ntype = "log"\n',
            encoding="utf-8",
        )
        log = tmp_path / "service.log"
        process = _start(config, log)
        try:
            await _until_logged(log, "article stored")
            process.send_signal(signal.SIGHUP)
            await _until_logged(log, "watchlists reloaded")
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0
        finally:
            if process.poll() is None:
                process.kill()

    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    not_json = []
    for line in lines:
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            not_json.append(line)
    assert not_json == []
    assert any(TITLE in line for line in lines)  # written as itself, not as \u escapes
    assert "\\u06" not in "".join(lines)


def test_verbose_logs_one_line_per_poll_with_what_it_skipped(tmp_path: Path) -> None:
    with FeedServer() as server:
        items = [
            {"guid": "new", "title": "New", "description": "text",
             "pubDate": "Fri, 27 Nov 2026 10:00:00 GMT"},
            {"guid": "old", "title": "Old", "description": "text",
             "pubDate": "Mon, 01 Jan 2001 10:00:00 GMT"},
        ]  # fmt: skip
        feed = server.add("/rss", rss("feed", items), "application/rss+xml")
        config = tmp_path / "monitor.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "m.db"}"\n\n'
            '[polling]\nallow_networks = ["127.0.0.0/8"]\nfetch_articles = false\n'
            'max_entry_age = "3650d"\n\n'
            f'[[feeds]]\nurl = "{feed}"\n',
            encoding="utf-8",
        )
        argv = [sys.executable, "-m", "monitor", "--config", str(config), "--log-format",
                "json", "-v", "run", "--once", "--all"]  # fmt: skip
        first = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
        second = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)

    def polled(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
        events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
        return [e for e in events if e["event"] == "polled"]

    [one] = polled(first)
    [two] = polled(second)
    assert (one["feed"], one["status"], one["entries"], one["new"]) == (feed, 200, 2, 1)
    assert one["skipped"] == {"too_old": 1}
    assert (two["status"], two["unchanged"]) == (304, True)
