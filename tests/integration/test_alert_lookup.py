"""Finding alerts as a user types them (both backends): a unique prefix of an id is enough,
an ambiguous or unknown one is one clear line; a watchlist filter names a real watchlist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import LogChannelConfig
from monitor.errors import InvalidRequest, NotFound
from tests.support.notify import seed_alerts
from tests.support.usecases import use_cases

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CONFIG = {
    "watchlists": [{"name": "isis-k", "terms": ["ISIS-K"], "channels": ["desk"]}],
    "channels": {"desk": {"type": "log"}},
}


async def _seeded(engine: AsyncEngine) -> list[str]:
    return await seed_alerts(engine, {"desk": LogChannelConfig(type="log")}, NOW, 40)


def _unique_prefix(ids: list[str], target: str) -> str:
    for length in range(len("alt_") + 1, len(target)):
        prefix = target[:length]
        if sum(i.startswith(prefix) for i in ids) == 1:
            return prefix
    raise AssertionError("no unique prefix")


async def test_a_unique_prefix_finds_the_alert(engine: AsyncEngine) -> None:
    ids = await _seeded(engine)
    monitor, _ = use_cases(engine, NOW, CONFIG)
    target = ids[7]

    found = await monitor.alerts.get(_unique_prefix(ids, target))

    assert found.id == target
    assert (await monitor.alerts.get(target)).id == target


async def test_an_ambiguous_prefix_says_so_and_an_unknown_id_is_not_found(
    engine: AsyncEngine,
) -> None:
    await _seeded(engine)
    monitor, _ = use_cases(engine, NOW, CONFIG)

    with pytest.raises(InvalidRequest, match=r"^alert id 'alt_' is ambiguous \(alt_"):
        await monitor.alerts.get("alt_")
    with pytest.raises(NotFound, match="no alert 'alt_zzzz'"):
        await monitor.alerts.get("alt_zzzz")


async def test_a_prefix_is_enough_to_retry(engine: AsyncEngine) -> None:
    ids = await _seeded(engine)
    monitor, _ = use_cases(engine, NOW, CONFIG)

    assert await monitor.alerts.retry(_unique_prefix(ids, ids[3])) == 1


async def test_an_unknown_watchlist_filter_is_refused(engine: AsyncEngine) -> None:
    await _seeded(engine)
    monitor, _ = use_cases(engine, NOW, CONFIG)

    with pytest.raises(InvalidRequest, match=r"^no watchlist 'nope' \(configured: isis-k\)$"):
        await monitor.alerts.list(watchlist="nope")
    assert len((await monitor.alerts.list(watchlist="isis-k", limit=100)).items) == 40


async def test_triage_takes_a_prefix_and_refuses_an_ambiguous_one(engine: AsyncEngine) -> None:
    ids = await _seeded(engine)
    monitor, _ = use_cases(engine, NOW, CONFIG)

    done = await monitor.triage.set(_unique_prefix(ids, ids[5]), "acknowledged", None, actor="t")

    assert done.state == "acknowledged"
    assert (await monitor.triage.get(ids[5])).state == "acknowledged"
    with pytest.raises(InvalidRequest, match="is ambiguous"):
        await monitor.triage.set("alt_", "dismissed", None, actor="t")
    with pytest.raises(NotFound, match="no alert 'alt_zzzz'"):
        await monitor.triage.set("alt_zzzz", "dismissed", None, actor="t")
