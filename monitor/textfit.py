"""Tables that fit the terminal: one line per row, whatever the width.

The width is the terminal's (`shutil.get_terminal_size`: `COLUMNS` when set, else the
terminal's, else 80 in a pipe). Columns are of three kinds:

- `kept` — ids, times, states, severities: never cut (an id is what a user copies);
- `short` — names, terms, counts: whole up to `cap` characters, then cut with "…";
- `free` — the one free-text column (a title, an error): what the others leave, cut with "…".

When the kept and short columns leave the free one fewer than `FREE_MIN` characters (or, in a
table without one, do not fit at all), the droppable columns go, the highest `drop` rank first;
the free column may itself be droppable. Text is cut with `textcaps.clip` (never inside
a combining sequence; one character counts one column, so Arabic marks only ever leave room
to spare), and rich's own ellipsis guards the rare wide character.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table

from monitor.textsafe import SafeText, neutralise, safe

GAP = 2  # spaces between columns
FREE_MIN = 12


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    kind: str = "short"  # kept | short | free
    cap: int = 24  # short columns: most characters shown
    drop: int = 0  # 0: always shown; else dropped when narrow, the highest rank first


def terminal_width() -> int:
    """The width to fit: COLUMNS, the terminal's, or 80 when stdout is not a terminal."""
    return shutil.get_terminal_size((80, 24)).columns


def fitted(
    columns: Sequence[Col], rows: Sequence[Sequence[object]], width: int, *, title: str = ""
) -> Table:
    """A borderless table of `rows` (plain values) that fits in `width` columns."""
    texts = [[_flat(value) for value in row] for row in rows]
    widths = _widths(columns, texts, width)
    # The width is fixed to what the columns need: rich, measuring the console its own way,
    # neither cuts a kept column nor pads the line beyond it.
    total = sum(widths.values()) + GAP * (len(widths) - 1)
    table = Table(
        box=None,
        pad_edge=False,
        padding=(0, GAP // 2),
        header_style="bold",
        width=total,
        title=title or None,
        title_justify="left",
        title_style="",
    )
    for i, w in widths.items():
        table.add_column(columns[i].header, width=w, no_wrap=True, overflow="ellipsis")
    for row, values in zip(texts, rows, strict=True):
        table.add_row(*(_cell(row[i], values[i], columns[i], w) for i, w in widths.items()))
    return table


def _widths(columns: Sequence[Col], texts: list[list[str]], width: int) -> dict[int, int]:
    """Each shown column's width: all of them whole when they fit; else short columns at
    their cap, droppable ones gone until the free one has `FREE_MIN`, the free one the rest,
    and what is left over given back to the short ones. Kept columns are never narrowed: in
    a terminal too narrow even for them the line is longer than the terminal."""
    widest = [max([len(c.header), *(len(row[i]) for row in texts)]) for i, c in enumerate(columns)]
    if sum(widest) + GAP * (len(columns) - 1) <= width:
        return dict(enumerate(widest))
    natural = [_capped(c, w) for c, w in zip(columns, widest, strict=True)]
    shown = _shown_columns(columns, natural, width)
    widths = {i: natural[i] for i in shown}
    spare = width - GAP * (len(shown) - 1) - sum(widths.values())
    for i in shown:
        if columns[i].kind == "free":
            widths[i] = max(widths[i] + min(spare, 0), min(FREE_MIN, widest[i]))
            spare = max(spare, 0)
    for i in shown:
        if columns[i].kind == "short" and spare > 0:
            grown = min(widest[i], widths[i] + spare)
            spare -= grown - widths[i]
            widths[i] = grown
    return widths


def _capped(col: Col, widest: int) -> int:
    return min(widest, max(col.cap, len(col.header))) if col.kind == "short" else widest


def _flat(value: object) -> str:
    """A cell's text on one line, neutralised (what the terminal will show)."""
    text = value.plain if isinstance(value, SafeText) else neutralise(value)
    return " ".join(text.split()) if "\n" in text or "\t" in text else text


def _shown_columns(columns: Sequence[Col], natural: list[int], width: int) -> list[int]:
    shown = list(range(len(columns)))
    droppable = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop)
    while droppable:
        used = sum(natural[i] for i in shown if columns[i].kind != "free")
        free_room = width - GAP * (len(shown) - 1) - used
        # A table with no free text shown (none, or it was droppable and went) needs no room.
        wanted = FREE_MIN if any(columns[i].kind == "free" for i in shown) else 0
        if free_room >= wanted and used + GAP * (len(shown) - 1) <= width:
            break
        shown.remove(droppable.pop()[1])
    return shown


def _cell(text: str, value: object, col: Col, width: int) -> SafeText:
    """Kept cells as given (with their colour); the others cut to `width`."""
    if col.kind == "kept":
        return value if isinstance(value, SafeText) else safe(text)
    return safe(text, limit=width)
