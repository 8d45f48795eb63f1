"""Normalisation: the matching form, the word view, term keys and the map back to the original."""

from __future__ import annotations

import pytest

from monitor.pipeline.normalize import (
    is_acronym,
    key_variants,
    normalize,
    normalize_text,
    term_form,
    word_view,
)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("ISIS-K’s Expansion", "isis-ks expansion"),
        ("ISIS–K ISIS—K ISIS‑K ISIS−K", "isis-k isis-k isis-k isis-k"),
        ("ISIS - K", "isis-k"),
        ("a -\n- b", "a-b"),
        ("a -\n\n b", "a\n\nb"),
        ("a  b\t\tc\u00a0d", "a b c d"),
        ("a\nb", "a\nb"),
        ("a \n b", "a b"),
        ("a\n\nb", "a\n\nb"),
        ("a\n \n\n b", "a\n\nb"),
        ("a\r\n\r\nb", "a\n\nb"),
        ("ＩＳＩＳ ﬁghters", "isis fighters"),
        ("𝐈𝐒𝐈𝐒", "isis"),
        ("Ёлка ёж", "елка еж"),
        ("يى ی ې ۍ ے", "یی ی ی ی ی"),
        ("ك ک ڪ", "ک ک ک"),
        ("ة ۀ ہ ھ ه", "ه ه ه ه ه"),
        ("أ إ آ ٱ ا", "ا ا ا ا ا"),
        ("ګ گ", "گ گ"),
        ("داعـــش", "داعش"),
        ("دَاعِشٌ", "داعش"),
        ("می\u200cخواهد", "می خواهد"),
        ("داع\u200dش", "داعش"),
        ("۰۱۲۳۴۵۶۷۸۹ ٠١٢٣٤٥٦٧٨٩", "0123456789 0123456789"),
        ("Tali\u00adban", "taliban"),
        ("\u200fKabul\u200e", "kabul"),
        ("«Kabul» “Kabul”", "#kabul# #kabul#"),
        ("Straße", "straße"),
        ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),
    ],
)
def test_matching_form(text: str, form: str) -> None:
    assert normalize_text(text) == form


def test_cased_form_keeps_case_at_the_same_offsets() -> None:
    norm = normalize("ISIS–K’s  Expansion")
    assert norm.cased == "ISIS-Ks Expansion"
    assert len(norm.cased) == len(norm.text)


@pytest.mark.parametrize(
    ("form", "view"),
    [
        ("isis-ks expansion", "isis ks expansion"),
        ("l'etat", "l etat"),
        ("(isis), k.", " isis   k "),
        ("'isis' don't militants'", " isis  don t militants "),
        ("a\nb a\n\nb", "a b a  b"),
        ("#kabul#", " kabul "),
        ("u.s. led", "u s  led"),
        ("qur'an", "qur an"),
    ],
)
def test_word_view(form: str, view: str) -> None:
    assert word_view(form) == view
    assert len(word_view(form)) == len(form)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ISIS-K", "isis k"),
        ("ISIS–K’s", "isis ks"),
        (" Kabul ", "kabul"),
        ("U.S. Army", "u s  army"),
        ("داعـش خراسان", "داعش خراسان"),
        ("---", ""),
        ("…", ""),
    ],
)
def test_term_key(text: str, key: str) -> None:
    assert term_form(text).key == key


def test_term_cased_key_masks_separators() -> None:
    assert term_form("IS-K").cased == "IS K"
    assert term_form("“ISIS”").cased == "ISIS"


@pytest.mark.parametrize(
    ("text", "acronym"),
    [
        ("ISIS", True),
        ("ISKP", True),
        ("IS-K", True),
        ("IS-KP", True),
        ("IS K", True),
        ("TTP", True),
        ("ИГИЛ", True),
        ("ISIS-K", False),
        ("Isis", False),
        ("isis", False),
        ("U.S.", False),
        ("G7", False),
        ("داعش", False),
        ("-", False),
    ],
)
def test_acronym_rule(text: str, acronym: bool) -> None:
    assert is_acronym(text) is acronym


@pytest.mark.parametrize(
    ("key", "variants"),
    [
        ("attack", ("attack", "attacks")),
        ("church", ("church", "churchs", "churches")),
        ("isis", ("isis", "isiss", "isises")),
        ("kabul 2024", ("kabul 2024",)),
        ("داعش", ("داعش",)),
        ("игил", ("игил",)),
    ],
)
def test_key_variants(key: str, variants: tuple[str, ...]) -> None:
    assert key_variants(key) == variants


def _spans(text: str) -> list[str]:
    """The original text behind each word of the view."""
    norm = normalize(text)
    view = word_view(norm.text)
    out = []
    start = None
    for i, char in enumerate(view + " "):
        if char != " " and start is None:
            start = i
        elif char == " " and start is not None:
            a, b = norm.original_span(start, i)
            out.append(text[a:b])
            start = None
    return out


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ISIS-K’s  expansion", ["ISIS", "K’s", "expansion"]),
        ("داعـــش   خراسان", ["داعـــش", "خراسان"]),
        ("ﬁrst…ＩＳＩＳ", ["ﬁrst", "ＩＳＩＳ"]),
        ("a\r\n\r\n\r\nb", ["a", "b"]),
        ("Tali\u00adban", ["Tali\u00adban"]),
        ("l'E\u0301tat", ["l", "E\u0301tat"]),
        ("ﷲ أكبر", ["ﷲ", "أكبر"]),
        ("x" * 100 + " …" + " y" * 50, ["x" * 100] + ["y"] * 50),
    ],
)
def test_offsets_map_each_word_back_to_the_original(text: str, words: list[str]) -> None:
    assert _spans(text) == words


def test_offsets_of_an_empty_text() -> None:
    norm = normalize("")
    assert (norm.text, norm.original_span(0, 0)) == ("", (0, 0))


def test_nfkc_composition_after_removed_character() -> None:
    # Removing the ZWJ leaves e + combining acute, which NFKC composes on a second pass.
    assert normalize_text("e\u200d\u0301x") == "ex"  # composed, then the accent folded
    assert normalize_text("ş\u200d\u0327x") == "sx"
