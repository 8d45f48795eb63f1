"""Every list command's table in an 80-column pipe: one line per row, ids, times and audit
targets whole, free text cut with "…" (never between an Arabic letter and its marks). One
process per command: each costs about a second."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from monitor.storage.engine import create_engine
from monitor.storage.tables import api_tokens, audit_log, users
from tests.support.fitting import (
    ARABIC,
    NOW,
    TIME,
    cells_of,
    fitted_rows,
    kept_whole,
    monitor_at,
    seeded,
)

LONG_URL = "https://news.example/" + "section/" * 12 + "rss"


async def _accounts(tmp_path: Path, alert_id: str) -> None:
    """A user with a long name, a token of theirs, and two audit entries (one on an alert)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        async with engine.begin() as conn:
            user_id = (
                await conn.execute(
                    insert(users)
                    .values(
                        name="ann-" + "x" * 40,
                        role="analyst",
                        password_hash="-",
                        created_at=NOW,
                        password_changed_at=NOW,
                    )
                    .returning(users.c.id)
                )
            ).scalar_one()
            await conn.execute(
                insert(api_tokens).values(
                    user_id=user_id,
                    token_hash="0" * 64,
                    prefix="fmt_abcdef",
                    created_at=NOW,
                    expires_at=NOW + timedelta(days=3650),
                    last_used_at=NOW,
                )
            )
            change = {"before": {"state": "new"}, "after": {"state": "dismissed", "note": ARABIC}}
            await conn.execute(
                insert(audit_log),
                [
                    {"at": NOW, "actor": "cli:ann", "action": "alert.triage", **change}
                    | {"target": f"alert:{alert_id}"},
                    {"at": NOW, "actor": "cli:ann", "action": "user.add", **change}
                    | {"target": "user:ann"},
                ],
            )
    finally:
        await engine.dispose()


async def test_every_list_fits_80_columns_one_line_per_row(tmp_path: Path) -> None:
    config, ids = await seeded(tmp_path)
    await _accounts(tmp_path, ids[0])
    with sqlite3.connect(tmp_path / "m.db") as db:
        db.execute("UPDATE feeds SET url = ?", (LONG_URL,))
    run = {
        name: monitor_at(config, *name.split())
        for name in (
            "stories list",
            "articles list",
            "feeds list",
            "users list",
            "tokens list",
            "audit list",
            "watchlists list",
            "channels list",
        )
    }

    for line in fitted_rows(run["stories list"], 3):
        story_id, first_seen, *_, title = cells_of(line)
        assert story_id.isdigit(), line
        assert TIME.fullmatch(first_seen), line
        kept_whole(title)
    for line in fitted_rows(run["articles list"], 3):
        cells = cells_of(line)
        assert cells[0].isdigit(), line
        assert TIME.fullmatch(cells[1]), line
        assert cells[-1].isdigit(), line  # the story id, after the cut title
        kept_whole(cells[-2])
    [feed] = fitted_rows(run["feeds list"], 1)
    cells = cells_of(feed)
    assert cells[0].isdigit(), feed
    kept_whole(cells[1])  # the name
    assert cells[2].startswith("https://news.example/s"), feed
    assert cells[2].endswith("…"), feed  # the URL, cut
    assert cells[3:] == ["ok", "cli", "3"], feed
    [user] = fitted_rows(run["users list"], 1)
    assert cells_of(user)[1:3] == ["analyst", "2026-11-27T12:00:00Z"], user
    [token] = fitted_rows(run["tokens list"], 1)
    assert token.split()[1:2] == ["fmt_abcdef…"], token
    assert " active " in token, token
    assert "2036-11-24T12:00:00Z" in token, token  # the expiry, whole
    entries = fitted_rows(run["audit list"], 2)
    assert all(line.startswith("2026-11-27T12:00:00Z  cli:ann  ") for line in entries), entries
    assert {cells_of(line)[-1] for line in entries} == {f"alert:{ids[0]}", "user:ann"}, entries
    [watchlist] = fitted_rows(run["watchlists list"], 1)
    assert watchlist.split() == ["demo", "medium", "desk-log", "1", "all"], watchlist
    [channel] = fitted_rows(run["channels list"], 1)
    assert channel.split() == ["desk-log", "log", "off", "-", "ok"], channel
