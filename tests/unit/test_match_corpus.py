"""The matcher against the table of cases, the seed article, and its public behaviour."""

from __future__ import annotations

import bisect
import pickle
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.config import WatchlistConfig
from monitor.errors import ConfigError
from monitor.models import Hit, TermCount, WatchlistMatch
from monitor.pipeline.match import Matcher, search_text
from monitor.pipeline.snippets import ELLIPSIS, build_snippets, highlight_spans
from tests.support.match_cases import CASES, ISIS_K_ACTOR, Case

SEED = Path(__file__).parent.parent / "fixtures" / "seed-article.txt"


def _watchlist(**fields: Any) -> WatchlistConfig:
    return WatchlistConfig.model_validate({"name": "w", **fields})


def _run(case: Case) -> list[WatchlistMatch]:
    config = _watchlist(
        terms=list(case.terms), actors=list(case.actors), exclude=list(case.exclude)
    )
    return Matcher.compile([config]).match("", case.text)


def test_the_table_is_large_and_varied() -> None:
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({case.lang for case in CASES}) >= 5
    assert len({case.script for case in CASES}) >= 3
    polarity = Counter(bool(case.hits) for case in CASES)
    assert polarity[True] >= 50
    assert polarity[False] >= 50


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    found = _run(case)
    if not case.hits:
        assert found == [], f"{case.id}: expected no match, got {found}"
        return
    assert len(found) == 1, f"{case.id}: expected a match"
    assert {m.term for m in found[0].matches} == set(case.hits)
    text = "\n\n" + case.text
    for hit in found[0].hits:  # the hit's offsets hold its term, whole: matched alone, it hits
        alone = text[hit.start : hit.end]
        (again,) = _run(replace(case, text=alone))
        assert (hit.term, 2, 2 + len(alone)) in {(h.term, h.start, h.end) for h in again.hits}


def _seed() -> tuple[str, str]:
    title, body = SEED.read_text(encoding="utf-8").split("\n", 1)
    return title, body


def test_seed_article_hits_isis_khorasan_under_both_forms() -> None:
    matcher = Matcher.compile([_watchlist(actors=[ISIS_K_ACTOR])])
    (found,) = matcher.match(*_seed())
    counts = {(m.term, m.actor): m.count for m in found.matches}
    # ISIS-K: once in the title (ISIS-K’s) and inside each of the body's four ISIS-Khorasan.
    assert counts == {("ISIS-K", "ISIS-Khorasan"): 5, ("ISIS-Khorasan", "ISIS-Khorasan"): 4}
    assert found.matches[0] == TermCount("ISIS-K", "ISIS-Khorasan", 5)
    title, body = _seed()
    text = title + "\n\n" + body
    isis_k = [h for h in found.hits if h.term == "ISIS-K"]
    assert [text[h.start : h.end] for h in isis_k] == ["ISIS-K’s"] + ["ISIS-K"] * 4
    khorasan = [(h.start, h.end) for h in found.hits if h.term == "ISIS-Khorasan"]
    assert [start for start, _ in khorasan] == [h.start for h in isis_k[1:]]
    assert {text[h.start : h.end] for h in found.hits if h.term == "ISIS-Khorasan"} == {
        "ISIS-Khorasan",
        "ISIS-Khorasan’s",
    }


def test_seed_article_snippets_are_kwic_from_the_original_text() -> None:
    matcher = Matcher.compile([_watchlist(actors=[ISIS_K_ACTOR])])
    (found,) = matcher.match(*_seed())
    assert 1 <= len(found.snippets) <= 3
    for snippet in found.snippets:
        words = [w for w in snippet.strip(ELLIPSIS).split() if w != "—"]  # "—": a paragraph break
        assert 20 <= len(words) <= 32
        assert "ISIS-K" in snippet
        assert snippet.startswith(ELLIPSIS)
    assert "expansion of ISIS-Khorasan. Without" in " ".join(found.snippets)
    assert "ISIS-K’s Expansion" in found.snippets[0]


