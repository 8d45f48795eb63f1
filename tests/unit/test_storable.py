"""Pure pieces of the bad-input fixes: storable text, binary bodies, the matched body and the
key of a link-less entry."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from monitor.models import storable
from monitor.pipeline.canonical import linkless_key
from monitor.pipeline.charset import looks_binary
from monitor.pipeline.match import matching_body


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_storable_text_encodes_and_keeps_its_length(text: str) -> None:
    clean = storable(text)
    assert "\x00" not in clean
    assert clean.encode("utf-8").decode("utf-8") == clean  # no lone surrogate left
    assert len(clean) == len(text)


def test_storable_replaces_only_nul_and_lone_surrogates() -> None:
    assert (
        storable("a\x00b\ud800c\udfffd \U0001f600 داعش") == "a\ufffdb\ufffdc\ufffdd \U0001f600 داعش"
    )


def test_binary_bodies_are_told_from_text() -> None:
    assert looks_binary(random.Random(1).randbytes(4096))
    assert looks_binary(b"<html>" + bytes(range(1, 9)) * 20 + b"</html>")
    assert not looks_binary("<html><p>داعش خراسان\tok\r\n</p></html>".encode())
    assert not looks_binary("<html>text</html>".encode("utf-16"))
    assert not looks_binary(b"")


def test_the_feed_text_is_matched_unless_the_page_text_holds_it() -> None:
    assert matching_body("Page text. ISIS-K said so.", "ISIS-K  said\nso.") == (
        "Page text. ISIS-K said so."
    )
    assert matching_body("Unrelated page.", "ISIS-K claimed it.") == (
        "Unrelated page.\n\nISIS-K claimed it."
    )
    assert matching_body("Page.", "  ") == "Page."


def test_linkless_entries_get_one_key_per_guid() -> None:
    feed = "https://news.example/rss"
    keys = {linkless_key(feed, guid) for guid in ("a", "b", "a b", "a#b")}
    assert len(keys) == 4
    assert linkless_key(feed, "a") == "https://news.example/rss#entry=a"


def test_a_snippet_across_the_title_keeps_title_and_body_apart() -> None:
    from monitor.config import WatchlistConfig
    from monitor.pipeline.match import Matcher

    watchlist = WatchlistConfig.model_validate({"name": "w", "terms": ["ISIS-K"]})
    [found] = Matcher.compile([watchlist]).match(
        "ISIS-K claims Kabul attack", "The group said on Tuesday that it carried out the attack."
    )
    assert found.snippets == (
        "ISIS-K claims Kabul attack — The group said on Tuesday that it carried out the attack.",
    )
