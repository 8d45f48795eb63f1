"""The one printer helper: remote text is shown on a terminal, never obeyed (property tests)."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from monitor.textsafe import (
    SafeText,
    cells,
    json_safe,
    neutralise,
    neutralise_fields,
    safe,
    safe_join,
)

# Every code point, lone surrogates included (hypothesis' default text has none).
ANY_TEXT = st.text(alphabet=st.integers(0, 0x10FFFF).map(chr), max_size=200)
OBEYED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def render(*objects: object, markup: bool = False) -> str:
    """What a terminal receives (colour off, so every ESC would have come from the text)."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system=None, width=100)
    console.print(*objects, markup=markup, highlight=False)
    return buffer.getvalue()


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
def test_neutralised_text_has_nothing_a_terminal_obeys(text: str) -> None:
    shown = neutralise(text)
    assert OBEYED.search(shown) is None
    shown.encode("utf-8")  # never a UnicodeEncodeError
    assert neutralise(shown) == shown


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_the_printer_never_raises_and_prints_no_escape(text: str) -> None:
    table = Table("cell")
    table.add_row(*cells(text))
    for output in (
        render(safe(text)),
        render(table),
        render(safe_join(("a", "bold"), text, SafeText("b"))),
    ):
        assert "\x1b" not in output
        assert OBEYED.search(output.replace("\n", "")) is None


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_json_safe_is_the_same_json_value(text: str) -> None:
    document = json_safe(json.dumps({"title": text}, ensure_ascii=False))
    assert OBEYED.search(document) is None
    assert json.loads(document) == {"title": text}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J", "␛[2J"),
        ("\x1b]8;;https://x.example/\x07click\x1b]8;;\x07", "␛]8;;https://x.example/␇click␛]8;;␇"),
        ("a\x00b\rc\x7f", "a␀b␍c␡"),
        ("\x9b31m", "\\x9b31m"),
        ("abc\u202edcba\u202c", "abc⟨U+202E⟩dcba⟨U+202C⟩"),
        ("\u2067isolate\u2069", "⟨U+2067⟩isolate⟨U+2069⟩"),
        ("bad \udc80 byte", "bad \ufffd byte"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        (
            "[/] [link=https://x.example/]click me[/link]",
            "[/] [link=https://x.example/]click me[/link]",
        ),
        ("داعش خراسان\u200cها", "داعش خراسان\u200cها"),  # ZWNJ is Persian orthography, kept
    ],
)
def test_what_each_hostile_character_becomes(text: str, shown: str) -> None:
    assert neutralise(text) == shown
    assert render(safe(text)).rstrip("\n") == shown.expandtabs(8)


def test_a_link_in_markup_is_not_a_hyperlink() -> None:
    table = Table("cell")
    table.add_row(*cells("[link=https://phish.example/]click me[/link]\\"))
    output = render(table)
    assert "[link=https://phish.example/]click me[/link]\\" in output
    assert "\x1b]8" not in output


def test_safe_text_stays_safe_when_it_grows() -> None:
    text = safe("a")
    text.append("\x1b[2J")
    text.append(SafeText("\u202e"))
    grown = text + "\x9b"
    assert isinstance(grown, SafeText)
    assert grown.plain == "a␛[2J⟨U+202E⟩\\x9b"
    assert SafeText("\x1b").plain == "␛"


def test_limit_cuts_before_neutralising() -> None:
    assert neutralise("x" * 50, 10) == "x" * 9 + "…"
    assert len(safe("t" * 5_000_000, limit=1000).plain) == 1000


def test_log_fields_are_neutralised_inside_lists_and_dicts() -> None:
    fields = {"event": "alert \x1b[2J", "title": ["\u202e"], "n": 3, "d": {"k": "\x00"}}
    assert neutralise_fields(fields) == {
        "event": "alert ␛[2J",
        "title": ["⟨U+202E⟩"],
        "n": 3,
        "d": {"k": "␀"},
    }