def test_alias_inside_a_longer_name_needs_the_same_actor_in_the_same_watchlist() -> None:
    both = _watchlist(actors=[{"name": "ISIS-Khorasan", "aliases": ["ISIS-K"]}])
    short = WatchlistConfig.model_validate(
        {"name": "short", "actors": [{"name": "ISIS-K", "aliases": ["IS-K"]}]}
    )
    long_ = WatchlistConfig.model_validate(
        {"name": "long", "actors": [{"name": "ISIS-Khorasan", "aliases": ["Daesh Khorasan"]}]}
    )
    found = Matcher.compile([short, long_, both]).match("", "ISIS-Khorasan claimed it")
    assert [m.watchlist for m in found] == ["long", "w"]
    assert {m.term for m in found[1].matches} == {"ISIS-K", "ISIS-Khorasan"}


def test_alias_inside_nested_longer_names_counts_once_per_mention() -> None:
    names = ["ISIS-K", "ISIS-Khorasan", "ISIS-Khorasan Province", "ISIS-Ks"]
    config = _watchlist(actors=[{"name": "ISIS-Kstan", "aliases": names}])
    (found,) = Matcher.compile([config]).match("", "ISIS-Kstan, then ISIS-Khorasan Province’s")
    counts = {m.term: m.count for m in found.matches}
    assert counts == {
        "ISIS-K": 2,  # not again as its plural "isis ks" inside ISIS-Kstan
        "ISIS-Ks": 1,  # a listed name of its own
        "ISIS-Kstan": 1,
        "ISIS-Khorasan": 1,
        "ISIS-Khorasan Province": 1,
    }


def test_alias_never_counts_inside_another_watchlists_exclude() -> None:
    config = _watchlist(actors=[{"name": "X", "aliases": ["ISIS-K"]}])
    other = WatchlistConfig(name="other", exclude=("ISIS-Khorasan",), terms=("Kabul",))
    matcher = Matcher.compile([config, other])
    assert matcher.match("", "ISIS-Khorasan in Kabul") == []
    assert [m.watchlist for m in matcher.match("", "ISIS-K in Kabul")] == ["w", "other"]


def test_watchlist_result_carries_severity_channels_and_sorted_hits() -> None:
    config = _watchlist(severity="high", channels=["desk-log"], terms=["Kabul", "Kandahar"])
    (found,) = Matcher.compile([config]).match("Kabul", "From Kandahar to Kabul.")
    assert (found.watchlist, found.severity, found.channels) == ("w", "high", ("desk-log",))
    assert [(m.term, m.count) for m in found.matches] == [("Kabul", 2), ("Kandahar", 1)]
    assert [h.start for h in found.hits] == sorted(h.start for h in found.hits)
    assert found.hits[0].start == 0
    assert found.hits[1].actor is None


def test_every_matching_watchlist_reported_once_in_config_order() -> None:
    matcher = Matcher.compile(
        [
            WatchlistConfig(name="b", terms=("Kabul",)),
            WatchlistConfig(name="a", terms=("Herat",)),
            WatchlistConfig(name="c", terms=("Kabul", "Herat")),
        ]
    )
    assert [m.watchlist for m in matcher.match("", "Kabul and Herat, Kabul again")] == [
        "b",
        "a",
        "c",
    ]
    assert matcher.match("", "nothing here") == []


def test_scope_by_feed_tags() -> None:
    matcher = Matcher.compile([_watchlist(terms=["Kabul"], tags=["af"])])
    assert matcher.match("", "Kabul", feed_tags=["af", "en"])
    assert not matcher.match("", "Kabul", feed_tags=["pk"])
    assert not matcher.match("", "Kabul")


def test_scope_by_language() -> None:
    matcher = Matcher.compile([_watchlist(terms=["Kabul"], languages=["en", "fa"])])
    assert matcher.match("", "Kabul", language="fa")
    assert not matcher.match("", "Kabul", language="ru")
    assert not matcher.match("", "Kabul", language="")


def test_unscoped_watchlist_matches_any_feed_and_language() -> None:
    matcher = Matcher.compile([_watchlist(terms=["Kabul"])])
    assert matcher.match("", "Kabul", feed_tags=["x"], language="ru")


