"""`GET /articles/search` wraps the array `monitor articles search --json` prints: the same
article objects under `articles`, with how they were preselected (`method`) and how many
articles the matcher read (`candidates`) — README documents the envelope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.api import Served
from tests.support.cli import monitor, write_config

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_the_api_envelope_holds_the_cli_articles_unchanged(
    api: Served, tmp_path: Path
) -> None:
    async with api.client("viewer") as client:
        answer = await client.get("/api/v1/articles/search", params={"q": "Kabul"})
    config = write_config(tmp_path / "monitor.toml", api.monitor.settings.database.url, [])
    printed = monitor(config, "articles", "search", "Kabul", "--json")

    assert answer.status_code == 200, answer.text
    assert printed.returncode == 0, printed.stderr
    body = answer.json()
    assert set(body) == {"articles", "method", "candidates"}
    assert body["method"] in ("fts", "like", "scan")
    assert body["candidates"] >= len(body["articles"]) >= 1
    assert body["articles"] == json.loads(printed.stdout)
