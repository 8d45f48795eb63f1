"""`monitor.textfit`: tables one line per row in any width; kept columns never cut, the free
text cut with "…" (never between a letter and its marks), droppable columns gone first."""

from __future__ import annotations

import io
import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from monitor.textfit import Col, fitted

COLUMNS = (
    Col("id", "kept"),
    Col("when", "kept"),
    Col("name", cap=8),
    Col("note", cap=10, drop=1),
    Col("title", "free"),
)
ROW = ("alt_0123456789abcdef", "2026-11-27T16:30:00Z", "isis-k", "desk:sent", "A" * 60)
VOWELLED = "تَنْظِيمُ الدَّوْلَةِ الإِسْلَامِيَّةِ فِي خُرَاسَانَ يُعْلِنُ مَسْؤُولِيَّتَهُ"


def _lines(rows: list[tuple[object, ...]], width: int) -> list[str]:
    return _render(COLUMNS, rows, width)


def test_a_wide_terminal_shows_everything_whole() -> None:
    header, row = _lines([ROW], 200)

    assert header.split() == ["id", "when", "name", "note", "title"]
    assert row.split() == list(ROW)


def test_a_narrow_terminal_cuts_only_the_free_text_and_drops_what_may_go() -> None:
    header, row = _lines([ROW], 70)

    assert cell_len(row) <= 70
    assert header.split() == ["id", "when", "name", "title"]  # note dropped
    cells = row.split()
    assert cells[:3] == list(ROW[:3])
    assert cells[3].endswith("…")
    assert len(cells[3]) < 60


def test_kept_columns_stay_whole_when_nothing_else_fits() -> None:
    _, row = _lines([ROW], 30)

    assert row.startswith(f"{ROW[0]}  {ROW[1]}")


@given(st.integers(min_value=66, max_value=120))
def test_vowelled_arabic_is_cut_between_letters_never_inside_one(width: int) -> None:
    _, row = _lines([(*ROW[:4], VOWELLED)], width)
    shown = row.split("  ")[-1].strip()
    kept = shown.removesuffix("…").rstrip()

    assert cell_len(row) <= width
    assert VOWELLED.startswith(kept)
    if kept != VOWELLED:
        assert not unicodedata.category(VOWELLED[len(kept)]).startswith("M")


def _render(columns: tuple[Col, ...], rows: list[tuple[object, ...]], width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(fitted(columns, rows, width), soft_wrap=False, crop=False)
    return [line.rstrip() for line in console.file.getvalue().splitlines()]  # type: ignore[attr-defined]


def test_a_table_without_free_text_drops_only_what_it_must() -> None:
    columns = (Col("id", "kept"), Col("a", "kept", drop=1), Col("b", "kept", drop=2))
    row = ("x" * 20, "y" * 20, "z" * 20)

    header, shown = _render(columns, [row], 50)

    assert header.split() == ["id", "a"]  # b (the higher rank) went; a fits without it
    assert shown.split() == list(row[:2])


def test_a_droppable_free_column_goes_when_even_its_minimum_does_not_fit() -> None:
    columns = (Col("id", "kept"), Col("when", "kept"), Col("note", "free", drop=1))

    header, shown = _render(columns, [("x" * 20, "y" * 20, "A" * 40)], 50)

    assert header.split() == ["id", "when"]
    assert shown.split() == ["x" * 20, "y" * 20]
