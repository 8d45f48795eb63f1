"""Drive the `monitor` command as a user does (a real process) and write its config file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def monitor(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def write_config(path: Path, db_url: str, feeds: list[str], extra: str = "") -> Path:
    feed_blocks = "".join(
        f'\n[[feeds]]\nurl = "{url}"\nname = "feed {i}"\n' for i, url in enumerate(feeds)
    )
    path.write_text(
        f"""
[database]
url = "{db_url}"

[polling]
allow_networks = ["127.0.0.0/8"]
timeout = "10s"
tick = "1s"

[delivery]
shutdown_timeout = "5s"
{feed_blocks}
[[watchlists]]
name = "demo"
channels = ["desk-log"]
terms = ["the"]

[channels.desk-log]
type = "log"
{extra}
""",
        encoding="utf-8",
    )
    return path
