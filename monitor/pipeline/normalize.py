"""Text normalisation for matching, done once per article, with a map back to the original text.

The *matching form* of a text is: Unicode NFKC; every dash as ``-``, and a run of dashes and
spaces holding a dash as one ``-``; every other kind of space as a space, a run of spaces (with
at most one line break) as one space, a run holding two or more line breaks (a paragraph
break) as ``"\n\n"``; straight and curly apostrophes as ``'``, dropped between two letters
(``Da'esh`` is ``Daesh``, ``Taliban's`` is ``Talibans``) except after a French or Italian
elided article or before a Turkish case suffix (``l'État``, ``İstanbul'da`` keep their two
words); every other non-ASCII punctuation mark or symbol as ``#``; Latin letters with diacritics as their base letter (``Khorāsān``, ``ł``,
``ø``) and the transliteration marks ʿ ʾ ʻ dropped; Arabic-script letter variants folded
(ي/ى/ی, ك/ک, ة/ه, أ/إ/آ/ا and the Pashto and Urdu forms), tatweel, harakat, combining accents,
soft hyphen, zero-width space and joiner, word joiner, bidi marks, BOM and other invisible
format characters removed, ZWNJ read as a space; Cyrillic ё as е; Arabic-Indic and Persian
digits as ASCII; case-folded one character for one character. ``Normalized.cased`` is the same
form before case-folding, at the same offsets, where case-sensitive terms are checked.

Matching runs on the *word view* of the form (`word_view`): punctuation, symbols, dashes,
apostrophes left and line breaks become spaces. In the view one space joins the words of a
phrase; two or more spaces are a hard break (punctuation next to a space, a paragraph break)
that no multi-word term crosses. The view has the form's offsets, so the form tells what
stood between two words of the view (``-``, ``_``, a space or a line break).

Speed: everything is whole-string work (``str.translate`` or ``str.replace`` of the few
characters present, ``casefold``, ``bytes.translate``, ``bytes.find`` in a one-byte-per-character
copy); only the rare words that are not already NFKC, and apostrophes between letters, take a
per-character path. ``tests/unit/test_match_fast_paths.py`` holds the straightforward version
of each fast path and checks they agree on generated text.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence, Set
from dataclasses import dataclass
from functools import lru_cache

from monitor.pipeline.offsets import Stage, nfkc, splice

DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
APOSTROPHES = "'\u2018\u2019\u201b\u02bc\u2032\u0060\uff07"
_REMOVED = "\x02"  # marks a character to drop; dropped right after the character pass
_SYMBOL = "#"  # what every non-ASCII punctuation mark or symbol becomes
# Transliteration marks for ayn and hamza (modifier letters), dropped wherever they stand.
TRANSLITERATION_MARKS = "\u02bb\u02bd\u02be\u02bf"
# Invisible characters removed wherever they stand (ZWNJ is read as a space instead).
INVISIBLE = "\u00ad\u200b\u200d\u2060\u200e\u200f\u061c\ufeff\u180e\u2061\u2062\u2063\u2064"
# A word before an apostrophe that is an elided article or pronoun, not part of the word.
_FRENCH_ELISIONS = ("l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu")
_ITALIAN_ELISIONS = ("dell", "all", "nell", "sull", "dall", "coll", "un", "quest", "quell", "sant")
ELISIONS = frozenset((*_FRENCH_ELISIONS, "quoiqu", "presqu", *_ITALIAN_ELISIONS, "nessun", "tutt"))
# Turkish case suffixes an apostrophe sets off from a proper noun (İstanbul'da, IŞİD'in), as
# the form spells them (ı as i, ü as u); single letters left out, as they are more often part
# of a transliterated word (Shari'a).
_LOCATIVE = ("da", "de", "ta", "te", "daki", "deki", "taki", "teki", "nda", "nde")
_ABLATIVE = ("dan", "den", "tan", "ten", "ndan", "nden")
_OTHER_CASES = ("in", "un", "nin", "nun", "ya", "ye", "yi", "yu", "yla", "yle", "la", "le")
SUFFIXES = frozenset((*_LOCATIVE, *_ABLATIVE, *_OTHER_CASES, "lar", "ler", "lari", "leri"))
_ELISION_ENDS = frozenset(word[-1] for word in ELISIONS)
_SUFFIX_STARTS = frozenset(word[0] for word in SUFFIXES)
_LATIN_FOLDS = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H"}
_LATIN_FOLDS |= {"ı": "i", "ŧ": "t", "Ŧ": "T", "ɨ": "i", "ƚ": "l"}

_ARABIC_MARKS = (
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x0670, 0x0670),
    (0x06D6, 0x06DC),
    (0x06DF, 0x06E4),
    (0x06E7, 0x06E8),
    (0x06EA, 0x06ED),
    (0x08D3, 0x08E1),
    (0x08E3, 0x08FF),
)
_LETTER_FOLDS = {
    "ی": "يىېۍے",  # yeh: Arabic yeh, alef maksura, Pashto yehs, Urdu yeh barree
    "ک": "كڪ",  # kaf: Arabic kaf, swash kaf
    "گ": "ګ",  # gaf: Pashto gaf with ring
    "ه": "ةۀەہھ",  # heh: teh marbuta, heh with yeh, ae, heh goal, do-chashmi heh
    "ا": "أإآٱٲٳ",  # alef with hamza, madda, wasla
    "е": "ё",
    "Е": "Ё",
}
_EMOJI = range(0x1F000, 0x1FB00)


def _latin_folds() -> dict[str, str]:
    """Latin letters with diacritics and their base letters (one character each)."""
    table = dict(_LATIN_FOLDS)
    for block in (range(0xC0, 0x250), range(0x1E00, 0x1F00)):
        for cp in block:
            decomposed = unicodedata.normalize("NFD", chr(cp))
            if len(decomposed) > 1 and decomposed[0].isascii() and decomposed[0].isalpha():
                table[chr(cp)] = decomposed[0]
    return table


LATIN_FOLDS = _latin_folds()


def _character_folds() -> dict[str, str]:
    """Every character the character pass changes, and what it becomes."""
    table: dict[str, str] = {}
    for cp in range(0x80, 0x10000):  # generic classes first, specific folds override them
        char = chr(cp)
        category = unicodedata.category(char)
        if category == "Zs":
            table[char] = " "
        elif category in ("Cc", "Cf"):
            table[char] = _REMOVED
        elif category[0] in "PS":
            table[char] = _SYMBOL
    table.update({chr(cp): _SYMBOL for cp in _EMOJI})
    table.update({chr(cp): _REMOVED for cp in range(0x20) if chr(cp) not in "\n\t"})
    table.update({"\x7f": _REMOVED, "\t": " ", "\r": _REMOVED, "\u200c": " "})
    table.update({c: "\n" for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})
    for target, sources in _LETTER_FOLDS.items():
        table.update({c: target for c in sources})
    table.update(LATIN_FOLDS)
    table.update({chr(cp): _REMOVED for cp in range(0x0300, 0x0370)})  # combining accents
    table.update({chr(cp): _REMOVED for cp in range(0xFE00, 0xFE10)})  # variation selectors
    table.update({c: _REMOVED for c in TRANSLITERATION_MARKS + INVISIBLE})
    table.update({c: "-" for c in DASHES})
    table.update({c: "'" for c in APOSTROPHES})
    table.update({chr(0x0660 + d): str(d) for d in range(10)})  # Arabic-Indic digits
    table.update({chr(0x06F0 + d): str(d) for d in range(10)})  # Persian digits
    for first, last in _ARABIC_MARKS:
        table.update({chr(cp): _REMOVED for cp in range(first, last + 1)})
    table["\u0640"] = _REMOVED  # tatweel
    return {char: to for char, to in table.items() if char != to}


def _char_class(chars: Sequence[str]) -> str:
    ranges: list[list[int]] = []
    for cp in sorted(ord(c) for c in chars):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = (re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
    return "[" + "".join(parts) + "]"


class _LazyTable(dict[int, str]):
    """A `str.translate` table that fills in unchanged characters the first time it meets them."""

    def __missing__(self, codepoint: int) -> str:
        value = chr(codepoint)
        self[codepoint] = value
        return value


_FOLDS = _character_folds()
_FOLD_TABLE = _LazyTable({ord(char): to for char, to in _FOLDS.items()})
_FOLD_PATTERN = re.compile(_char_class(list(_FOLDS)))
_FOLD_KEYS = frozenset(_FOLDS)
_PLAIN_BYTES = bytes(b for b in range(0x80) if chr(b) not in _FOLDS)
_VIEW_BYTES = bytes.maketrans(
    ("\n" + string.punctuation).encode(), b" " * (1 + len(string.punctuation))
)
_INNER_APOSTROPHE = re.compile(r"'(?<=[^\W\d_]')(?=[^\W\d_])")  # starts with ' so re scans fast
_REMOVED_RUN = re.compile(_REMOVED + "+")
_DENSE_SAMPLE = 2000  # characters looked at to choose between the two character passes


@dataclass(frozen=True, slots=True)
class Normalized:
    """A text in matching form, its case-preserving twin, and the way back to the original."""

    original: str
    cased: str  # the matching form before case-folding (same length and offsets as `text`)
    text: str  # the matching form
    stages: tuple[Stage, ...] = ()  # last step first

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) range of the matching form to the original text; the range
        takes in the combining marks that follow its last character there."""
        for stage in self.stages:
            start, end = stage.start_to_input(start), stage.end_to_input(end)
        original = self.original
        while end < len(original) and unicodedata.combining(original[end]):
            end += 1
        return start, end


