"""The watchlist query language: parse once into an AST, evaluate over term hits.

    query   := or
    or      := and ("OR" and)*
    and     := not (["AND"] not)*          adjacent operands are joined by AND
    not     := "NOT" not | near
    near    := operand ("NEAR/n" operand)*
    operand := WORD | "a phrase" | "(" or ")"

Operators are upper-case words; `and`, `or`, `near` in lower case are ordinary terms. A word
or phrase is a term matched like a watchlist term (same normalisation, word boundaries and
case rule). ``A NEAR/n B`` holds when a hit of A and a hit of B have at most n words strictly
between them, in either order. A syntax error raises `QuerySyntaxError` with the 1-based column.

Bounds, so a hostile or runaway query gives one line instead of a RecursionError: at most
`MAX_QUERY_CHARS` characters, `MAX_TERMS` terms and `MAX_DEPTH` levels of nesting (groups,
NOTs and NEARs in a row each add one). Runs of AND or OR build balanced trees (both are
associative), so a thousand ORed terms nest about ten levels deep, not a thousand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from monitor.errors import QuerySyntaxError
from monitor.pipeline.normalize import term_form

Span = tuple[int, int]  # a hit's first and last word index (inclusive)
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|(?P<quote>["“„«])|(?P<word>[^\s()"“„«]+))')
_NEAR = re.compile(r"NEAR(?:/(\d+))?$")
MAX_QUERY_CHARS = 20_000
MAX_TERMS = 1_000
MAX_DEPTH = 50


@dataclass(frozen=True, slots=True)
class Term:
    """A word or "phrase" of a query."""

    text: str
    column: int
    phrase: bool = False


@dataclass(frozen=True, slots=True)
class And:
    left: Query
    right: Query


@dataclass(frozen=True, slots=True)
class Or:
    left: Query
    right: Query


@dataclass(frozen=True, slots=True)
class Not:
    operand: Query


@dataclass(frozen=True, slots=True)
class Near:
    left: Query
    right: Query
    distance: int  # words strictly between the two hits, at most


Query = Term | And | Or | Not | Near


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "term", "phrase", "AND", "OR", "NOT", "NEAR", "end"
    text: str
    column: int
    distance: int = 0


def parse_query(text: str) -> Query:
    """Parse a query; raise QuerySyntaxError(message, column) when it is not well formed."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"query too long: at most {MAX_QUERY_CHARS} characters", 1)
    tokens = list(_tokens(text))
    _check_term_count(tokens)
    parser = _Parser(tokens, len(text) + 1)
    if parser.peek().kind == "end":
        raise QuerySyntaxError("empty query", 1)
    query = parser.parse_or()
    token = parser.peek()
    if token.kind == ")":
        raise QuerySyntaxError("unmatched ')'", token.column)
    return query


def terms(query: Query, *, negated: bool = False) -> Iterator[Term]:
    """The terms of a query, in order; those under a NOT only with negated=True."""
    match query:
        case Term():
            yield query
        case Not(operand):
            if negated:
                yield from terms(operand, negated=negated)
        case And(left, right) | Or(left, right) | Near(left, right, _):
            yield from terms(left, negated=negated)
            yield from terms(right, negated=negated)


def evaluate(query: Query, hits: Callable[[Term], Sequence[Span]]) -> tuple[bool, set[Span]]:
    """Whether the query holds, and the word spans of the hits that make it hold."""
    match query:
        case Term():
            spans = set(hits(query))
            return bool(spans), spans
        case Not(operand):
            return not evaluate(operand, hits)[0], set()
        case And(left, right):
            (ok_left, left_spans), (ok_right, right_spans) = (
                evaluate(left, hits),
                evaluate(right, hits),
            )
            return (True, left_spans | right_spans) if ok_left and ok_right else (False, set())
        case Or(left, right):
            (ok_left, left_spans), (ok_right, right_spans) = (
                evaluate(left, hits),
                evaluate(right, hits),
            )
            spans = (left_spans if ok_left else set()) | (right_spans if ok_right else set())
            return ok_left or ok_right, spans
        case Near(left, right, distance):
            near = _near_spans(evaluate(left, hits)[1], evaluate(right, hits)[1], distance)
            return bool(near), near
    raise AssertionError(query)  # pragma: no cover - the match above is exhaustive


def _near_spans(left: set[Span], right: set[Span], distance: int) -> set[Span]:
    found: set[Span] = set()
    for a in left:
        for b in right:
            if b[0] - a[1] - 1 <= distance and a[0] - b[1] - 1 <= distance:
                found.update((a, b))
    return found


