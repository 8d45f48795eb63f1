"""One article scanned for every spelling at once, and the checks that turn an occurrence
of a spelling into a hit of a listed term, naming the matching rules it needed.

The automaton finds spellings on word boundaries of the word view; an occurrence becomes a
hit of a term when it passes, in order: the inflection check (an open Russian stem prefix
must go on into inflected forms of the term's words), the dash check (rule 1: a dash of the
term that stood as a space, a line break or other punctuation in the text wants the term's
exact letter case, the *spaced* form), the term's own case rule, and the term's switches
(a hit that needed a rule the term switched off is dropped). The rules a hit needed are:

| rule | when |
|---|---|
| `joined` | a dash of the term stood as nothing (`#ISISK`) |
| `spaced` | a dash of the term stood as a space or other punctuation (`IS KP`) |
| `diacritics` | diacritics or transliteration marks differ from the term's (`Khorāsān`, `Da'esh`) |
| `invisible` | an invisible character stood inside the hit (soft hyphen, zero-width space …) |
| `hashtag` | the hit stands in a hashtag whose words `_` separates |
| `clitic` | an Arabic proclitic was attached (`والقاعدة`) |
| `inflection` | a Russian word was inflected (`Талибана`) |
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import ahocorasick

from monitor.models import Hit
from monitor.pipeline.normalize import (
    APOSTROPHES,
    INVISIBLE,
    LATIN_FOLDS,
    TRANSLITERATION_MARKS,
    Normalized,
    normalize,
    word_view,
)
from monitor.pipeline.snippets import SnippetText
from monitor.pipeline.spellings import Spelling, inflected_end

Role = Literal["term", "exclude", "query"]
Span = tuple[int, int]
Rules = tuple[str, ...]
# Switch of a term option -> the rules it governs.
SWITCHES = {
    "dashes": ("joined", "spaced"),
    "diacritics": ("diacritics",),
    "invisible": ("invisible",),
    "hashtags": ("hashtag",),
    "clitics": ("clitic",),
    "inflect": ("inflection",),
}
_INVISIBLE = re.compile("[" + INVISIBLE + "\ufe00-\ufe0f\u202a-\u202e\u2066-\u2069]")
_MARKS = frozenset(LATIN_FOLDS) | frozenset(TRANSLITERATION_MARKS)
_APOSTROPHES = frozenset(APOSTROPHES)
_HASH = "#＃"


@dataclass(frozen=True, slots=True)
class Listed:
    """One term as a watchlist lists it."""

    watchlist: int
    role: Role
    text: str
    actor: str | None
    key: int  # number of its key in the automaton
    key_text: str
    spelling: Spelling  # its key as written (the first spelling of the key)
    case_sensitive: bool
    off: frozenset[str] = frozenset()  # rules the term switched off
    marks: str = ""  # its diacritics and transliteration marks (see `marks`)


def marks(text: str) -> str:
    """The diacritics and transliteration marks of a text, in order, case-folded."""
    if text.isascii() and "'" not in text and "`" not in text:
        return ""
    composed = unicodedata.normalize("NFC", text)
    found = []
    for i, char in enumerate(composed):
        if char in _MARKS or 0x300 <= ord(char) < 0x370:
            found.append(char.casefold())
        elif char in _APOSTROPHES and _inner(composed, i):
            found.append("'")
    return "".join(found)


def _inner(text: str, i: int) -> bool:
    """An apostrophe between two letters that is not a possessive at the end of the text."""
    if not (0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()):
        return False
    return text[i + 1 :] not in ("s", "S")


class Scan:
    """One article, normalised and scanned: occurrences of spellings, hits made on demand."""

    def __init__(self, text: str, automaton: ahocorasick.Automaton | None) -> None:
        self.text = SnippetText(text)
        self.norm: Normalized = normalize(text)
        self.view = word_view(self.norm.text)
        self.occurrences: dict[int, list[tuple[int, int, Spelling]]] = defaultdict(list)
        # inner key -> (its span, the longer name's key, the longer name's span)
        self.inside: dict[int, list[tuple[Span, int, Span]]] = defaultdict(list)
        self._words_before: dict[int, int] = {}
        self._counted_starts: list[int] = []  # word starts in `_words_before`, sorted
        self._original: dict[Span, Span] = {}
        self._plain = text.isascii()
        self._underscore = "_" in text
        if automaton is not None:
            self._find(automaton)

    def _find(self, automaton: ahocorasick.Automaton) -> None:
        view = self.view
        for end, (length, entries, inner) in automaton.iter(" " + view + " "):
            start = end - length + 1
            for key, spelling in entries:
                stop = inflected_end(view, start, spelling) if spelling.open else end - 1
                if stop is not None:
                    self.occurrences[key].append((start, stop, spelling))
            for key, offset, size, outer in inner:
                at = start + offset
                self.inside[key].append(((at, at + size), outer, (start, end - 1)))

    def found_keys(self) -> set[int]:
        """Every key found, on its own or inside a longer name."""
        return self.occurrences.keys() | self.inside.keys()

    def spans(self, listed: Listed) -> list[tuple[Span, Rules]]:
        """Occurrences of the term's spellings that pass its checks, with the rules used."""
        found = []
        for start, end, spelling in self.occurrences.get(listed.key, ()):
            rules = self.rules(listed, start, end, spelling)
            if rules is not None:
                found.append(((start, end), rules))
        return found

    def spans_inside(
        self, listed: Listed, names: dict[int, tuple[Listed, ...]]
    ) -> list[tuple[Span, Rules]]:
        """Occurrences of an actor's name inside a hit of a longer name of the same actor."""
        found = []
        for span, outer_key, outer_span in self.inside.get(listed.key, ()):
            rules = self.rules(listed, *span, listed.spelling)
            if rules is not None and any(
                outer.actor == listed.actor
                and self.rules(outer, *outer_span, outer.spelling) is not None
                for outer in names.get(outer_key, ())
            ):
                found.append((span, rules))
        return found

    def rules(self, listed: Listed, start: int, end: int, spelling: Spelling) -> Rules | None:
        """The rules an occurrence needed as a hit of `listed`, or None if it is not one."""
        rules = [spelling.rule] if spelling.rule else []
        form = self.norm.text
        if any(form[start + d] not in "-_" for d in spelling.dashes):
            rules.append("spaced")
        exact = listed.case_sensitive or "spaced" in rules
        if exact and not self._same_case(start, spelling.cased):
            return None
        rules += self._text_rules(listed, start, end)
        if listed.off.intersection(rules):
            return None
        return tuple(rules)

    def hit(self, listed: Listed, span: Span, rules: Rules) -> Hit:
        return Hit(listed.text, listed.actor, listed.key_text, *self._span(span), rules)

    def words(self, span: Span) -> tuple[int, int]:
        """The first and last word index of a span of the view (for NEAR); a span starts a
        word, so the words before it are those of the view before it (counted in C)."""
        first = self._words_before.get(span[0])
        if first is None:
            first = self._words_before[span[0]] = self._count_words_before(span[0])
        return first, first + len(self.view[span[0] : span[1]].split()) - 1

    def _count_words_before(self, at: int) -> int:
        """Words of the view before `at`, counted on from the nearest word start before it
        already counted (no word runs across a space), not from the view's start per hit."""
        view, starts = self.view, self._counted_starts
        i = bisect_left(starts, at)
        base = starts[i - 1] if i else 0
        count = self._words_before.get(base, 0) + len(view[base:at].split())
        if at == 0 or view[at - 1 : at].isspace():
            starts.insert(i, at)
        return count

    def _span(self, span: Span) -> Span:
        original = self._original.get(span)
        if original is None:
            original = self._original[span] = self.norm.original_span(*span)
        return original

    def _text_rules(self, listed: Listed, start: int, end: int) -> list[str]:
        """Rules the original text at the hit needed: diacritics, invisible, hashtag."""
        a, b = self._span((start, end))
        text = self.norm.original
        found = []
        if marks(text[a:b]) != listed.marks:
            found.append("diacritics")
        if not self._plain and _INVISIBLE.search(text, a, b):
            found.append("invisible")
        if self._underscore and _in_hashtag(text, a, b):
            found.append("hashtag")
        return found

    def _same_case(self, start: int, cased: str) -> bool:
        found = self.norm.cased[start : start + len(cased)]
        return all(a == b for a, b in zip(found, cased, strict=False) if b != " ")


def _in_hashtag(text: str, start: int, end: int) -> bool:
    """True when [start, end) stands in a hashtag holding an underscore (`#a_b`)."""
    first = start
    while first > 0 and not text[first - 1].isspace():
        first -= 1
    last = end
    while last < len(text) and not text[last].isspace():
        last += 1
    token = text[first:last]
    at = next((i for i, c in enumerate(token) if c in _HASH), -1)
    return at >= 0 and at <= start - first and "_" in token[at:]
