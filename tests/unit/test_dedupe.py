"""Content hash, shingles, MinHash, LSH band keys and story picking (monitor.pipeline.dedupe)."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.pipeline.dedupe import (
    _SCRIPT_FOLD,
    BANDS,
    DEFAULT_THRESHOLD,
    MIN_SHINGLES,
    NUM_PERM,
    StoryFingerprint,
    band_keys,
    content_hash,
    fingerprint,
    minhash,
    overlap,
    pack_fingerprint,
    pick_story,
    same_story,
    shingles,
    signature_of,
    similarity,
    unpack_fingerprint,
    words,
)

SEED = (Path(__file__).parents[1] / "fixtures/stories/texts/seed.txt").read_text(encoding="utf-8")
SEED_PARAGRAPHS = [p for p in SEED.split("\n\n") if p.strip()]


def _words(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(100_000)}" for _ in range(count))


# --- content hash -----------------------------------------------------------------------


def test_content_hash_is_32_hex_chars_of_xxh128() -> None:
    digest = content_hash(SEED)
    assert len(digest) == 32
    assert int(digest, 16) >= 0


def test_content_hash_ignores_case_whitespace_and_nfkc_variants() -> None:
    assert content_hash("  Taliban  accuse\n\nISIS-K\t") == content_hash("taliban accuse isis-k")
    assert content_hash("ﬁve ＩＳＩＳ") == content_hash("five isis")  # ligature, full-width


def test_content_hash_differs_for_different_words_and_punctuation() -> None:
    assert content_hash("17 killed") != content_hash("18 killed")
    assert content_hash("ISIS-K") != content_hash("ISIS K")


# --- words and shingles ------------------------------------------------------------------


def test_words_drop_punctuation_and_fold_case() -> None:
    assert words("KABUL (Reuters) - ISIS-K’s attack.") == [
        "kabul",
        "reuters",
        "isis",
        "k",
        "s",
        "attack",
    ]


def test_words_fold_arabic_keyboard_letters_zwnj_and_digits() -> None:
    persian = "کابل می\u200cگوید ۲۰۲۱"
    typed_on_arabic_layout = "كابل مي گويد ٢٠٢١"
    assert words(persian) == words(typed_on_arabic_layout) == ["کابل", "می", "گوید", "2021"]


def test_words_drop_tatweel_and_harakat() -> None:
    assert words("كـتـاب") == words("کتاب")
    assert words("كِتَابٌ") == words("کتاب")


def test_shingles_are_word_four_grams() -> None:
    assert len(shingles("one two three four five six")) == 3
    assert shingles("One, two; THREE four.") == shingles("one two three four")


def test_shingles_of_short_and_empty_text() -> None:
    assert len(shingles("two words")) == 1
    assert shingles("  ... — !") == set()


# --- MinHash -----------------------------------------------------------------------------


def test_minhash_is_deterministic_32_bit_and_num_perm_long() -> None:
    signature = minhash(SEED)
    assert signature == minhash(SEED)
    assert len(signature) == NUM_PERM
    assert all(0 <= value < 2**32 for value in signature)
    assert len(minhash(SEED, num_perm=64)) == 64


def test_minhash_of_text_without_words_is_empty() -> None:
    assert minhash("") == ()
    assert signature_of(set()) == ()


def test_densified_small_set_has_no_empty_bins_and_matches_itself() -> None:
    signature = minhash("a short body of eight words only here")
    assert len(signature) == NUM_PERM
    assert all(value < 2**32 for value in signature)
    assert similarity(signature, minhash("A short body, of eight words only here!")) == 1.0


@pytest.mark.parametrize("true_jaccard", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_similarity_estimates_jaccard_within_sampling_error(true_jaccard: float) -> None:
    rng = random.Random(int(true_jaccard * 100))
    errors = []
    for _ in range(20):
        a, b = _sets_with_jaccard(rng, true_jaccard, union=600)
        errors.append(similarity(signature_of(a), signature_of(b)) - true_jaccard)
    assert abs(sum(errors) / len(errors)) < 0.03  # unbiased
    assert max(abs(e) for e in errors) < 0.16  # ~3.5 sigma at 128 bins


def _sets_with_jaccard(rng: random.Random, jaccard: float, union: int) -> tuple[set[int], set[int]]:
    values = [rng.getrandbits(64) for _ in range(union)]
    shared = round(jaccard * union)
    only = (union - shared) // 2
    a = set(values[:shared] + values[shared : shared + only])
    b = set(values[:shared] + values[shared + only : shared + 2 * only])
    return a, b


def test_similarity_of_mismatched_or_empty_signatures_is_zero() -> None:
    assert similarity((), ()) == 0.0
    assert similarity((1, 2), (1, 2, 3)) == 0.0


# --- band keys ---------------------------------------------------------------------------


def test_band_keys_fit_the_story_bands_column_and_name_their_band() -> None:
    keys = band_keys(minhash(SEED))
    assert len(keys) == BANDS
    assert all(len(key) <= 40 for key in keys)
    assert [int(key[:2], 16) for key in keys] == list(range(BANDS))
    assert len(set(keys)) == BANDS


def test_band_keys_of_an_edited_copy_share_some_keys() -> None:
    copy = "\n\n".join(["KABUL (Reuters) -", *SEED_PARAGRAPHS[:-1], "Reporting by staff"])
    assert set(band_keys(minhash(SEED))) & set(band_keys(minhash(copy)))


def test_band_keys_of_unrelated_texts_share_none() -> None:
    assert not set(band_keys(minhash(_words(400, 1)))) & set(band_keys(minhash(_words(400, 2))))


def test_band_keys_reject_a_signature_too_short_for_the_bands() -> None:
    with pytest.raises(ValueError, match="need"):
        band_keys((1, 2, 3), bands=2, rows=2)
    assert band_keys(()) == ()


# --- overlap and same_story ----------------------------------------------------------------


def test_a_copy_with_boilerplate_and_a_dropped_paragraph_is_the_same_story() -> None:
    copy = "\n\n".join(
        [
            "Home / Afghanistan",
            *SEED_PARAGRAPHS[:6],
            *SEED_PARAGRAPHS[7:],
            "© 2024 All rights reserved",
        ]
    )
    assert same_story(fingerprint(SEED), fingerprint(copy), threshold=DEFAULT_THRESHOLD)


def test_unrelated_texts_are_not_the_same_story() -> None:
    a, b = fingerprint(_words(300, 3)), fingerprint(_words(300, 4))
    assert overlap(a, b) < 0.1
    assert not same_story(a, b, threshold=DEFAULT_THRESHOLD)


def test_overlap_counts_a_trimmed_copy_as_contained() -> None:
    trimmed = "\n\n".join(SEED_PARAGRAPHS[:7])
    assert similarity(minhash(SEED), minhash(trimmed)) < 0.8
    assert overlap(fingerprint(SEED), fingerprint(trimmed)) > 0.9


def test_overlap_is_zero_below_min_shingles() -> None:
    short = " ".join(words(SEED)[: MIN_SHINGLES + 2])  # MIN_SHINGLES - 1 four-grams
    assert fingerprint(short).size == MIN_SHINGLES - 1
    longer = " ".join(words(SEED)[: MIN_SHINGLES + 3])
    assert overlap(fingerprint(longer), fingerprint(longer)) == 1.0
    assert overlap(fingerprint(short), fingerprint(short)) == 0.0


def test_overlap_is_zero_when_one_body_is_over_three_times_the_other() -> None:
    lede = " ".join(words(SEED)[:120])
    digest = SEED + "\n\n" + _words(300, 5)
    assert overlap(fingerprint(lede), fingerprint(SEED)) > 0.9
    assert overlap(fingerprint(lede), fingerprint(digest)) == 0.0


def test_empty_fingerprint_is_never_the_same_story() -> None:
    empty = fingerprint("")
    assert empty == StoryFingerprint(signature=(), bands=(), size=0)
    assert not same_story(empty, empty, threshold=0.01)


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=0, max_size=400))
def test_fingerprint_of_any_text_is_consistent(text: str) -> None:
    result = fingerprint(text)
    assert (result.signature == ()) == (result.size == 0) == (result.bands == ())
    if result.size >= MIN_SHINGLES:
        assert overlap(result, fingerprint(text)) == 1.0


# --- pick_story --------------------------------------------------------------------------


def test_pick_story_returns_the_most_similar_candidate_above_threshold() -> None:
    new = fingerprint(SEED)
    close = fingerprint("\n\n".join(SEED_PARAGRAPHS[:-1]))
    closer = fingerprint(SEED + "\n\nShare this article")
    other = fingerprint(_words(250, 6))
    assert pick_story([(7, other), (3, close), (9, closer)], new, DEFAULT_THRESHOLD) in {3, 9}
    assert pick_story([(7, other), (9, closer)], new, DEFAULT_THRESHOLD) == 9
    assert pick_story([(7, other)], new, DEFAULT_THRESHOLD) is None
    assert pick_story([], new, DEFAULT_THRESHOLD) is None


def test_pick_story_breaks_ties_on_the_oldest_story() -> None:
    new = fingerprint(SEED)
    assert pick_story([(12, new), (4, new), (8, new)], new, DEFAULT_THRESHOLD) == 4


def test_pick_story_prefers_a_higher_score_over_a_lower_id() -> None:
    new = fingerprint(SEED)
    weaker = fingerprint("\n\n".join([*SEED_PARAGRAPHS[:6], _words(40, 7)]))
    assert 0 < overlap(new, weaker) < 1.0
    assert pick_story([(1, weaker), (2, new)], new, 0.1) == 2


# --- storage form -------------------------------------------------------------------------


def test_pack_round_trips_and_is_516_bytes() -> None:
    original = fingerprint(SEED)
    packed = pack_fingerprint(original)
    assert len(packed) == 4 * (NUM_PERM + 1)
    assert unpack_fingerprint(packed) == original


def test_pack_round_trips_an_empty_fingerprint() -> None:
    assert unpack_fingerprint(pack_fingerprint(fingerprint(""))) == fingerprint("")


@pytest.mark.parametrize("packed", [b"", b"\x00\x01\x02"])
def test_unpack_rejects_malformed_bytes(packed: bytes) -> None:
    with pytest.raises(ValueError, match="multiple of 4"):
        unpack_fingerprint(packed)


# --- Stored fingerprints stay valid ------------------------------------------------------

_FOLDS = "يىكةۀ\u200c\u200dـ\u064b\u0650\u0670۱٢"
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(_FOLDS + " \n\t.,;—'’-")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list("abcdeABCDE éÉ ßİ کتاب داعش خراسان Россия")),
    ),
    max_size=200,
)


def _reference_shingles(text: str, n: int = 4) -> set[int]:
    """The shingle hash as first written and stored: every character folded through the
    table, one joined string per n-gram. Packed fingerprints in databases hold its values."""
    tokens = re.findall(
        r"\w+", unicodedata.normalize("NFKC", text).casefold().translate(_SCRIPT_FOLD)
    )
    if not tokens:
        return set()
    spans = range(max(1, len(tokens) - n + 1))
    return {xxhash.xxh3_64_intdigest(" ".join(tokens[i : i + n]).encode("utf-8")) for i in spans}


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.integers(min_value=1, max_value=6))
def test_shingles_equal_the_stored_hashes(text: str, n: int) -> None:
    assert shingles(text, n) == _reference_shingles(text, n)


def test_shingles_equal_the_stored_hashes_on_real_bodies() -> None:
    for text in (SEED, SEED.replace("the", "ي ك"), "کتاب " * 30, "one two three four"):
        assert shingles(text) == _reference_shingles(text)
