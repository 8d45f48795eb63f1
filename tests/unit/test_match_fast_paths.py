"""Each fast path of normalisation and matching gives what the straightforward code gives,
for arbitrary text (hypothesis): the straightforward versions are kept here as references."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config import WatchlistConfig
from monitor.models import Hit
from monitor.pipeline import match, normalize, snippets
from monitor.pipeline.match import Matcher
from monitor.pipeline.normalize import APOSTROPHES, DASHES
from monitor.pipeline.offsets import Stage, StageBuilder, splice
from monitor.pipeline.scan import Scan

PIECES = [
    *"abcxyzABCISK",
    *"ابتلمنوهیكيةأ",
    *"абвгдёЁИСК",
    *DASHES,
    *APOSTROPHES,
    *' \n\t_#.,;:!?()"«»',
    "\u200c",  # ZWNJ
    "\u200d",  # ZWJ
    "\u00ad",  # soft hyphen
    "\u200b",  # zero-width space
    "\u0301",  # combining acute
    "\u0308",  # combining diaeresis
    "\u064e",  # fatha
    "\u0640",  # tatweel
    "\u00a0",
    "ﬁ",  # NFKC compatibility ligature
    "ß",
    "İ",
    "  ",
    "\n\n",
    " - ",
    "é",
    "e\u0301",
]
TEXT = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=60).map("".join),
    st.text(max_size=60),
)


def _runs_to_collapse_reference(text: str) -> list[tuple[int, int]]:
    """Every maximal run of spaces, line breaks and dashes that holds one of the pairs."""
    seeds: set[int] = set()
    for pair in ("  ", " \n", "\n ", "\n\n\n", " -", "- ", "--", "\n-", "-\n"):
        at = text.find(pair)
        while at >= 0:
            seeds.add(at)
            at = text.find(pair, at + 1)
    runs: list[tuple[int, int]] = []
    for seed in sorted(seeds):
        if runs and seed < runs[-1][1]:
            continue
        start = seed
        while start > 0 and text[start - 1] in " \n-":
            start -= 1
        match = re.compile(r"[ \n-]+").match(text, seed)
        runs.append((start, match.end() if match else seed))
    return runs


@settings(max_examples=500)
@given(st.one_of(TEXT, st.text(alphabet=" \n-a\u2013\U0001f600\ud800", max_size=20)))
def test_runs_to_collapse_are_the_seeded_runs(text: str) -> None:
    assert normalize._runs_to_collapse(text) == _runs_to_collapse_reference(text)


@settings(max_examples=300)
@given(
    words=st.lists(st.text(alphabet="ab\u0645\u0640é", min_size=1, max_size=40), max_size=120),
    spaces=st.lists(st.sampled_from([" ", "\n", "\n\n", "  ", "\t"]), min_size=120, max_size=120),
    at=st.integers(min_value=0, max_value=119),
    limit=st.integers(min_value=1, max_value=3),
)
def test_snippet_windows_do_not_depend_on_the_first_margin(
    words: list[str], spaces: list[str], at: int, limit: int
) -> None:
    text = "".join(w + s for w, s in zip(words, spaces, strict=False))
    starts = [m.start() for m in re.finditer(r"\S+", text)]
    if not starts:
        return
    hits = [Hit(text[s : s + 1], None, "x", s, s + 1) for s in starts[at % len(starts) :: 7]]
    fast = snippets.SnippetText(text).snippets(hits, limit=limit)
    saved = snippets._MARGIN
    snippets._MARGIN = len(text) + 1  # one look at the whole text: the straightforward window
    try:
        whole = snippets.SnippetText(text).snippets(hits, limit=limit)
    finally:
        snippets._MARGIN = saved
    assert fast == whole


@settings(max_examples=300)
@given(TEXT, st.lists(st.integers(min_value=0, max_value=80), max_size=12))
def test_words_before_a_span_are_those_of_the_view_before_it(text: str, ats: list[int]) -> None:
    scan = Scan(text, None)
    view = scan.view
    starts = [m.start() for m in re.finditer(r"(?<!\S)\S", view)]
    for at in [*ats, *starts[::-1], *starts]:
        assert scan.words((at, at))[0] == len(view[:at].split())


@settings(max_examples=500)
@given(
    st.one_of(
        TEXT,
        st.tuples(TEXT, st.integers(min_value=1990, max_value=2002)).map(
            lambda t: "a" * t[1] + t[0]
        ),
    )
)
def test_the_character_pass_is_the_fold_table(text: str) -> None:
    assert normalize._fold_characters(text) == text.translate(normalize._FOLD_TABLE)


def _drop_inner_apostrophes_reference(text: str) -> tuple[str, Stage | None]:
    builder = StageBuilder()
    last = 0
    for found in re.finditer(r"'(?<=[^\W\d_]')(?=[^\W\d_])", text):
        at = found.start()
        elided = normalize._word_before(text, at).casefold() in normalize.ELISIONS
        if elided or normalize._suffix_after(text, at):
            continue
        builder.keep(text[last:at])
        builder.replace(at, at + 1, "")
        last = at + 1
    builder.keep(text[last:])
    return builder.result()


APOSTROPHE_TEXT = st.lists(
    st.sampled_from(
        [
            *"'’",
            "l",
            "L",
            "qu",
            "QU",
            " qu'",
            " jusqu'",
            " l'",
            "dell",
            "s",
            "da",
            "DAN",
            "nin",
            "İ",
            "ı",
            "ß",
            "ﬁ",
            "K",
            "\u212a",  # Kelvin sign
            "²",
            "1",
            "_",
            " ",
            "abcdefgh",
            "é",
            "Ж",
            "ب",
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=1000)
@given(st.one_of(TEXT, APOSTROPHE_TEXT))
def test_inner_apostrophes_drop_as_in_the_word_by_word_code(text: str) -> None:
    assert normalize._drop_inner_apostrophes(text) == _drop_inner_apostrophes_reference(text)


@settings(max_examples=500)
@given(TEXT, st.lists(st.tuples(st.integers(0, 60), st.integers(0, 3), TEXT), max_size=8))
def test_splice_is_the_stage_builder(text: str, cuts: list[tuple[int, int, str]]) -> None:
    edits, last = [], 0
    for at, size, new in sorted(cuts):
        start = max(at, last)
        end = min(start + size, len(text))
        if start > len(text):
            break
        edits.append((start, end, new[:3]))
        last = end
    builder = StageBuilder()
    last = 0
    for start, end, new in edits:
        builder.keep(text[last:start])
        builder.replace(start, end, new)
        last = end
    builder.keep(text[last:])
    assert splice(text, edits) == builder.result()


FREQUENCY_TERMS = ("ISIS", "ISIS-K", "IS-KP", "Kabul", "al-Qaeda", "القاعدة", "Талибан", "Daesh")
FREQUENCY_TEXT = st.lists(
    st.sampled_from([*FREQUENCY_TERMS, "isis", "Талибана", "والقاعدة", " ", "-", "'s", "x"]),
    max_size=12,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(TEXT, FREQUENCY_TEXT))
def test_the_trie_order_changes_no_result(text: str) -> None:
    config = WatchlistConfig(name="w", terms=FREQUENCY_TERMS, query='"Kabul" NEAR/3 "Daesh"')
    ordered = Matcher.compile([config])
    saved = match._by_frequency
    match._by_frequency = lambda word: [0]  # a stable sort: the order the spellings came in
    try:
        unordered = Matcher.compile([config])
    finally:
        match._by_frequency = saved
    assert ordered.match("t", text) == unordered.match("t", text)
