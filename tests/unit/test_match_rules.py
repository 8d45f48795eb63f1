"""The matching rules, each against its table of cases, and what each hit says about them."""

from __future__ import annotations

from collections import Counter

import pytest

from monitor.config import TermConfig, WatchlistConfig
from monitor.pipeline.match import Matcher
from tests.support.match_cases import ISIS_K_ACTOR
from tests.support.match_rule_cases import RULE_CASES, RuleCase


def _match(terms: tuple[object, ...], text: str) -> list[object]:
    config = WatchlistConfig.model_validate({"name": "w", "terms": list(terms)})
    return list(Matcher.compile([config]).match("", text))


def test_every_rule_has_fifteen_cases_with_positives_and_negatives() -> None:
    assert len({(case.rule, case.id) for case in RULE_CASES}) == len(RULE_CASES)
    for rule in {case.rule for case in RULE_CASES}:
        cases = [case for case in RULE_CASES if case.rule == rule]
        polarity = Counter(bool(case.hits) for case in cases)
        assert len(cases) >= 15, rule
        assert polarity[True] >= 5, rule
        assert polarity[False] >= 5, rule
        assert any("switch" in case.id for case in cases), rule


@pytest.mark.parametrize("case", RULE_CASES, ids=[f"{c.rule[0]}-{c.id}" for c in RULE_CASES])
def test_rule_case(case: RuleCase) -> None:
    found = Matcher.compile(
        [WatchlistConfig.model_validate({"name": "w", "terms": list(case.terms)})]
    ).match("", case.text)
    if not case.hits:
        assert found == [], f"{case.id}: expected no match, got {found}"
        return
    (result,) = found
    assert {m.term for m in result.matches} == set(case.hits)
    text = "\n\n" + case.text
    for hit in result.hits:
        assert set(case.rules) <= set(hit.rules), (hit.rules, case.rules)
        if not case.rules:
            assert hit.rules == (), hit
        # the offsets hold the whole spelling the rules matched, in the original text
        alone = text[hit.start : hit.end]
        (again,) = Matcher.compile(
            [WatchlistConfig.model_validate({"name": "w", "terms": list(case.terms)})]
        ).match("", alone)
        assert (hit.term, 2, 2 + len(alone)) in {(h.term, h.start, h.end) for h in again.hits}


def test_isis_k_actor_and_its_look_alikes() -> None:
    matcher = Matcher.compile(
        [WatchlistConfig.model_validate({"name": "w", "actors": [ISIS_K_ACTOR]})]
    )

    def spellings(text: str) -> set[tuple[str, str, tuple[str, ...]]]:
        whole = "\n\n" + text
        return {
            (h.term, whole[h.start : h.end], h.rules)
            for m in matcher.match("", text)
            for h in m.hits
        }

    assert spellings("Isis K. Thompson, a nurse from Ohio, said") == set()
    assert spellings("the IS KP statement") == {
        ("IS-KP", "IS KP", ("spaced",)),
        ("IS-K", "IS K", ("spaced",)),  # a shorter name of the actor inside a longer one
    }
    assert spellings("trending #ISISK") == {("ISIS-K", "ISISK", ("joined",))}
    assert spellings("claimed by Isis-K") == {("ISIS-K", "Isis-K", ())}
    # ISKP is listed, so the joined IS-KP defers to it
    assert spellings("ISKP claimed it") == {("ISKP", "ISKP", ())}


def test_exact_case_is_the_case_switch() -> None:
    term = TermConfig.model_validate({"text": "Taliban", "exact_case": True})
    assert term.match_case is True
    assert _match(({"text": "Taliban", "exact_case": True},), "TALIBAN SAID") == []
    assert _match(({"text": "Taliban", "exact_case": True},), "the Taliban said")
    with pytest.raises(ValueError, match="not both"):
        TermConfig.model_validate({"text": "x", "exact_case": True, "match_case": True})


def test_switches_combine() -> None:
    term = {"text": "Исламское государство", "inflect": False, "exact_case": True}
    assert _match((term,), "Исламское государство заявило")
    assert _match((term,), "Исламского государства") == []
    assert _match((term,), "ИСЛАМСКОЕ ГОСУДАРСТВО") == []


def test_a_hit_can_need_several_rules() -> None:
    (found,) = _match(("القاعدة في جزيرة العرب",), "#والقاعدة_في_جزيرة_العرب")
    assert set(found.hits[0].rules) == {"clitic", "hashtag"}
    (found,) = _match(("al-Qāʿida",), "#AlQaida")
    assert set(found.hits[0].rules) == {"joined", "diacritics"}
