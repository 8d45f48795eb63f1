"""Match articles against every watchlist at once (DESIGN §3 watchlists, §6).

All terms, actor names and aliases, excludes and query terms of all watchlists compile into one
Aho-Corasick automaton over their matching keys (see `normalize`), each key padded with a space
on both sides and listed with its plural and possessive forms, so the automaton itself only
reports word-bounded occurrences; overlapping occurrences are all kept. An article is
normalised once, its word view scanned once; then each watchlist that owns a hit (or whose
query can hold without hits) is decided: out of scope, excluded, or matched by a term, an
alias or its query. Every hit carries offsets into the original `title + "\\n\\n" + body`.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import ahocorasick

from monitor.config import TermConfig, WatchlistConfig
from monitor.errors import ConfigError, QuerySyntaxError
from monitor.models import Hit, TermCount, WatchlistMatch
from monitor.pipeline.normalize import (
    Normalized,
    is_acronym,
    key_variants,
    normalize,
    term_form,
    word_view,
)
from monitor.pipeline.query import Query, Span, Term, evaluate, parse_query, terms
from monitor.pipeline.snippets import SnippetText

Role = Literal["term", "exclude", "query"]
_WORD = re.compile(r"\S+")
SEARCH_NAME = "search"


@dataclass(frozen=True, slots=True)
class _Listed:
    """One term as a watchlist lists it."""

    watchlist: int
    role: Role
    text: str
    actor: str | None
    key: int  # index of its key in the automaton
    key_text: str
    cased: str | None  # the case-preserving key when the term is case-sensitive


@dataclass(frozen=True, slots=True)
class _Watchlist:
    config: WatchlistConfig
    listed: tuple[_Listed, ...]
    query: Query | None
    query_terms: dict[Term, _Listed] = field(default_factory=dict)
    always: bool = False  # the query holds with no hits at all (e.g. `NOT x`)


class _Scan:
    """One article, normalised and scanned: key occurrences, and hits made from them on demand."""

    def __init__(self, text: str, automaton: ahocorasick.Automaton | None) -> None:
        self.text = SnippetText(text)
        self.norm: Normalized = normalize(text)
        self.view = word_view(self.norm.text)
        self.occurrences: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self._word_starts: list[int] | None = None
        self._original: dict[tuple[int, int], tuple[int, int]] = {}
        if automaton is not None:
            for end, (length, keys) in automaton.iter(" " + self.view + " "):
                for key in keys:
                    self.occurrences[key].append((end - length + 1, end - 1))

    def spans(self, listed: _Listed) -> list[tuple[int, int]]:
        """Occurrences of the term's key, checked against its case when it is case-sensitive."""
        found = self.occurrences.get(listed.key, [])
        if listed.cased is None or not found:
            return found
        return [span for span in found if self._same_case(span[0], listed.cased)]

    def hit(self, listed: _Listed, span: tuple[int, int]) -> Hit:
        original = self._original.get(span)
        if original is None:
            original = self._original[span] = self.norm.original_span(*span)
        return Hit(listed.text, listed.actor, listed.key_text, *original)

    def words(self, span: tuple[int, int]) -> Span:
        """The first and last word index of a span of the view (for NEAR)."""
        if self._word_starts is None:
            self._word_starts = [m.start() for m in _WORD.finditer(self.view)]
        first = bisect.bisect_right(self._word_starts, span[0]) - 1
        return first, bisect.bisect_right(self._word_starts, span[1] - 1) - 1

    def _same_case(self, start: int, cased: str) -> bool:
        found = self.norm.cased[start : start + len(cased)]
        return all(a == b for a, b in zip(found, cased, strict=True) if b != " ")


class Matcher:
    """All watchlists compiled into one automaton; `match` decides every watchlist for an article."""

    def __init__(
        self,
        watchlists: tuple[_Watchlist, ...],
        owners: list[list[_Listed]],
        automaton: ahocorasick.Automaton | None,
    ) -> None:
        self._watchlists = watchlists
        self._owners = owners
        self._automaton = automaton
        self._by_name = {w.config.name: w for w in watchlists}
        self._always = tuple(i for i, w in enumerate(watchlists) if w.always)

    @classmethod
    def compile(cls, watchlists: Sequence[WatchlistConfig]) -> Matcher:
        """Compile watchlists; a bad query or term raises ConfigError naming the watchlist."""
        builder = _Builder()
        compiled = []
        for index, config in enumerate(watchlists):
            try:
                compiled.append(builder.watchlist(index, config))
            except QuerySyntaxError as e:
                raise ConfigError(f"watchlist {config.name!r}: query: {e}") from e
            except ValueError as e:
                raise ConfigError(f"watchlist {config.name!r}: {e}") from e
        return cls(tuple(compiled), builder.owners, builder.automaton())

    @property
    def names(self) -> tuple[str, ...]:
        """The watchlist names, in config order."""
        return tuple(w.config.name for w in self._watchlists)

    def term_count(self, name: str) -> int:
        """How many terms, actor names and aliases the watchlist lists (excludes not counted)."""
        listed = self._by_name[name].listed
        return len({(item.text, item.actor) for item in listed if item.role == "term"})

    def match(
        self, title: str, body: str, *, feed_tags: Sequence[str] = (), language: str = ""
    ) -> list[WatchlistMatch]:
        """Every watchlist the article matches, in config order, each with its hits and snippets."""
        scan = _Scan(title + "\n\n" + body, self._automaton)
        found: dict[int, list[_Listed]] = defaultdict(list)
        for key in scan.occurrences:
            for listed in self._owners[key]:
                found[listed.watchlist].append(listed)
        results = []
        for index in sorted(found.keys() | set(self._always)):
            watchlist = self._watchlists[index]
            if _in_scope(watchlist.config, feed_tags, language):
                result = _decide(watchlist, found.get(index, []), scan)
                if result is not None:
                    results.append(result)
        return results

    def search(self, query: str, title: str, body: str) -> list[Hit] | None:
        """Run an ad-hoc query over one text: its hits if it matches, else None.

        Raises QuerySyntaxError for a query that does not parse.
        """
        found = _search_matcher(query).match(title, body)
        return list(found[0].hits) if found else None


