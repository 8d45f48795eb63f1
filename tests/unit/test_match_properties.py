"""Properties of normalisation and matching, checked with generated text (hypothesis)."""

from __future__ import annotations

from functools import cache

import snowballstemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import WatchlistConfig
from monitor.pipeline.match import Matcher
from monitor.pipeline.normalize import APOSTROPHES, DASHES, normalize, normalize_text, term_form

LATIN = "abcdefghijklmnopqrstuvwxyz"
ARABIC = "ابتثجحخدذرزسشصضطظعغفقلمنوهی"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщыэюя"
SEPARATORS = [*DASHES, " ", "  ", "\t", "\u00a0", "\n", " - ", " – ", "\u2009", "\u200b"]
PUNCTUATION = [*".,;:!?()[]{}\"«»“”‘’'/#*…،؛؟۔", "", " ", "\n\n", "— "]
FILLER = st.text(alphabet=LATIN + ARABIC + CYRILLIC + " .,\n", max_size=40)


def _word(alphabet: str) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=3, max_size=8)


WORDS = st.lists(st.one_of(_word(LATIN), _word(ARABIC), _word(CYRILLIC)), min_size=1, max_size=3)


@cache
def _matcher(term: str) -> Matcher:
    return Matcher.compile([WatchlistConfig(name="w", terms=(term,))])


def _matched(term: str, text: str) -> bool:
    return bool(_matcher(term).match("", text))


DASH_LIKE = {*DASHES, " - ", " – ", "\u200b"}  # a dash, or nothing (a zero-width space)


@given(
    words=WORDS,
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=2, max_size=2),
    before=st.sampled_from(PUNCTUATION),
    after=st.sampled_from(PUNCTUATION),
    possessive=st.sampled_from(["", *(a + "s" for a in APOSTROPHES)]),
    left=FILLER,
    right=FILLER,
    title_case=st.booleans(),
)
def test_a_match_survives_dash_apostrophe_space_and_punctuation_variants(
    words: list[str],
    separators: list[str],
    before: str,
    after: str,
    possessive: str,
    left: str,
    right: str,
    title_case: bool,
) -> None:
    """Rule 1: a dash of the term matches any dash, nothing, or a space; the space (and any
    other separator) only in the term's exact case."""
    term = "-".join(words)
    shown = [w.title() if title_case else w for w in words]
    used = [separators[i % 2] for i in range(len(words) - 1)]
    joined = shown[0] + "".join(sep + w for sep, w in zip(used, shown[1:], strict=True))
    possessive = possessive if words[-1][-1] in LATIN else ""  # an English possessive
    text = f"{left} {before}{joined}{possessive}{after} {right}"
    at = 2 + len(left) + 1 + len(before)
    starts = {hit.start for m in _matcher(term).match("", text) for hit in m.hits}
    exact_case = shown == words
    if exact_case or all(sep in DASH_LIKE for sep in used):
        assert at in starts, (term, text)
    else:
        assert at not in starts, (term, text)


# Every proclitic combination rule 5 names (ك does not occur in ARABIC).
CLITICS = {
    "و",
    "ف",
    "ب",
    "ل",
    "ال",
    "وال",
    "فال",
    "بال",
    "لل",
    "ول",
    "فل",
    "وب",
    "فب",
    "ولل",
    "فلل",
}
CLITICS |= {"وبال", "فبال"}
RUSSIAN = snowballstemmer.stemmer("russian")


def _inflected(word: str, longer: str) -> bool:
    """Rule 6: `longer` has the Snowball stem of `word`, or its stem is `word` itself."""
    return len(word) >= 4 and RUSSIAN.stemWord(longer) in (RUSSIAN.stemWord(word), word)


@given(
    word=st.one_of(_word(LATIN), _word(ARABIC), _word(CYRILLIC)),
    prefix=st.text(alphabet=LATIN + ARABIC + CYRILLIC + "0123456789", max_size=3),
    suffix=st.text(alphabet=LATIN + ARABIC + CYRILLIC + "0123456789", max_size=3),
    left=st.text(alphabet="0123456789 .,;\n-", max_size=20),
    right=st.text(alphabet="0123456789 .,;\n-", max_size=20),
)
def test_no_term_matches_strictly_inside_a_longer_word(
    word: str, prefix: str, suffix: str, left: str, right: str
) -> None:
    """Only a proclitic before an Arabic term (rule 5), an inflection after a Russian word
    (rule 6) or an English plural make a longer word that matches."""
    if not prefix + suffix:
        return
    longer = prefix + word + suffix
    text = f"{left} {longer} {right}"
    if not _matched(word, text):
        return
    if word[0] in ARABIC:
        allowed = not suffix and prefix in CLITICS and len(word) >= 3
    elif word[0] in CYRILLIC:
        allowed = not prefix and _inflected(word, word + suffix)
    else:
        allowed = not prefix and suffix in ("s", "es")
    assert allowed, (word, text)


