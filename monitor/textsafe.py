"""Remote and user text on a terminal stays text: the one helper every face and the log channel
print it through.

Feeds are written by strangers. Before their text reaches a terminal:

- C0 control characters (except tab and newline) become their Unicode control pictures
  (ESC → ␛, NUL → ␀, CR → ␍, DEL → ␡), so an escape sequence is shown, never obeyed;
- C1 control characters (U+0080–U+009F, e.g. the one-byte CSI U+009B) are written out as
  `\\x9b`;
- bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) are shown as
  `⟨U+202E⟩`, so they cannot reorder what is printed around them (Trojan Source);
- lone surrogates (undecodable bytes kept by `surrogateescape`) become U+FFFD, so printing
  never raises `UnicodeEncodeError`;
- rich markup is never interpreted: `safe` builds a `SafeText` (a rich `Text`, which takes
  its string literally); no remote string is put inside a markup string.

`SafeText` stays safe when it grows: whatever is appended to it is neutralised too. Tables
and panels are built only from `SafeText` cells (tests/e2e/test_hostile_text.py fails when a
remote string reaches rich any other way). Pure apart from rich: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rich.style import Style
from rich.text import Text

from monitor.textcaps import clip

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    point = ord(char)
    if point < 0x20:
        return chr(0x2400 + point)
    if point == 0x7F:
        return "␡"
    if point <= 0x9F:
        return f"\\x{point:02x}"
    if 0xD800 <= point <= 0xDFFF:
        return "\ufffd"
    return f"⟨U+{point:04X}⟩"


def neutralise(text: object, limit: int | None = None) -> str:
    """`text` (anything; None is "") as a string a terminal shows and never obeys, cut to
    `limit` characters first when given."""
    plain = "" if text is None else text if isinstance(text, str) else str(text)
    if limit is not None:
        plain = clip(plain, limit)
    return _UNSAFE.sub(_shown, plain)


class SafeText(Text):
    """A rich Text whose every character went through `neutralise`; stays so when added to."""

    def __init__(self, text: str = "", style: str | Style = "", **options: Any) -> None:
        super().__init__(neutralise(text), style, **options)

    def append(self, text: str | Text, style: str | Style | None = None) -> SafeText:
        if not isinstance(text, SafeText):
            if isinstance(text, Text):
                text = safe(text.plain, style=text.style)
            else:
                text = neutralise(text)
        super().append(text, style)
        return self

    def copy(self) -> SafeText:
        copied = SafeText(
            self.plain,
            self.style,
            justify=self.justify,
            overflow=self.overflow,
            no_wrap=self.no_wrap,
            end=self.end,
            tab_size=self.tab_size,
        )
        copied._spans[:] = self._spans
        return copied


def safe(text: object, *, style: str | Style = "", limit: int | None = None) -> SafeText:
    """`text` as a SafeText: printed literally (no markup), controls neutralised."""
    return SafeText(neutralise(text, limit), style)


def cells(*values: object) -> list[SafeText]:
    """A table row's cells: each value as a SafeText (a SafeText is kept as it is)."""
    return [value if isinstance(value, SafeText) else safe(value) for value in values]


def safe_join(*parts: object | tuple[object, str]) -> SafeText:
    """One SafeText from pieces, each a value or a (value, style) pair."""
    joined = SafeText()
    for part in parts:
        value, style = part if isinstance(part, tuple) else (part, "")
        joined.append(value if isinstance(value, Text) else neutralise(value), style or None)
    return joined


def json_safe(document: str) -> str:
    """A JSON document with every character a terminal could obey written as a \\u escape
    (the same JSON value: outside strings JSON text is plain ASCII)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def neutralise_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A log event's fields with every string (also inside lists and dicts) neutralised."""
    return {key: _neutralise_value(value, 0) for key, value in fields.items()}


def _neutralise_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    if depth >= 4:  # log fields are shallow; deeper values are shown by repr, which escapes
        return value
    if isinstance(value, list | tuple):
        return [_neutralise_value(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _neutralise_value(v, depth + 1) for k, v in value.items()}
    return value