def test_query_alone_matches_and_its_hits_count() -> None:
    config = _watchlist(query='"suicide attack" NEAR/5 Kabul')
    matcher = Matcher.compile([config])
    (found,) = matcher.match("", "A suicide attack hit a school in western Kabul on Friday.")
    assert {(m.term, m.count) for m in found.matches} == {("suicide attack", 1), ("Kabul", 1)}
    assert found.snippets
    assert not matcher.match("", "A suicide attack hit Herat. " + "Later, " * 10 + "Kabul.")


def test_query_or_terms_either_is_enough() -> None:
    config = _watchlist(terms=["ISKP"], query="Kabul AND attack")
    matcher = Matcher.compile([config])
    assert matcher.match("", "ISKP statement")
    assert matcher.match("", "attack in Kabul")
    assert not matcher.match("", "Kabul is calm")


def test_exclude_beats_query() -> None:
    config = _watchlist(query="Kabul", exclude=["video game"])
    assert not Matcher.compile([config]).match("", "Kabul, the video game")


def test_query_with_only_not_is_evaluated_on_articles_without_hits() -> None:
    matcher = Matcher.compile([_watchlist(query="NOT Kabul")])
    (found,) = matcher.match("", "Herat is calm")
    assert found.matches == ()
    assert not matcher.match("", "Kabul is calm")


def test_negated_query_terms_are_not_reported() -> None:
    config = _watchlist(query="Kabul AND NOT (Herat AND Mazar)")
    (found,) = Matcher.compile([config]).match("", "Kabul and Herat")
    assert [m.term for m in found.matches] == ["Kabul"]


def test_bad_query_is_a_config_error_naming_watchlist_and_column() -> None:
    with pytest.raises(ConfigError) as error:
        Matcher.compile([WatchlistConfig(name="isis-k", query="Kabul AND (attack OR")])
    assert (
        str(error.value)
        == "watchlist 'isis-k': query: query ends where a term was expected at column 21"
    )


def test_term_without_letters_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="watchlist 'w': term '--' has no letters or digits"):
        Matcher.compile([_watchlist(terms=["--"])])


def test_term_count_counts_terms_actor_names_and_aliases() -> None:
    config = _watchlist(terms=["a", "b"], actors=[ISIS_K_ACTOR], exclude=["c"], query="d")
    assert Matcher.compile([config]).term_count("w") == 2 + 1 + len(ISIS_K_ACTOR["aliases"])


def test_empty_matcher_matches_nothing() -> None:
    assert Matcher.compile([]).match("title", "body") == []
    assert Matcher.compile([_watchlist()]).match("title", "body") == []


def test_search_runs_an_ad_hoc_query() -> None:
    title, body = _seed()
    hits = search_text('"Kandahar to Kabul"', title, body)
    assert hits is not None
    assert [(title + "\n\n" + body)[h.start : h.end] for h in hits] == ["Kandahar to Kabul"]
    assert search_text("Muttaqi NEAR/2 countries", title, body)
    assert search_text("Muttaqi NEAR/0 Moscow", title, body) is None
    assert search_text("ISIS-K", "", "nothing") is None
    assert search_text("NOT Herat", "", "Kabul") == []


def test_title_and_body_offsets_index_the_combined_text() -> None:
    matcher = Matcher.compile([_watchlist(terms=["Kabul"])])
    (found,) = matcher.match("Blast in Kabul", "Officials in Kabul said.")
    text = "Blast in Kabul\n\nOfficials in Kabul said."
    assert [text[h.start : h.end] for h in found.hits] == ["Kabul", "Kabul"]
    assert found.hits[1].start == text.rindex("Kabul")


def test_offsets_survive_normalisation_that_changes_length() -> None:
    body = "ﬁrst… then   داعـــش خراسان — and ＩＳＩＳ‑K’s men"
    matcher = Matcher.compile([_watchlist(terms=["داعش خراسان", "ISIS-K"])])
    (found,) = matcher.match("", body)
    text = "\n\n" + body
    assert [text[h.start : h.end] for h in found.hits] == ["داعـــش خراسان", "ＩＳＩＳ‑K’s"]


def test_snippet_is_cut_on_words_with_ellipses() -> None:
    words = [f"w{i}" for i in range(100)]
    words[50] = "Kabul"
    (found,) = Matcher.compile([_watchlist(terms=["Kabul"])]).match("", " ".join(words))
    (snippet,) = found.snippets
    assert snippet == ELLIPSIS + " ".join(words[38:68]) + ELLIPSIS


