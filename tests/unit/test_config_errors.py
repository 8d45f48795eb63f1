"""A bad config is one line naming the file, the key and what is wrong, in words a TOML
user knows; never a traceback (OverflowError, RecursionError) or pydantic's wording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config, settings_from_dict
from monitor.errors import ConfigError


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, base=Path("."), source="monitor.toml", check_secrets=False)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_min_interval_longer_than_max_interval_is_refused() -> None:
    message = _error({"polling": {"min_interval": "6h", "max_interval": "2m"}})
    assert message == "monitor.toml: polling: min_interval (6h) is longer than max_interval (2m)"


def test_a_typo_in_a_channel_key_names_the_key_as_written() -> None:
    raw = {"channels": {"ops": {"type": "email", "smtp_hots": "x", "from": "a@b", "to": ["c@d"]}}}
    assert _error(raw) == "monitor.toml: channels.ops.smtp_hots: unknown key"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"feeds": [{"url": "http://x.test/", "tags": "af"}]}, "feeds[0].tags: must be a list"),
        ({"polling": {"concurrency": "many"}}, "polling.concurrency: must be a whole number"),
        ({"polling": {"fetch_articles": "yes please"}}, "must be true or false"),
        ({"watchlists": [{"name": "w", "severity": "dire"}]}, "must be 'low', 'medium'"),
    ],
)
def test_wrong_types_are_said_in_toml_words(raw: dict[str, Any], expected: str) -> None:
    message = _error(raw)
    assert expected in message
    assert "Input should be" not in message
    assert "tuple" not in message


def test_a_duration_too_long_for_a_timedelta_is_one_line() -> None:
    message = _error({"polling": {"max_interval": "99999999999y"}})
    assert message == (
        "monitor.toml: polling.max_interval: '99999999999y' is too long a duration: at most 100y"
    )


def test_a_bad_env_override_is_blamed_on_the_env_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("monitor_polling__timeout", "soon")  # env names are case-insensitive
    assert _error({"polling": {"timeout": "20s"}}).startswith(
        "monitor_polling__timeout (overrides polling.timeout in monitor.toml): 'soon' is not"
    )
    monkeypatch.delenv("monitor_polling__timeout")
    monkeypatch.setenv("MONITOR_POLLING__TIMEOUTS", "5s")
    assert (
        _error({}) == "MONITOR_POLLING__TIMEOUTS (overrides polling.timeouts in monitor.toml):"
        " unknown key"
    )
    monkeypatch.delenv("MONITOR_POLLING__TIMEOUTS")
    monkeypatch.setenv("MONITOR_POLLING__MIN_INTERVAL", "7h")  # clashes with the file's max
    assert _error({"polling": {"max_interval": "6h"}}) == (
        "monitor.toml (with MONITOR_POLLING__MIN_INTERVAL from the environment): polling:"
        " min_interval (7h) is longer than max_interval (6h)"
    )
    monkeypatch.setenv("MONITOR_POLLING__MIN_INTERVAL", "1m")
    monkeypatch.setenv("MONITOR_POLLING__SILENT_CHANNEL", "nope")
    assert _error({}) == (
        "MONITOR_POLLING__SILENT_CHANNEL (overrides polling.silent_channel in monitor.toml):"
        " no channel named 'nope'"
    )


def test_a_bad_file_value_is_still_blamed_on_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_POLLING__PER_HOST", "3")  # a good override of another key
    assert _error({"polling": {"timeout": "soon"}}).startswith(
        "monitor.toml: polling.timeout: 'soon' is not a duration"
    )


def test_worker_timeout_shorter_than_two_ticks_is_refused() -> None:
    message = _error({"polling": {"tick": "10s", "worker_timeout": "15s"}})
    assert "worker_timeout (15s) must be at least twice the tick (10s)" in message


def test_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, check_secrets=False)
    assert str(caught.value).startswith(f"{path}: nested too deeply: at most")


def test_worker_timeout_defaults_to_four_ticks_and_at_least_20_seconds() -> None:
    def dead_after(polling: dict[str, Any]) -> float:
        raw = {"polling": polling}
        settings = settings_from_dict(raw, base=Path("."), check_secrets=False)
        return settings.polling.dead_after.total_seconds()

    assert dead_after({}) == 20
    assert dead_after({"tick": "30s"}) == 120  # a slow tick is no config error
    assert dead_after({"tick": "1s", "worker_timeout": "5s"}) == 5


def test_an_unknown_sslmode_is_a_config_error_naming_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1/x?sslmode=sometimes"
    assert _error({"database": {"url": url}}) == (
        "monitor.toml: database.url: sslmode must be one of disable, allow, prefer, require,"
        " verify-ca, verify-full, not 'sometimes'"
    )
    monkeypatch.setenv("MONITOR_DATABASE__URL", url.replace("sometimes", "bogus"))
    assert _error({}).startswith(
        "MONITOR_DATABASE__URL (overrides database.url in monitor.toml): sslmode must be one of"
    )