def normalize(text: str) -> Normalized:
    """Normalise `text` into its matching form (see the module docstring)."""
    stages: list[Stage] = []
    form = text
    for _ in range(3):  # removing a character can leave a sequence NFKC would compose
        form = _record(stages, nfkc(form))
        form = _record(stages, _drop_removed(_fold_characters(form)))
        if unicodedata.is_normalized("NFKC", form):
            break
    form = _record(stages, _collapse_spaces(form))
    cased = _record(stages, _drop_inner_apostrophes(form))
    return Normalized(text, cased, _casefold(cased), tuple(reversed(stages)))


def normalize_text(text: str) -> str:
    """The matching form of `text` alone."""
    return normalize(text).text


def word_view(form: str) -> str:
    """The word view of a matching form: punctuation, dashes and apostrophes as spaces."""
    # Every punctuation mark left in a form is ASCII, and bytes.translate is the fastest pass.
    return (
        form.encode("utf-8", "surrogatepass")
        .translate(_VIEW_BYTES)
        .decode("utf-8", "surrogatepass")
    )


def is_acronym(text: str) -> bool:
    """True for all-caps terms of at most four letters, dashes and spaces ignored (ISIS, IS-K)."""
    if len(text) > 16 or not text.isupper():
        return False
    letters = "".join(c for c in text if c not in DASHES and not c.isspace())
    return 0 < len(letters) <= 4 and letters.isalpha() and letters.isupper()


