"""The spellings a term is looked for under, each tagged with the matching rule behind it.

From a term's key (see `normalize.term_form`):

- the key itself, and its English plural and possessive (`key_variants`);
- **joined** (rule 1): every dash of the term left out (`ISIS-K` as `isisk`, `al-Qaeda` as
  `alqaeda`), with at most three dashes each either joined or not; only where the joined
  word has four letters or more (`IS-K` is not `ISK`, the Icelandic króna);
- **clitic** (rule 5): an Arabic-script first word of a term of three or more letters with
  the proclitics و ف (and), ب ل ك (with, for, like) and the article ال attached, alone or
  combined, ل before ال written لل (`القاعدة` as `والقاعدة`, `بالقاعدة`, `للقاعدة`);
- **inflection** (rule 6): a term with a Cyrillic word of four letters or more that is not
  written all in capitals is looked for by that word's Snowball stem as an open prefix
  (`Исламское государство` as ` исламск…`); `inflected_end` then checks every word of the
  term, in order and one space apart, against the text's words.

Spaces of a spelling that stand for a dash of the term are listed in `dashes`, so the matcher
can tell a dash of the text from a space (rule 1 wants the term's exact case for a space).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import snowballstemmer

from monitor.pipeline.normalize import TermForm, key_variants

EXACT, JOINED, CLITIC, INFLECTION = "", "joined", "clitic", "inflection"
MIN_JOINED = 4  # letters of a joined form
MIN_CLITIC = 3  # letters of a term that takes proclitics
MIN_STEMMED = 4  # letters of a Cyrillic word matched by its stem
_MAX_DASH_CHOICES = 3  # more dashes: only all joined
# Proclitics in matching form (ك is folded to ک): conjunction, then preposition, then article.
_CONJUNCTIONS = ("", "و", "ف")
_PREPOSITIONS = ("", "ب", "ل", "ک")
_ARTICLE = "ال"
_ARABIC_WORD = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f]+")
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")
_STEMMER = snowballstemmer.stemmer("russian")


@dataclass(frozen=True, slots=True)
class Spelling:
    """One string the automaton looks for on behalf of a key."""

    text: str  # in word-view form
    cased: str  # same length: the term's letters with their case, spaces where none is checked
    dashes: tuple[int, ...]  # spaces of `text` that stand for a dash of the term
    rule: str  # EXACT, JOINED, CLITIC or INFLECTION
    words: tuple[str, ...] = ()  # INFLECTION: the term's words,
    stems: tuple[str | None, ...] = ()  # and the stem of each word matched by its stem

    @property
    def open(self) -> bool:
        """An inflection spelling ends inside a word: the automaton entry has no right edge."""
        return self.rule == INFLECTION


def spellings(form: TermForm) -> list[Spelling]:
    """Every spelling of a term key, the key itself first."""
    found = _plurals(form.key, form.cased, form.dashes, EXACT)
    found += _joined(form)
    found += _clitics(form)
    inflected = _inflection(form)
    if inflected is not None:
        found.append(inflected)
    return found


def stem(word: str) -> str:
    """The Snowball stem of a Russian word in matching form."""
    return _stem(word)


def inflects(word: str, term_word: str, term_stem: str) -> bool:
    """True when `word` of the text is an inflected form of `term_word` (whose stem is given).

    Snowball sometimes stems the base form shorter than its inflections (`талибан` to
    `талиба`, `талибану` to `талибан`), so a word whose stem is the term's word counts too.
    """
    return word != term_word and _stem(word) in (term_stem, term_word)


def inflected_end(view: str, start: int, spelling: Spelling) -> int | None:
    """Where a hit of an inflection spelling that starts at `start` of the view ends, or None
    when the words from there are not the term's words (each exact or inflected)."""
    pos, changed = start, False
    for index, (word, word_stem) in enumerate(zip(spelling.words, spelling.stems, strict=True)):
        if index:
            if view[pos : pos + 1] != " " or view[pos + 1 : pos + 2] in (" ", ""):
                return None
            pos += 1
        end = view.find(" ", pos)
        end = len(view) if end < 0 else end
        found = view[pos:end]
        if word_stem is None or found == word:
            if found != word:
                return None
        elif not inflects(found, word, word_stem):
            return None
        else:
            changed = True
        pos = end
    return pos if changed else None


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def _plurals(key: str, cased: str, dashes: tuple[int, ...], rule: str) -> list[Spelling]:
    return [
        Spelling(variant, cased.ljust(len(variant)), dashes, rule) for variant in key_variants(key)
    ]


def _joined(form: TermForm) -> list[Spelling]:
    """The key with some or all of its dashes left out."""
    if not form.dashes:
        return []
    if len(form.dashes) > _MAX_DASH_CHOICES:
        choices = [tuple(True for _ in form.dashes)]
    else:
        choices = [c for c in product((False, True), repeat=len(form.dashes)) if any(c)]
    found: list[Spelling] = []
    for choice in choices:
        joined = {d for d, join in zip(form.dashes, choice, strict=True) if join}
        keep = [i for i in range(len(form.key)) if i not in joined]
        key = "".join(form.key[i] for i in keep)
        if sum(c.isalnum() for c in key) < MIN_JOINED:
            continue
        cased = "".join(form.cased[i] for i in keep)
        dashes = tuple(keep.index(d) for d in form.dashes if d not in joined)
        found += _plurals(key, cased, dashes, JOINED)
    return found


def _clitics(form: TermForm) -> list[Spelling]:
    """The key with Arabic proclitics attached to its first word."""
    first = form.key.split(" ", 1)[0]
    if not _ARABIC_WORD.fullmatch(first) or sum(c.isalpha() for c in form.key) < MIN_CLITIC:
        return []
    has_article = first.startswith(_ARTICLE) and len(first) > len(_ARTICLE) + 1
    rest = form.key[len(_ARTICLE) :] if has_article else form.key
    found: list[Spelling] = []
    for conjunction, preposition in product(_CONJUNCTIONS, _PREPOSITIONS):
        for article in (_ARTICLE,) if has_article else ("", _ARTICLE):
            prefix = conjunction + preposition + article
            if preposition == "ل" and article:
                prefix = conjunction + "لل"
            if not prefix or (prefix == _ARTICLE and has_article):
                continue
            text = prefix + rest
            shift = len(text) - len(form.key)
            cased = " " * len(prefix) + form.cased[len(form.key) - len(rest) :]
            dashes = tuple(d + shift for d in form.dashes)
            found.append(Spelling(text, cased, dashes, CLITIC))
    return found


def _inflection(form: TermForm) -> Spelling | None:
    """The key up to the stem of its first Cyrillic word matched by stem, as an open prefix."""
    if _CYRILLIC_WORD.search(form.key) is None:
        return None
    words = form.key.split(" ")
    if "" in words:  # a term with punctuation inside: no stemming across it
        return None
    cased_words = form.cased.split(" ")
    stems = tuple(_word_stem(w, c) for w, c in zip(words, cased_words, strict=True))
    first = next((i for i, s in enumerate(stems) if s is not None), None)
    if first is None:
        return None
    head = " ".join([*words[:first], stems[first] or ""])
    dashes = tuple(d for d in form.dashes if d < len(head))
    return Spelling(head, form.cased[: len(head)], dashes, INFLECTION, tuple(words), stems)


def _word_stem(word: str, cased: str) -> str | None:
    if len(word) < MIN_STEMMED or not _CYRILLIC_WORD.fullmatch(word) or cased.isupper():
        return None
    return _stem(word)
