"""Snippets on the terminal with the matched terms marked (the one highlighter's spans)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.services.shapes import marks
from monitor.textcaps import SNIPPET_CHARS
from monitor.textsafe import SafeText, neutralise, safe_join


def highlighted(snippet: str, terms: Sequence[str], *, indent: str = "  ") -> SafeText:
    """The snippet (as text, cut to its cap) with every occurrence of the terms marked."""
    shown = neutralise(snippet, SNIPPET_CHARS)
    line = safe_join(indent, shown)
    for start, end in marks(shown, terms):
        line.stylize("bold yellow", len(indent) + start, len(indent) + end)
    return line
