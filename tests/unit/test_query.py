"""The query language: parse trees, syntax errors with columns, hand-checked evaluations."""

from __future__ import annotations

import pytest

from monitor.errors import QuerySyntaxError
from monitor.pipeline.match import search_text
from monitor.pipeline.query import And, Near, Not, Or, Query, Term, evaluate, parse_query, terms


def _words(query: Query) -> object:
    """The tree with terms reduced to their text, for compact assertions."""
    match query:
        case Term(text):
            return text
        case And(left, right):
            return ("AND", _words(left), _words(right))
        case Or(left, right):
            return ("OR", _words(left), _words(right))
        case Not(operand):
            return ("NOT", _words(operand))
        case Near(left, right, distance):
            return (f"NEAR/{distance}", _words(left), _words(right))
    raise AssertionError(query)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("Kabul", "Kabul"),
        ("ISIS-K", "ISIS-K"),
        ('"suicide attack"', "suicide attack"),
        ("“suicide attack”", "suicide attack"),
        ("a AND b", ("AND", "a", "b")),
        ("a b", ("AND", "a", "b")),
        ("a OR b", ("OR", "a", "b")),
        ("a OR b AND c", ("OR", "a", ("AND", "b", "c"))),
        ("a AND b OR c", ("OR", ("AND", "a", "b"), "c")),
        ("a OR b OR c", ("OR", ("OR", "a", "b"), "c")),
        ("NOT a", ("NOT", "a")),
        ("NOT NOT a", ("NOT", ("NOT", "a"))),
        ("a NOT b", ("AND", "a", ("NOT", "b"))),
        ("a AND NOT b OR c", ("OR", ("AND", "a", ("NOT", "b")), "c")),
        ("a NEAR/3 b", ("NEAR/3", "a", "b")),
        ("a NEAR/3 b AND c", ("AND", ("NEAR/3", "a", "b"), "c")),
        ("a NEAR/3 b NEAR/1 c", ("NEAR/1", ("NEAR/3", "a", "b"), "c")),
        ("NOT a NEAR/2 b", ("NOT", ("NEAR/2", "a", "b"))),
        ("(a OR b) AND c", ("AND", ("OR", "a", "b"), "c")),
        (
            "((a OR b) AND (c OR (d AND e)))",
            ("AND", ("OR", "a", "b"), ("OR", "c", ("AND", "d", "e"))),
        ),
        ('(a OR "b c") NEAR/5 d', ("NEAR/5", ("OR", "a", "b c"), "d")),
        ("and or near", ("AND", ("AND", "and", "or"), "near")),
        ("a(b)", ("AND", "a", "b")),
        ("داعش AND خراسان", ("AND", "داعش", "خراسان")),
    ],
)
def test_parse(text: str, tree: object) -> None:
    assert _words(parse_query(text)) == tree


def test_terms_keep_their_column_and_kind() -> None:
    query = parse_query('Kabul AND "suicide attack"')
    assert list(terms(query)) == [Term("Kabul", 1), Term("suicide attack", 11, phrase=True)]