@dataclass(frozen=True, slots=True)
class TermForm:
    """A term in matching form: its word-view key, the cased key, and where it had dashes."""

    key: str  # words joined by one space (two or more where the term has punctuation)
    cased: str  # same length as key; spaces where key has spaces
    dashes: tuple[int, ...] = ()  # the spaces of `key` that stand for a dash of the term


@lru_cache(maxsize=65536)
def term_form(text: str) -> TermForm:
    """The key a term is matched by; the key is empty when the term has no word characters."""
    norm = normalize(text)
    view = word_view(norm.text)
    key = view.strip()
    lead = len(view) - len(view.lstrip())
    masked = "".join(" " if v == " " else c for v, c in zip(view, norm.cased, strict=True))
    form = norm.text[lead : lead + len(key)]
    dashes = tuple(i for i, c in enumerate(form) if c == "-") if "-" in form else ()
    return TermForm(key, masked[lead : lead + len(key)], dashes)


_PLURAL_ES = ("s", "x", "z", "ch", "sh", "o")


def key_variants(key: str) -> tuple[str, ...]:
    """The key and the English plural and possessive forms that match it (-s, -es; the
    apostrophe of a possessive is dropped, so `'s` is `s`)."""
    if not key or not "a" <= key[-1] <= "z":
        return (key,)
    variants = [key, key + "s"]
    if key.endswith(_PLURAL_ES):
        variants.append(key + "es")
    return tuple(variants)


def _record(stages: list[Stage], step: tuple[str, Stage | None]) -> str:
    text, stage = step
    if stage is not None:
        stages.append(stage)
    return text


def _drop_removed(text: str) -> tuple[str, Stage | None]:
    if _REMOVED not in text:
        return text, None
    return splice(text, [(*run.span(), "") for run in _REMOVED_RUN.finditer(text)])


