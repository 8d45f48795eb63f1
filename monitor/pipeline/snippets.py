"""Keyword-in-context snippets around hits, and where to mark matched words inside a snippet.

Snippets are plain text cut from the original article (whitespace runs shown as one space, a
blank line — the title's end, a paragraph's — as " — "):
about 30 words around each of the strongest hits, cut on word boundaries, with "…" where the
text goes on. `highlight_spans` finds the matched terms again inside a finished snippet, so a
renderer that only has the stored snippet and the terms (an email built from an alert payload)
can mark them. A snippet is at most `textcaps.SNIPPET_CHARS` characters, ellipses included.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from monitor.config import TermConfig, WatchlistConfig
from monitor.models import Hit
from monitor.pipeline.normalize import term_form
from monitor.textcaps import SNIPPET_CHARS, clip

if TYPE_CHECKING:
    from monitor.pipeline.match import Matcher

ELLIPSIS = "…"
SNIPPET_WORDS = 30
WORDS_BEFORE = 12
MAX_SNIPPETS = 3
_MAX_CHARS = 600  # scripts written without spaces: fall back to a window of characters
_WORD = re.compile(r"\S+")
_PARAGRAPH = re.compile(r"\n\s*\n")
PARAGRAPH_BREAK = " — "
_MARGIN = 200  # characters around a hit first looked at (the window does not depend on it)

Window = tuple[int, int, bool, bool]  # start, end, text goes on before, text goes on after


def build_snippets(text: str, hits: Sequence[Hit], *, limit: int = MAX_SNIPPETS) -> tuple[str, ...]:
    """Up to `limit` snippets of `text` around the strongest hits, in text order."""
    return SnippetText(text).snippets(hits, limit=limit)


def highlight_spans(snippet: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping [start, end) ranges of `snippet` where any of `terms` occurs.

    Terms match as in watchlists (the same matcher and rules) but without regard to case,
    so a marked snippet never misses the word that fired; a term with no letters or digits
    marks nothing.
    """
    matcher = _highlighter(tuple(sorted({term for term in terms if term_form(term).key})))
    found = [(h.start - 2, h.end - 2) for m in matcher.match("", snippet) for h in m.hits]
    return _merge(found)


@lru_cache(maxsize=256)
def _highlighter(terms: tuple[str, ...]) -> Matcher:
    from monitor.pipeline.match import Matcher  # the matcher cuts its snippets with this module

    listed = tuple(TermConfig(text=term, match_case=False) for term in terms)
    return Matcher.compile([WatchlistConfig(name="highlight", terms=listed)])


class SnippetText:
    """One text to cut snippets from; only the words near a hit are ever looked at."""

    def __init__(self, text: str) -> None:
        self.text = text

    def snippets(self, hits: Sequence[Hit], *, limit: int = MAX_SNIPPETS) -> tuple[str, ...]:
        """Up to `limit` snippets around the strongest hits, in text order."""
        windows: list[Window] = []
        for hit in _by_strength(hits):
            if len(windows) == limit:
                break
            if not any(start <= hit.start < end for start, end, _, _ in windows):
                windows.append(self._window(hit))
        return tuple(self._render(window) for window in sorted(windows))

    def _window(self, hit: Hit) -> Window:
        """About 30 words around the hit, 12 of them before it."""
        margin = _MARGIN
        while True:
            found = self._words_window(hit, margin)
            if found is not None:
                break
            margin *= 4
        start, end = found[0], found[1]
        if end - start <= _MAX_CHARS:
            return found
        start = max(start, hit.start - _MAX_CHARS // 3)
        end = min(end, hit.end + _MAX_CHARS // 3)
        return start, end, bool(self.text[:start].strip()), bool(self.text[end:].strip())

    def _words_window(self, hit: Hit, margin: int) -> Window | None:
        """The word window from the words within `margin` characters of the hit, or None
        when those are too few to tell it (the text goes on beyond them)."""
        text = self.text
        lo, hi = _word_edge(text, hit.start - margin, -1), _word_edge(text, hit.end + margin, 1)
        words = [m.span() for m in _WORD.finditer(text, lo, hi)] or [(lo, hi)]
        ends = [end for _, end in words]
        first = bisect.bisect_right(ends, hit.start)
        last = min(bisect.bisect_left(ends, hit.end), len(words) - 1)
        if first < WORDS_BEFORE and lo > 0:
            return None
        begin = max(0, first - WORDS_BEFORE)
        stop = max(last + 1, begin + SNIPPET_WORDS)
        if stop > len(words) and hi < len(text):
            return None
        stop = min(len(words), stop)
        start, end = min(words[begin][0], hit.start), max(words[stop - 1][1], hit.end)
        before = begin > 0 or (lo > 0 and not text[:lo].isspace())
        after = stop < len(words) or (hi < len(text) and not text[hi:].isspace())
        return start, end, before, after

    def _render(self, window: Window) -> str:
        start, end, before, after = window
        # A blank line (between the title and the body, or two paragraphs) stays a visible
        # break, " — ", not one space that runs the headline into the first sentence.
        paragraphs = (" ".join(p.split()) for p in _PARAGRAPH.split(self.text[start:end]))
        body = PARAGRAPH_BREAK.join(p for p in paragraphs if p)
        return clip(
            (ELLIPSIS if before else "") + body + (ELLIPSIS if after else ""), SNIPPET_CHARS
        )


def _word_edge(text: str, at: int, step: int) -> int:
    """`at` within the text, moved (by `step`) out of any word it falls inside; past a long
    word, the text's own edge."""
    at = min(max(at, 0), len(text))
    for _ in range(_MAX_CHARS):
        if (
            (at == 0 or text[at - 1].isspace())
            if step < 0
            else (at == len(text) or text[at].isspace())
        ):
            return at
        at += step
    return 0 if step < 0 else len(text)


def _by_strength(hits: Sequence[Hit]) -> list[Hit]:
    """First hit of each term, longest term first; then every other hit in text order."""
    in_order = sorted(hits, key=lambda h: h.start)
    firsts: dict[tuple[str, str | None], Hit] = {}
    for hit in in_order:
        firsts.setdefault((hit.term, hit.actor), hit)
    leaders = sorted(firsts.values(), key=lambda h: (-len(h.normalized), h.start))
    chosen = set(leaders)
    return leaders + [hit for hit in in_order if hit not in chosen]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def lead_snippet(title: str, text: str, hits: Sequence[Hit]) -> str:
    """One snippet around the strongest hit of `title + "\\n\\n" + text`, or the text's opening
    words when there is no hit (a query that matched by NOT alone)."""
    if hits:
        return build_snippets(title + "\n\n" + text, hits, limit=1)[0]
    words = (text or title).split()
    return " ".join(words[:SNIPPET_WORDS]) + (ELLIPSIS if len(words) > SNIPPET_WORDS else "")