@lru_cache(maxsize=64)
def _search_matcher(query: str) -> Matcher:
    builder = _Builder()
    watchlist = builder.watchlist(0, WatchlistConfig(name=SEARCH_NAME, query=query))
    return Matcher((watchlist,), builder.owners, builder.automaton())


class _Builder:
    """Collects the keys of all watchlists and who owns each key."""

    def __init__(self) -> None:
        self._keys: dict[str, int] = {}
        self.owners: list[list[_Listed]] = []

    def watchlist(self, index: int, config: WatchlistConfig) -> _Watchlist:
        listed = [self._listed(index, "term", term, None) for term in config.terms]
        for actor in config.actors:
            for term in (TermConfig(text=actor.name), *actor.aliases):
                listed.append(self._listed(index, "term", term, actor.name))
        listed += [self._listed(index, "exclude", term, None) for term in config.exclude]
        if not config.query.strip():
            return _Watchlist(config, tuple(listed), None)
        query = parse_query(config.query)
        query_terms = {
            term: self._listed(index, "query", TermConfig(text=term.text), None)
            for term in terms(query, negated=True)
        }
        listed += query_terms.values()
        always = evaluate(query, lambda term: ())[0]
        return _Watchlist(config, tuple(listed), query, query_terms, always)

    def automaton(self) -> ahocorasick.Automaton | None:
        if not self._keys:
            return None
        variants: dict[str, list[int]] = defaultdict(list)
        for key, number in self._keys.items():
            for variant in key_variants(key):
                variants[variant].append(number)
        automaton = ahocorasick.Automaton()
        for variant, numbers in variants.items():
            automaton.add_word(" " + variant + " ", (len(variant) + 2, tuple(numbers)))
        automaton.make_automaton()
        return automaton

    def _listed(self, index: int, role: Role, term: TermConfig, actor: str | None) -> _Listed:
        form = term_form(term.text)
        if not form.key:
            raise ValueError(f"term {term.text!r} has no letters or digits")
        case_sensitive = is_acronym(term.text) if term.match_case is None else term.match_case
        number = self._keys.setdefault(form.key, len(self._keys))
        if number == len(self.owners):
            self.owners.append([])
        listed = _Listed(
            index, role, term.text, actor, number, form.key, form.cased if case_sensitive else None
        )
        self.owners[number].append(listed)
        return listed


def _in_scope(config: WatchlistConfig, feed_tags: Sequence[str], language: str) -> bool:
    if config.tags and not set(config.tags).intersection(feed_tags):
        return False
    return not config.languages or language in config.languages


def _decide(watchlist: _Watchlist, found: list[_Listed], scan: _Scan) -> WatchlistMatch | None:
    """The watchlist's verdict on one article, given which of its terms' keys occur in it."""
    hits: list[Hit] = []
    for listed in found:
        if listed.role == "exclude" and scan.spans(listed):
            return None
        if listed.role == "term":
            hits += (scan.hit(listed, span) for span in scan.spans(listed))
    matched = bool(hits)
    if watchlist.query is not None:
        holds, query_hits = _run_query(watchlist, scan)
        matched = matched or holds
        hits += query_hits if holds else []
    return _result(watchlist.config, scan.text, hits) if matched else None


def _run_query(watchlist: _Watchlist, scan: _Scan) -> tuple[bool, list[Hit]]:
    """Whether the watchlist's query holds, and the hits that make it hold."""
    by_words: dict[Span, list[tuple[_Listed, tuple[int, int]]]] = defaultdict(list)

    def lookup(term: Term) -> list[Span]:
        listed = watchlist.query_terms[term]
        found = []
        for span in scan.spans(listed):
            words = scan.words(span)
            by_words[words].append((listed, span))
            found.append(words)
        return found

    assert watchlist.query is not None
    holds, support = evaluate(watchlist.query, lookup)
    return holds, [scan.hit(*item) for words in support for item in by_words[words]]


def _result(config: WatchlistConfig, text: SnippetText, hits: list[Hit]) -> WatchlistMatch:
    unique = sorted(set(hits), key=lambda h: (h.start, h.end, h.term))
    counts = Counter((hit.term, hit.actor) for hit in unique)
    matches = tuple(
        TermCount(term, actor, count)
        for (term, actor), count in sorted(counts.items(), key=lambda item: -item[1])
    )
    return WatchlistMatch(
        watchlist=config.name,
        severity=config.severity,
        channels=config.channels,
        matches=matches,
        snippets=text.snippets(unique),
        hits=tuple(unique),
    )
