"""`surge`, `quiet` and `[coverage]` config keys: `true` takes the defaults, tables are
validated, and every mistake is one line naming the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Settings, settings_from_dict
from monitor.errors import ConfigError


def _load(tmp_path: Path, watchlist: dict[str, Any], **extra: Any) -> Settings:
    raw = {"watchlists": [{"name": "isis-k", "terms": ["ISIS-K"]} | watchlist]} | extra
    return settings_from_dict(raw, base=tmp_path, source="monitor.toml")


def test_true_means_the_defaults_and_false_or_absent_means_off(tmp_path: Path) -> None:
    on = _load(tmp_path, {"surge": True, "quiet": True}).watchlists[0]
    assert on.surge is not None
    assert on.surge.window == timedelta(hours=6)
    assert (on.surge.baseline, on.surge.factor) == (timedelta(days=14), 3.0)
    assert (on.surge.min_stories, on.surge.p_value) == (5, 0.001)
    assert on.quiet is not None
    assert (on.quiet.after, on.quiet.min_daily) == (timedelta(hours=24), 3)
    off = _load(tmp_path, {"surge": False}).watchlists[0]
    assert off.surge is None
    assert off.quiet is None


def test_a_table_overrides_some_keys(tmp_path: Path) -> None:
    surge = _load(tmp_path, {"surge": {"window": "3h", "factor": 4}}).watchlists[0].surge
    assert surge is not None
    assert (surge.window, surge.factor, surge.min_stories) == (
        timedelta(hours=3),
        4.0,
        5,
    )


@pytest.mark.parametrize(
    ("watchlist", "extra", "message"),
    [
        ({"surge": {"window": "soon"}}, {}, "watchlists[0].surge.window: "),
        ({"surge": "yes"}, {}, "watchlists[0].surge: must be true, false or a table"),
        ({"surge": {"window": "10m"}}, {}, "watchlists[0].surge.window: must be between 1h and 7d"),
        ({"surge": {"p_value": 2}}, {}, "watchlists[0].surge.p_value: "),
        ({"surge": {"factor": 0.5}}, {}, "watchlists[0].surge.factor: "),
        ({"surge": {"spike": 3}}, {}, "watchlists[0].surge.spike: unknown key"),
        ({"quiet": {"after": "5m"}}, {}, "watchlists[0].quiet.after: must be at least 1h"),
        ({"quiet": {"min_daily": 0}}, {}, "watchlists[0].quiet.min_daily: "),
        ({}, {"coverage": {"quiet": True, "channels": ["nope"]}}, "coverage.channels: no channel"),
        ({}, {"coverage": {"quiet": {"after": 3}}}, "coverage.quiet.after: "),
    ],
)
def test_mistakes_are_one_line_naming_the_key(
    tmp_path: Path, watchlist: dict[str, Any], extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, watchlist, **extra)
    text = str(caught.value)
    assert text.startswith(f"monitor.toml: {message}"), text
    assert "\n" not in text
