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
    ("given", "window", "baseline", "after"),
    [
        ("2s", timedelta(hours=1), timedelta(days=1), timedelta(hours=1)),
        ("90m", timedelta(hours=2), timedelta(days=1), timedelta(hours=2)),
        ("36h", timedelta(hours=36), timedelta(hours=36), timedelta(hours=36)),
        ("6.99d", timedelta(days=7), timedelta(days=7), timedelta(days=7)),
    ],
)
def test_any_positive_duration_is_rounded_up_to_whole_hours(
    tmp_path: Path,
    given: str,
    window: timedelta,
    baseline: timedelta,
    after: timedelta,
) -> None:
    """Stories are counted per hour: "2s" is a valid duration everywhere, and here it means
    the whole hour it falls in; a baseline is at least the day of history the test needs."""
    table = {"surge": {"window": given, "baseline": given}, "quiet": {"after": given}}
    loaded = _load(tmp_path, table, coverage={"quiet": {"after": given}})
    watchlist = loaded.watchlists[0]
    assert watchlist.surge is not None
    assert watchlist.quiet is not None
    assert loaded.coverage.quiet is not None
    assert (watchlist.surge.window, watchlist.surge.baseline) == (window, baseline)
    assert (watchlist.quiet.after, loaded.coverage.quiet.after) == (after, after)


@pytest.mark.parametrize(
    ("watchlist", "extra", "message"),
    [
        ({"surge": {"window": "soon"}}, {}, "watchlists[0].surge.window: "),
        ({"surge": "yes"}, {}, "watchlists[0].surge: must be true, false or a table"),
        ({"surge": {"window": "8d"}}, {}, "watchlists[0].surge.window: must be at most 7d: every"),
        ({"surge": {"window": "0s"}}, {}, "watchlists[0].surge.window: '0s' must be a positive"),
        ({"surge": {"p_value": 2}}, {}, "watchlists[0].surge.p_value: "),
        ({"surge": {"factor": 0.5}}, {}, "watchlists[0].surge.factor: "),
        ({"surge": {"spike": 3}}, {}, "watchlists[0].surge.spike: unknown key"),
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