def _fold_characters(text: str) -> str:
    """The one-for-one character pass: a regex where changes are sparse, a table where dense."""
    if text.isascii():
        return text.translate(_FOLD_TABLE)
    rest = _not_plain(text)
    if len(rest) * 20 <= len(text):  # mostly plain ASCII: the few others tell what to fold
        found: Set[str] = _FOLD_KEYS.intersection(rest)
    else:
        sample = _FOLD_PATTERN.findall(text, 0, _DENSE_SAMPLE)
        if len(sample) * 20 > min(len(text), _DENSE_SAMPLE):
            return text.translate(_FOLD_TABLE)
        found = set(sample).union(_FOLD_PATTERN.findall(text, _DENSE_SAMPLE))
    for char in found:
        text = text.replace(char, _FOLDS[char])
    return text


def _not_plain(text: str) -> str:
    """The characters of `text` other than the ASCII ones the character pass leaves alone, in
    order (deleting bytes below 0x80 from UTF-8 never cuts a character in two)."""
    raw = text.encode("utf-8", "surrogatepass")
    return raw.translate(None, _PLAIN_BYTES).decode("utf-8", "surrogatepass")


def _drop_inner_apostrophes(text: str) -> tuple[str, Stage | None]:
    """Drop each apostrophe between two letters, unless the word before it is an elided
    article or the one after it a Turkish case suffix."""
    if "'" not in text:
        return text, None
    found = (match.start() for match in _INNER_APOSTROPHE.finditer(text, 1))
    return splice(text, [(at, at + 1, "") for at in found if not _apostrophe_kept(text, at)])


def _apostrophe_kept(text: str, at: int) -> bool:
    # The one-letter tests first: the letter before (or after) an apostrophe seldom ends an
    # elision (or starts a suffix), and looking at whole words costs a loop in Python.
    elided = text[at - 1].casefold()[-1] in _ELISION_ENDS
    if elided and _word_before(text, at).casefold() in ELISIONS:
        return True
    return text[at + 1].lower()[0] in _SUFFIX_STARTS and _suffix_after(text, at)


def _collapse_spaces(text: str) -> tuple[str, Stage | None]:
    """One space for a run of spaces and a lone line break, one dash for a run holding a
    dash, "\n\n" for a paragraph break."""
    runs = _runs_to_collapse(text)
    return splice(text, [(start, end, _collapsed(text, start, end)) for start, end in runs])


def _word_before(text: str, at: int) -> str:
    start = at
    while start > 0 and at - start <= 6 and text[start - 1].isalpha():
        start -= 1
    return text[start:at] if start == 0 or not text[start - 1].isalpha() else ""


def _suffix_after(text: str, at: int) -> bool:
    end = at + 1
    while end < len(text) and end - at <= 5 and text[end].isalpha():
        end += 1
    after = text[at + 1 : end]
    return (end == len(text) or not text[end].isalpha()) and after.lower() in SUFFIXES


def _collapsed(text: str, start: int, end: int) -> str:
    if text.count("\n", start, end) >= 2:
        return "\n\n"
    return "-" if "-" in text[start:end] else " "


# Space, line break and dash as one byte, b" ", in a one-byte-per-character copy of a text.
_SEPARATOR_BYTES = bytes.maketrans(b"\n-", b"  ")
_SEPARATOR_RUN = re.compile(rb" +")


def _runs_to_collapse(text: str) -> list[tuple[int, int]]:
    """Runs of two or more spaces, line breaks and dashes other than a lone "\n\n"."""
    # bytes.find of two spaces in a latin-1 copy (every other character as "?") is far
    # faster than a regex over the str, and keeps the offsets.
    marked = text.encode("latin-1", "replace").translate(_SEPARATOR_BYTES)
    runs: list[tuple[int, int]] = []
    at = marked.find(b"  ")
    while at >= 0:
        match = _SEPARATOR_RUN.match(marked, at)
        end = match.end() if match else at + 2
        if text[at:end] != "\n\n":
            runs.append((at, end))
        at = marked.find(b"  ", end)
    return runs


def _casefold(text: str) -> str:
    folded = text.casefold()
    if len(folded) == len(text):
        return folded
    # A few characters fold to several (ß → ss); keep one for one so offsets stay shared.
    wide = sorted(c for c in set(text) if len(c.casefold()) != 1)
    parts = re.split("([" + "".join(re.escape(c) for c in wide) + "])", text)
    return "".join(_fold_one(part) if i % 2 else part.casefold() for i, part in enumerate(parts))


def _fold_one(char: str) -> str:
    lower = char.lower()
    return lower if len(lower) == 1 else char
