"""Watchlist history use case: every recorded version of a watchlist with a readable diff
from the version before it (`monitor watchlists history NAME`)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.errors import NotFound
from monitor.storage.watchlist_versions import list_versions


@dataclass(frozen=True, slots=True)
class WatchlistVersion:
    """One recorded definition of a watchlist and how it differs from the one before."""

    name: str
    version: int
    sha256: str
    definition: str  # canonical JSON
    first_loaded_at: datetime
    last_loaded_at: datetime
    host: str
    diff: tuple[str, ...]  # unified diff lines from the previous version; () for the first

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "definition": self.definition,
            "first_loaded_at": self.first_loaded_at.isoformat(),
            "last_loaded_at": self.last_loaded_at.isoformat(),
            "host": self.host,
            "diff": list(self.diff),
        }


def definition_diff(name: str, old: tuple[int, str], new: tuple[int, str]) -> tuple[str, ...]:
    """A unified diff between two versions' canonical definitions (pure)."""
    return tuple(
        line.rstrip("\n")
        for line in difflib.unified_diff(
            old[1].splitlines(),
            new[1].splitlines(),
            fromfile=f"{name} v{old[0]}",
            tofile=f"{name} v{new[0]}",
            lineterm="",
        )
    )


def with_diffs(name: str, rows: Sequence[dict[str, Any]]) -> list[WatchlistVersion]:
    """The versions in order, each with its diff from the one before."""
    versions: list[WatchlistVersion] = []
    previous: tuple[int, str] | None = None
    for row in rows:
        current = (int(row["version"]), str(row["definition"]))
        versions.append(
            WatchlistVersion(
                name=name,
                version=current[0],
                sha256=str(row["sha256"]),
                definition=current[1],
                first_loaded_at=row["first_loaded_at"],
                last_loaded_at=row["last_loaded_at"],
                host=str(row["host"]),
                diff=definition_diff(name, previous, current) if previous else (),
            )
        )
        previous = current
    return versions


async def watchlist_history(engine: AsyncEngine, name: str) -> tuple[WatchlistVersion, ...]:
    """Every recorded version of watchlist `name`, oldest first; NotFound if none."""
    async with engine.connect() as conn:
        rows = await list_versions(conn, name)
    if not rows:
        raise NotFound(
            f"no recorded version of watchlist {name!r}: versions are recorded when "
            "`monitor run` loads the config"
        )
    return tuple(with_diffs(name, rows))
