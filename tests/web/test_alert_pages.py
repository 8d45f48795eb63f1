"""Cursor pages of `GET /api/v1/alerts` on SQLite and PostgreSQL: every alert once, newest
first, ties on the creation time broken by id, whatever the page size."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from monitor.storage.tables import alerts, stories
from tests.support.api import NOW, Served


async def _add_alerts(api: Served, count: int) -> list[tuple[str, str]]:
    """`count` more alerts, three to a creation time; (created_at, id) of every alert."""
    rows = []
    async with api.engine.begin() as conn:
        for n in range(count):
            at = NOW - timedelta(minutes=1 + n // 3)
            story = await conn.execute(
                insert(stories)
                .values(title=f"s{n}", first_seen=at, last_seen=at, article_count=1)
                .returning(stories.c.id)
            )
            rows.append(
                {
                    "id": f"alt_page{n:04d}",
                    "watchlist": "isis-k",
                    "story_id": story.scalar_one(),
                    "article_id": None,
                    "severity": "high",
                    "matches": [],
                    "snippets": [],
                    "created_at": at,
                }
            )
        await conn.execute(insert(alerts), rows)
    every = [(r["created_at"], r["id"]) for r in rows] + [(NOW, api.seeded.alert_id)]
    return [(at.isoformat(), alert_id) for at, alert_id in every]


async def test_cursor_pages_hold_every_alert_once_in_order(api: Served) -> None:
    stored = await _add_alerts(api, 13)
    expected = [alert_id for _, alert_id in sorted(stored, key=lambda r: (-_ts(r[0]), r[1]))]
    async with api.client("viewer") as client:
        for size in (1, 2, 5, 50):
            seen, cursor = [], None
            while True:
                params = {"limit": size} | ({"cursor": cursor} if cursor else {})
                page = (await client.get("/api/v1/alerts", params=params)).json()
                seen += [item["id"] for item in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert seen == expected, size


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