def test_terms_under_not_only_on_request() -> None:
    query = parse_query("a AND NOT (b OR c)")
    assert [t.text for t in terms(query)] == ["a"]
    assert [t.text for t in terms(query, negated=True)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "empty query", 1),
        ("   ", "empty query", 1),
        ("AND Kabul", "expected a term, found 'AND'", 1),
        ("Kabul AND", "query ends where a term was expected", 10),
        ("Kabul OR OR Herat", "expected a term, found 'OR'", 10),
        ("Kabul AND (attack OR", "query ends where a term was expected", 21),
        ("(Kabul AND attack", "'(' is never closed", 1),
        ("Kabul AND (attack OR (blast AND Herat)", "'(' is never closed", 11),
        ("Kabul)", "unmatched ')'", 6),
        ("Kabul ()", "empty parentheses", 7),
        ('Kabul "suicide attack', "unterminated phrase", 7),
        ('Kabul ""', "empty phrase", 7),
        ("Kabul NEAR Herat", "NEAR needs a distance in words, e.g. NEAR/5", 7),
        ("Kabul NEAR/x Herat", "NEAR needs a distance in words, e.g. NEAR/5", 7),
        ("Kabul NEAR/3 NOT Herat", "expected a term, found 'NOT'", 14),
        ("(NOT Kabul) NEAR/3 Herat", "NEAR cannot take a NOT operand", 13),
        ("Kabul NEAR/3 (NOT Herat)", "NEAR cannot take a NOT operand", 7),
        ("Kabul AND ---", "term '---' has no letters or digits", 11),
        ('Kabul OR "…"', "term '…' has no letters or digits", 10),
        ("NOT", "query ends where a term was expected", 4),
    ],
)
def test_syntax_errors_report_the_column(text: str, message: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as error:
        parse_query(text)
    assert error.value.column == column
    assert str(error.value) == f"{message} at column {column}"


TEXT = (
    "A suicide attack struck a mosque in western Kabul on Friday, officials said. "
    "The Taliban blamed ISIS-K. In Herat, police arrested three suspects."
)


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ("Kabul", True),
        ("kabul", True),
        ("Kandahar", False),
        ("Kabul AND Herat", True),
        ("Kabul AND Kandahar", False),
        ("Kabul OR Kandahar", True),
        ("Kandahar OR Mazar", False),
        ("Kabul NOT Herat", False),
        ("Kabul AND NOT Kandahar", True),
        ("NOT Kandahar", True),
        ("NOT Kabul", False),
        ("NOT (Kabul AND Kandahar)", True),
        ("NOT (Kabul OR Kandahar)", False),
        ("(Kabul OR Kandahar) AND (Herat OR Mazar)", True),
        ("(Kabul OR Kandahar) AND (Mazar OR Jalalabad)", False),
        ("((Kabul AND Taliban) OR Mazar) AND NOT (Kandahar OR (Herat AND Mazar))", True),
        ("((Kabul AND Taliban) OR Mazar) AND NOT (Kandahar OR (Herat AND police))", False),
        ('"suicide attack"', True),
        ('"attack suicide"', False),
        ('"suicide attack struck"', True),
        ('"western Kabul"', True),
        ('"Kabul western"', False),
        ("ISIS-K", True),
        ('"ISIS K"', True),
        ("ISIS", True),
        ("isis", True),
        ("IS", False),
        ("Talibans", False),
        ("suicide attack", True),
        ("officials AND said", True),
        ('"officials said the"', False),
    ],
)
def test_boolean_queries(query: str, matches: bool) -> None:
    assert (search_text(query, "", TEXT) is not None) is matches


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        # "suicide attack struck a mosque in western Kabul": 5 words between attack and Kabul
        ('"suicide attack" NEAR/5 Kabul', True),
        ('"suicide attack" NEAR/4 Kabul', False),
        ('Kabul NEAR/5 "suicide attack"', True),
        ("Kabul NEAR/4 attack", False),
        ("mosque NEAR/0 a", True),
        ("a NEAR/0 mosque", True),
        ("struck NEAR/0 mosque", False),
        ("struck NEAR/1 mosque", True),
        ("attack NEAR/0 attack", True),
        ('"suicide attack" NEAR/0 attack', True),
        # "officials said. The Taliban": punctuation is not a word
        ("said NEAR/1 Taliban", True),
        ("said NEAR/0 Taliban", False),
        ("(mosque OR Herat) NEAR/0 police", True),
        ("(mosque OR Kabul) NEAR/0 police", False),
        ("(Kabul AND Herat) NEAR/0 police", True),
        ("Kabul NEAR/3 (Friday OR Saturday)", True),
        ("Kabul NEAR/3 (Saturday OR Sunday)", False),
        ("attack NEAR/3 mosque NEAR/3 Kabul", True),
        ("attack NEAR/3 mosque NEAR/1 Kabul", False),
        ("ISIS-K NEAR/2 Taliban", True),
        ("Kabul NEAR/100 Kandahar", False),
        ("Kabul NEAR/5 attack AND NOT Herat", False),
        ("Kabul NEAR/5 attack AND NOT Kandahar", True),
    ],
)
def test_near_queries(query: str, matches: bool) -> None:
    assert (search_text(query, "", TEXT) is not None) is matches


def test_near_counts_words_in_other_scripts() -> None:
    text = "گروه داعش خراسان مسئولیت این حمله را بر عهده گرفت"
    search = search_text
    assert search('"داعش خراسان" NEAR/2 حمله', "", text) is not None
    assert search('"داعش خراسان" NEAR/1 حمله', "", text) is None
    assert search("خراسان NEAR/2 حمله", "", "خراسان، ولایت و حمله") is not None


def test_near_does_not_count_a_possessive_as_a_word() -> None:
    search = search_text
    assert search("Taliban NEAR/0 spokesman", "", "the Taliban’s spokesman said") is not None


def test_near_returns_only_the_hits_that_are_near() -> None:
    text = "Kabul. " + "x " * 20 + "attack in Kabul"
    hits = search_text("attack NEAR/1 Kabul", "", text)
    assert hits is not None
    assert sorted(h.start for h in hits) == [2 + text.index("attack"), 2 + text.rindex("Kabul")]


def test_evaluate_reports_supporting_spans() -> None:
    spans = {"a": [(0, 0), (9, 9)], "b": [(3, 4)], "c": []}
    query = parse_query("(a NEAR/2 b) OR c")
    holds, support = evaluate(query, lambda term: spans[term.text])
    assert holds
    assert support == {(0, 0), (3, 4)}
    assert evaluate(parse_query("a AND c"), lambda term: spans[term.text]) == (False, set())
    assert evaluate(parse_query("NOT c"), lambda term: spans[term.text]) == (True, set())


def test_query_terms_follow_the_case_rule() -> None:
    search = search_text
    assert search("ISKP", "", "Iskp") is None
    assert search("ISKP", "", "ISKP’s men") is not None
    assert search("Iskp", "", "ISKP") is not None


def test_search_rejects_a_bad_query() -> None:
    with pytest.raises(QuerySyntaxError):
        search_text("Kabul AND", "", "Kabul")