def test_snippets_at_most_three_around_the_strongest_hits_in_text_order() -> None:
    filler = " ".join(f"w{i}" for i in range(40))
    body = f" {filler} ".join(["Kabul", "Herat", "Mazar", "Kandahar", "Kabul"])
    config = _watchlist(terms=["Kabul", "Herat", "Mazar", "Kandahar"])
    (found,) = Matcher.compile([config]).match("", body)
    named = [[t for t in ("Kabul", "Herat", "Mazar", "Kandahar") if t in s] for s in found.snippets]
    assert named == [["Kabul"], ["Herat"], ["Kandahar"]]
    assert found.snippets[0].startswith("Kabul w0")


def test_short_text_snippet_has_no_ellipsis() -> None:
    assert build_snippets("Kabul is calm", []) == ()
    (found,) = Matcher.compile([_watchlist(terms=["Kabul"])]).match("", "Kabul is calm")
    assert found.snippets == ("Kabul is calm",)


def test_highlight_spans_marks_terms_in_a_snippet() -> None:
    snippet = "…the expansion of ISIS-Khorasan. Muttaqi said ISIS-K’s men and isis-k…"
    spans = highlight_spans(snippet, ["ISIS-K", "ISIS-Khorasan"])
    assert [snippet[a:b] for a, b in spans] == ["ISIS-Khorasan", "ISIS-K’s", "isis-k"]


def test_highlight_spans_merges_overlaps_and_handles_other_scripts() -> None:
    snippet = "گروه داعـــش خراسان مسئولیت گرفت"
    spans = highlight_spans(snippet, ["داعش", "داعش خراسان"])
    assert [snippet[a:b] for a, b in spans] == ["داعـــش خراسان"]
    assert highlight_spans("nothing", ["Kabul"]) == []


def test_matcher_survives_pickling_for_a_process_pool() -> None:
    matcher = Matcher.compile([_watchlist(actors=[ISIS_K_ACTOR], query="Kabul NEAR/2 attack")])
    copy = pickle.loads(pickle.dumps(matcher))
    assert copy.match("", "ISKP attack in Kabul") == matcher.match("", "ISKP attack in Kabul")


def _global_window(text: str, start: int, end: int) -> str:
    """The snippet window as first written: every word of the text indexed, then 30 around."""
    words = [m.span() for m in re.finditer(r"\S+", text)]
    ends = [e for _, e in words]
    first = bisect.bisect_right(ends, start)
    last = min(bisect.bisect_left(ends, end), len(words) - 1)
    begin = max(0, first - 12)
    stop = min(len(words), max(last + 1, begin + 30))
    a, b = min(words[begin][0], start), max(words[stop - 1][1], end)
    if b - a > 600:
        a, b = max(a, start - 200), min(b, end + 200)
        shown = _shown(text[a:b])
        return (
            (ELLIPSIS if text[:a].strip() else "") + shown + (ELLIPSIS if text[b:].strip() else "")
        )
    shown = _shown(text[a:b])
    return (ELLIPSIS if begin > 0 else "") + shown + (ELLIPSIS if stop < len(words) else "")


def _shown(part: str) -> str:
    """A snippet's text: whitespace runs as one space, a blank line as " — "."""
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", part))
    return " — ".join(p for p in paragraphs if p)


@given(
    words=st.lists(
        st.text(alphabet="abcdefghij", min_size=1, max_size=60), min_size=1, max_size=400
    ),
    spaces=st.lists(st.sampled_from([" ", "  ", "\n", "\n\n", "\t "]), min_size=1),
    at=st.integers(min_value=0),
)
def test_snippet_window_looks_only_near_the_hit_and_cuts_as_the_whole_text_would(
    words: list[str], spaces: list[str], at: int
) -> None:
    text = "".join(w + spaces[i % len(spaces)] for i, w in enumerate(words))
    index = at % len(words)
    start = sum(len(w) + len(spaces[i % len(spaces)]) for i, w in enumerate(words[:index]))
    hit = Hit("t", None, "t", start, start + len(words[index]))
    assert build_snippets(text, [hit]) == (_global_window(text, hit.start, hit.end),)
