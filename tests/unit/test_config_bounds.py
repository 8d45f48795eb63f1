"""The config loader's bounds: deep nesting, huge numbers and huge files give one line, never
a RecursionError or OverflowError."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import MAX_NESTING, load_config
from monitor.errors import ConfigError
from monitor.units import parse_duration, parse_size


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, check_secrets=False)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000,  # tomllib recurses once per level
        "x = " + "{a = " * 5000 + "1" + "}" * 5000,
        "x = " + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1),  # parses, but too deep
    ],
)
def test_deep_toml_is_one_line(tmp_path: Path, text: str) -> None:
    message = _load(tmp_path, text)
    assert message.endswith(f"nested too deeply: at most {MAX_NESTING} levels")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("timeout", '"' + "9" * 400 + 'd"', "is not a duration"),
        ("timeout", '"99999999999999999999d"', "too long a duration: at most 100y"),
        ("timeout", '"101y"', "too long a duration: at most 100y"),
        ("max_feed_bytes", '"99999999999999999999GB"', "too large a size: at most 1TB"),
        ("max_feed_bytes", "9223372036854775807", "too large a size: at most 1TB"),
    ],
)
def test_huge_durations_and_sizes_are_one_line(
    tmp_path: Path, key: str, value: str, expected: str
) -> None:
    message = _load(tmp_path, f"[polling]\n{key} = {value}\n")
    assert f"polling.{key}: " in message
    assert expected in message


def test_a_huge_config_file_is_refused_before_parsing(tmp_path: Path) -> None:
    message = _load(tmp_path, "# " + "x" * 10_000_001 + "\n")
    assert "config file too large" in message


def test_the_largest_values_still_load() -> None:
    assert parse_duration("100y").days == 36_500
    assert parse_size("1000GB") == 1000**4
    with pytest.raises(ValueError, match="at most 100y"):
        parse_duration("36501d")
