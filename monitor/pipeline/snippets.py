"""Keyword-in-context snippets around hits, and where to mark matched words inside a snippet.

Snippets are plain text cut from the original article (whitespace runs shown as one space, a
blank line — the title's end, a paragraph's — as " — "):
about 30 words around each of the strongest hits, cut on word boundaries, with "…" where the
text goes on. `highlight_spans` finds the matched terms again inside a finished snippet, so a
renderer that only has the stored snippet and the terms (an email built from an alert payload)
can mark them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

from monitor.models import Hit
from monitor.pipeline.normalize import key_variants, normalize, term_form, word_view

ELLIPSIS = "…"
SNIPPET_WORDS = 30
WORDS_BEFORE = 12
MAX_SNIPPETS = 3
_MAX_CHARS = 600  # scripts written without spaces: fall back to a window of characters
_WORD = re.compile(r"\S+")
_PARAGRAPH = re.compile(r"\n\s*\n")
PARAGRAPH_BREAK = " — "

Window = tuple[int, int, bool, bool]  # start, end, text goes on before, text goes on after


def build_snippets(text: str, hits: Sequence[Hit], *, limit: int = MAX_SNIPPETS) -> tuple[str, ...]:
    """Up to `limit` snippets of `text` around the strongest hits, in text order."""
    return SnippetText(text).snippets(hits, limit=limit)


def highlight_spans(snippet: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping [start, end) ranges of `snippet` where any of `terms` occurs.

    Terms match as in watchlists (normalisation, word boundaries, plurals, possessives) but
    without regard to case, so a marked snippet never misses the word that fired.
    """
    norm = normalize(snippet)
    padded = " " + word_view(norm.text) + " "
    found: list[tuple[int, int]] = []
    for term in terms:
        key = term_form(term).key
        for variant in key_variants(key) if key else ():
            needle = " " + variant + " "
            at = padded.find(needle)
            while at >= 0:
                found.append(norm.original_span(at, at + len(variant)))
                at = padded.find(needle, at + 1)
    return _merge(found)


class SnippetText:
    """One text to cut snippets from; its words are found once, when first needed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._words: list[tuple[int, int]] | None = None
        self._ends: list[int] = []

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
        words = self._index()
        first = bisect.bisect_right(self._ends, hit.start)
        last = min(bisect.bisect_left(self._ends, hit.end), len(words) - 1)
        begin = max(0, first - WORDS_BEFORE)
        stop = min(len(words), max(last + 1, begin + SNIPPET_WORDS))
        start, end = min(words[begin][0], hit.start), max(words[stop - 1][1], hit.end)
        if end - start <= _MAX_CHARS:
            return start, end, begin > 0, stop < len(words)
        start = max(start, hit.start - _MAX_CHARS // 3)
        end = min(end, hit.end + _MAX_CHARS // 3)
        return start, end, bool(self.text[:start].strip()), bool(self.text[end:].strip())

    def _render(self, window: Window) -> str:
        start, end, before, after = window
        # A blank line (between the title and the body, or two paragraphs) stays a visible
        # break, " — ", not one space that runs the headline into the first sentence.
        paragraphs = (" ".join(p.split()) for p in _PARAGRAPH.split(self.text[start:end]))
        body = PARAGRAPH_BREAK.join(p for p in paragraphs if p)
        return (ELLIPSIS if before else "") + body + (ELLIPSIS if after else "")

    def _index(self) -> list[tuple[int, int]]:
        if self._words is None:
            self._words = [m.span() for m in _WORD.finditer(self.text)] or [(0, len(self.text))]
            self._ends = [end for _, end in self._words]
        return self._words


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