@given(
    words=WORDS,
    tail=st.text(alphabet=LATIN + ARABIC + CYRILLIC, min_size=1, max_size=4),
    left=st.text(alphabet="0123456789 .,;\n-", max_size=20),
    right=st.text(alphabet="0123456789 .,;\n-", max_size=20),
)
def test_an_actors_name_counts_inside_its_longer_name_and_a_plain_term_does_not(
    words: list[str], tail: str, left: str, right: str
) -> None:
    short = " ".join(words)
    longer = short + tail
    text = f"{left} {longer} {right}"
    actor = WatchlistConfig.model_validate(
        {"name": "a", "actors": [{"name": longer, "aliases": [short]}]}
    )
    (found,) = Matcher.compile([actor]).match("", text)
    assert {m.term: m.count for m in found.matches} == {longer: 1, short: 1}, text
    if tail in ("s", "es"):  # an English plural of the short term, which matches by design
        return
    (plain,) = Matcher.compile([WatchlistConfig(name="p", terms=(short, longer))]).match("", text)
    assert {m.term for m in plain.matches} == {longer}, text


@settings(max_examples=300)
@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


ODD = st.sampled_from(
    [
        "ﬁ",
        "…",
        "ＩＳ",
        "\u0640",
        "\u064e",
        "\u200d",
        "\u200c",
        "\u00ad",
        "e\u0301",
        "ß",
        "  ",
        "\r\n",
    ]
)


@given(
    term=st.lists(_word(LATIN), min_size=1, max_size=2).map(" ".join),
    parts=st.lists(st.one_of(ODD, FILLER), max_size=6),
    at=st.integers(min_value=0, max_value=6),
)
def test_hit_offsets_point_at_the_term_in_the_original_text(
    term: str, parts: list[str], at: int
) -> None:
    parts.insert(min(at, len(parts)), f" {term} ")
    body = "".join(parts)
    text = "\n\n" + body
    found = _matcher(term).match("", body)
    assert found, (term, body)
    key = term_form(term).key
    for hit in found[0].hits:
        assert term_form(text[hit.start : hit.end]).key.startswith(key)


@given(st.text(max_size=200))
def test_original_spans_stay_in_bounds_and_in_order(text: str) -> None:
    norm = normalize(text)
    spans = [norm.original_span(i, i + 1) for i in range(len(norm.text))]
    assert all(0 <= a <= b <= len(text) for a, b in spans)
    assert [a for a, _ in spans] == sorted(a for a, _ in spans)


ACCENTED = {"a": "āáàäå", "e": "éèēë", "i": "īíï", "o": "ōóöø", "u": "ūúü", "c": "ç", "n": "ñ"}
ACCENTED |= {"s": "š", "z": "ž", "l": "ł", "d": "đ", "h": "ḥ"}
INSIDE = ["", "", "\u00ad", "\u200b", "\u200d", "\u2060", "\u200e", "\u200f", "\ufeff", "ʿ", "ʾ"]


@given(
    word=_word(LATIN),
    accents=st.lists(st.integers(min_value=0, max_value=9), min_size=8, max_size=8),
    inside=st.lists(st.sampled_from(INSIDE), min_size=8, max_size=8),
    combining=st.booleans(),
    left=FILLER,
    right=FILLER,
)
def test_folding_keeps_a_hits_offsets_on_the_original_text(
    word: str,
    accents: list[int],
    inside: list[str],
    combining: bool,
    left: str,
    right: str,
) -> None:
    """Rules 2 and 3: diacritics, transliteration marks and invisible characters inside the
    text's spelling fold away, and the hit still covers exactly that spelling."""
    letters = []
    for i, letter in enumerate(word):
        variants = ACCENTED.get(letter, "")
        shown = variants[accents[i] % len(variants)] if variants and accents[i] < 5 else letter
        if combining and shown == letter:
            shown += "\u0301"
        letters.append(shown + (inside[i] if i < len(word) - 1 else ""))
    shown = "".join(letters)
    text = f"{left} {shown} {right}"
    at = 2 + len(left) + 1
    hits = {(h.start, h.end) for m in _matcher(word).match("", text) for h in m.hits}
    assert (at, at + len(shown)) in hits, (word, shown)


ARABIC_INSIDE = ["", "", "\u0640", "\u064e", "\u0650", "\u0651", "\u200d", "\u00ad"]
# The word must not start with ال (the article then is the term's own) nor with a letter that
# makes a prefix ambiguous (وو…).
ARABIC_WORD = st.text(alphabet="بتثجحخدذرزسشصضطظعغقمنهی", min_size=3, max_size=7)


@given(
    word=ARABIC_WORD,
    clitic=st.sampled_from(sorted(CLITICS)),
    inside=st.lists(st.sampled_from(ARABIC_INSIDE), min_size=8, max_size=8),
    left=FILLER,
    right=FILLER,
)
def test_a_clitic_hit_covers_the_whole_written_word(
    word: str, clitic: str, inside: list[str], left: str, right: str
) -> None:
    """Rule 5 with rules 2 and 3 around it: tatweel, harakat and invisible characters inside
    the written word, and the hit covers exactly that word, proclitics included."""
    written = clitic + "".join(
        c + (inside[i] if i < len(word) - 1 else "") for i, c in enumerate(word)
    )
    text = f"{left} {written} {right}"
    at = 2 + len(left) + 1
    hits = {(h.start, h.end) for m in _matcher(word).match("", text) for h in m.hits}
    assert (at, at + len(written)) in hits, (word, written)