def _tokens(text: str) -> Iterator[_Token]:
    position = 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None:
            yield _Token("end", "", len(text) + 1)
            return
        start = match.end() - len(match.group(match.lastgroup or 0))
        column = start + 1
        if match.group("paren"):
            position = match.end()
            yield _Token(match.group("paren"), match.group("paren"), column)
        elif match.group("quote"):
            position, token = _phrase(text, start)
            yield token
        else:
            position = match.end()
            yield _word(match.group("word"), column)


def _phrase(text: str, start: int) -> tuple[int, _Token]:
    close = text.find(_QUOTES[text[start]], start + 1)
    if close < 0:
        raise QuerySyntaxError("unterminated phrase", start + 1)
    body = text[start + 1 : close]
    if not body.strip():
        raise QuerySyntaxError("empty phrase", start + 1)
    _check_term(body, start + 1)
    return close + 1, _Token("phrase", body, start + 1)


def _word(word: str, column: int) -> _Token:
    if word in ("AND", "OR", "NOT"):
        return _Token(word, word, column)
    if word.startswith("NEAR"):
        near = _NEAR.match(word)
        if near is None or near.group(1) is None:
            raise QuerySyntaxError("NEAR needs a distance in words, e.g. NEAR/5", column)
        return _Token("NEAR", word, column, int(near.group(1)))
    _check_term(word, column)
    return _Token("term", word, column)


def _check_term_count(tokens: Sequence[_Token]) -> None:
    words = [t for t in tokens if t.kind in ("term", "phrase")]
    if len(words) > MAX_TERMS:
        raise QuerySyntaxError(
            f"query too long: at most {MAX_TERMS} terms", words[MAX_TERMS].column
        )


def _balanced(kind: type[And] | type[Or], operands: Sequence[Query]) -> Query:
    """`a op b op c …` as a balanced tree, keeping the operands' order (left-deep up to 3)."""
    if len(operands) == 1:
        return operands[0]
    middle = 1 << ((len(operands) - 1).bit_length() - 1)
    return kind(_balanced(kind, operands[:middle]), _balanced(kind, operands[middle:]))


def _check_term(text: str, column: int) -> None:
    if not term_form(text).key:
        raise QuerySyntaxError(f"term {text!r} has no letters or digits", column)


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, tokens: list[_Token], end_column: int) -> None:
        self._tokens = tokens
        self._index = 0
        self._end_column = end_column
        self._depth = 0

    def peek(self) -> _Token:
        return self._tokens[self._index]

    def _next(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _deeper(self, token: _Token, what: str) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise QuerySyntaxError(f"query too deep: at most {MAX_DEPTH} {what}", token.column)

    def parse_or(self) -> Query:
        operands = [self._parse_and()]
        while self.peek().kind == "OR":
            self._next()
            operands.append(self._parse_and())
        return _balanced(Or, operands)

    def _parse_and(self) -> Query:
        operands = [self._parse_not()]
        while self.peek().kind in ("AND", "NOT", "term", "phrase", "("):
            if self.peek().kind == "AND":
                self._next()
            operands.append(self._parse_not())
        return _balanced(And, operands)

    def _parse_not(self) -> Query:
        if self.peek().kind != "NOT":
            return self._parse_near()
        token = self._next()
        self._deeper(token, "nested NOTs and groups")
        operand = self._parse_not()
        self._depth -= 1
        return Not(operand)

    def _parse_near(self) -> Query:
        depth = self._depth
        query = self._parse_operand()
        while self.peek().kind == "NEAR":
            near = self._next()
            self._deeper(near, "NEARs in a row and nested groups")
            if isinstance(query, Not):
                raise QuerySyntaxError("NEAR cannot take a NOT operand", near.column)
            right = self._parse_operand()
            if isinstance(right, Not):
                raise QuerySyntaxError("NEAR cannot take a NOT operand", near.column)
            query = Near(query, right, near.distance)
        self._depth = depth
        return query

    def _parse_operand(self) -> Query:
        token = self._next()
        if token.kind in ("term", "phrase"):
            return Term(token.text, token.column, phrase=token.kind == "phrase")
        if token.kind == "(":
            return self._parse_group(token)
        if token.kind == "end":
            raise QuerySyntaxError("query ends where a term was expected", token.column)
        raise QuerySyntaxError(f"expected a term, found {token.text!r}", token.column)

    def _parse_group(self, opening: _Token) -> Query:
        if self.peek().kind == ")":
            raise QuerySyntaxError("empty parentheses", opening.column)
        self._deeper(opening, "nested groups")
        query = self.parse_or()
        self._depth -= 1
        if self._next().kind != ")":
            raise QuerySyntaxError("'(' is never closed", opening.column)
        return query
