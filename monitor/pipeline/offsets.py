"""Length-changing steps of normalisation that remember where each piece of output came
from, so an offset in the result maps back to the text before the step: the edit record
(`Stage`, built by `StageBuilder`) and NFKC done cluster by cluster."""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Stage:
    """The edits one length-changing step made: output ranges and the input ranges they replace."""

    out_starts: tuple[int, ...]
    out_ends: tuple[int, ...]
    in_starts: tuple[int, ...]
    in_ends: tuple[int, ...]

    def start_to_input(self, pos: int) -> int:
        i = bisect_right(self.out_starts, pos) - 1
        if i < 0:
            return pos
        if pos < self.out_ends[i]:
            return self.in_starts[i]
        return self.in_ends[i] + pos - self.out_ends[i]

    def end_to_input(self, pos: int) -> int:
        i = bisect_left(self.out_starts, pos) - 1
        if i < 0:
            return pos
        if pos <= self.out_ends[i]:
            return self.in_ends[i]
        return self.in_ends[i] + pos - self.out_ends[i]


class StageBuilder:
    """Collects the pieces and edits of one step."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.edits: list[tuple[int, int, int, int]] = []
        self.length = 0

    def keep(self, text: str) -> None:
        self.pieces.append(text)
        self.length += len(text)

    def replace(self, in_start: int, in_end: int, text: str) -> None:
        self.edits.append((self.length, self.length + len(text), in_start, in_end))
        self.keep(text)

    def result(self) -> tuple[str, Stage | None]:
        text = "".join(self.pieces)
        if not self.edits:
            return text, None
        columns = tuple(zip(*self.edits, strict=True))
        return text, Stage(columns[0], columns[1], columns[2], columns[3])


def splice(text: str, edits: Sequence[tuple[int, int, str]]) -> tuple[str, Stage | None]:
    """`text` with each [start, end) of `edits` (in order, not overlapping) replaced by its
    string, and the Stage of it: what StageBuilder gives, in one pass without method calls."""
    if not edits:
        return text, None
    pieces: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    last = shift = 0
    for start, end, new in edits:
        pieces += (text[last:start], new)
        out_starts.append(start - shift)
        out_ends.append(start - shift + len(new))
        shift += end - start - len(new)
        last = end
    pieces.append(text[last:])
    in_starts = tuple(start for start, _, _ in edits)
    in_ends = tuple(end for _, end, _ in edits)
    return "".join(pieces), Stage(tuple(out_starts), tuple(out_ends), in_starts, in_ends)


def nfkc(text: str) -> tuple[str, Stage | None]:
    if unicodedata.is_normalized("NFKC", text):
        return text, None
    builder = StageBuilder()
    last = 0
    for lo, hi in _unstable_ranges(text, 0, len(text)):
        builder.keep(text[last:lo])
        _nfkc_piece(builder, text, lo, hi)
        last = hi
    builder.keep(text[last:])
    return builder.result()


def _unstable_ranges(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Small ranges, cut at spaces (which never compose), that are not NFKC on their own."""
    if unicodedata.is_normalized("NFKC", text[lo:hi]):
        return []
    mid = (lo + hi) // 2
    cut = text.find(" ", mid, hi) if hi - lo > 32 else -1
    if cut < 0 and hi - lo > 32:
        cut = text.rfind(" ", lo, mid)
    if cut <= lo:
        return [(lo, hi)]
    return _unstable_ranges(text, lo, cut) + _unstable_ranges(text, cut, hi)


def _nfkc_piece(builder: StageBuilder, text: str, lo: int, hi: int) -> None:
    """NFKC of text[lo:hi], one edit per changed character cluster where that is exact."""
    clusters = _clusters(text, lo, hi)
    outputs = [unicodedata.normalize("NFKC", text[a:b]) for a, b in clusters]
    whole = unicodedata.normalize("NFKC", text[lo:hi])
    if "".join(outputs) != whole:  # composition across clusters (Hangul, some Indic vowels)
        builder.replace(lo, hi, whole)
        return
    last = lo
    for (a, b), out in zip(clusters, outputs, strict=True):
        if out != text[a:b]:
            builder.keep(text[last:a])
            builder.replace(a, b, out)
            last = b
    builder.keep(text[last:hi])


def _clusters(text: str, lo: int, hi: int) -> Sequence[tuple[int, int]]:
    """A base character with the combining marks after it."""
    starts = [i for i in range(lo, hi) if i == lo or not unicodedata.combining(text[i])]
    return list(zip(starts, [*starts[1:], hi], strict=True))
