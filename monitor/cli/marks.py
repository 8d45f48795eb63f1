"""Snippets on the terminal with the matched terms marked (the one highlighter's spans)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from monitor.services.shapes import marks


def highlighted(snippet: str, terms: Sequence[str]) -> Text:
    """The snippet with every occurrence of the terms marked."""
    shown = Text(snippet)
    for start, end in marks(snippet, terms):
        shown.stylize("bold yellow", start, end)
    return shown
