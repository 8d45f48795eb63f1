"""Match articles against every watchlist at once.

All terms, actor names and aliases, excludes and query terms of all watchlists compile into one
Aho-Corasick automaton over their matching keys (see `normalize`), each key padded with a space
on both sides and listed with its plural and possessive forms, so the automaton itself only
reports word-bounded occurrences; overlapping occurrences are all kept. An article is
normalised once, its word view scanned once; then each watchlist that owns a hit (or whose
query can hold without hits) is decided: out of scope, excluded, or matched by a term, an
alias or its query. Every hit carries offsets into the original `title + "\\n\\n" + body`.

One exception to the right word boundary: a name of an actor that starts one of the words of
a longer name of the *same actor* in the same watchlist counts where that longer name hits,
even though it ends inside a word there (`ISIS-K` inside `ISIS-Khorasan`, `IS-K` inside
`IS-KP`), because it is a mention of that actor. Each name keeps its own case rule and the
longer name's hit must pass its own. Plain terms never count inside other terms (`Kabul` is
not a mention inside `Kabulistan`), nor a term of one watchlist inside another watchlist's or
inside an exclude, so a term never matches inside a longer word on its own: `Khorasan` alone
never matches `ISIS-Khorasan`, nor `ISIS` `crisis` or `ISKCON`. These containments are found
once, when the automaton is built, and ride on the longer name's automaton entry.
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
# A shorter name inside a key variant of a longer one: (its key number, offset, length,
# the longer name's key number).
_Inside = tuple[int, int, int, int]
_Span = tuple[int, int]


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
    names: dict[int, tuple[_Listed, ...]] = field(default_factory=dict)  # actor names by key


class _Scan:
    """One article, normalised and scanned: key occurrences, and hits made from them on demand."""

    def __init__(self, text: str, automaton: ahocorasick.Automaton | None) -> None:
        self.text = SnippetText(text)
        self.norm: Normalized = normalize(text)
        self.view = word_view(self.norm.text)
        self.occurrences: dict[int, list[_Span]] = defaultdict(list)
        # inner key -> (its span, the longer name's key, the longer name's span)
        self.inside: dict[int, list[tuple[_Span, int, _Span]]] = defaultdict(list)
        self._word_starts: list[int] | None = None
        self._original: dict[_Span, _Span] = {}
        if automaton is not None:
            for end, (length, keys, inner) in automaton.iter(" " + self.view + " "):
                span = (end - length + 1, end - 1)
                for key in keys:
                    self.occurrences[key].append(span)
                for key, offset, size, outer in inner:
                    at = span[0] + offset
                    self.inside[key].append(((at, at + size), outer, span))

    def found_keys(self) -> set[int]:
        """Every key found, on its own or inside a longer name."""
        return self.occurrences.keys() | self.inside.keys()

    def spans(self, listed: _Listed) -> list[_Span]:
        """Occurrences of the term's key, checked against its case when it is case-sensitive."""
        found = self.occurrences.get(listed.key, [])
        if listed.cased is None or not found:
            return found
        return [span for span in found if self._same_case(span[0], listed.cased)]

    def spans_inside(self, listed: _Listed, names: dict[int, tuple[_Listed, ...]]) -> list[_Span]:
        """Occurrences of an actor's name inside a hit of a longer name of the same actor."""
        found = []
        for span, outer_key, outer_span in self.inside.get(listed.key, ()):
            if self._accepts(listed, span) and any(
                outer.actor == listed.actor and self._accepts(outer, outer_span)
                for outer in names.get(outer_key, ())
            ):
                found.append(span)
        return found

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

    def _accepts(self, listed: _Listed, span: _Span) -> bool:
        return listed.cased is None or self._same_case(span[0], listed.cased)

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
        for key in scan.found_keys():
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


def search_text(query: str, title: str, body: str) -> list[Hit] | None:
    """Run an ad-hoc query over one text: its hits if it matches, else None.

    Raises QuerySyntaxError for a query that does not parse.
    """
    found = _search_matcher(query).match(title, body)
    return list(found[0].hits) if found else None


def matching_body(text: str, feed_text: str) -> str:
    """The body an article is matched on: its text, then the feed's own text (summary or
    content) unless the text already holds it, so a page that extracted badly or not at all
    never hides what the feed said. Hit offsets past the text point into the feed's text."""
    feed_words = " ".join(feed_text.split())
    if not feed_words or feed_words in " ".join(text.split()):
        return text
    return f"{text}\n\n{feed_text}"


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
        self._actors: dict[tuple[int, str], set[int]] = defaultdict(set)  # names' key numbers

    def watchlist(self, index: int, config: WatchlistConfig) -> _Watchlist:
        listed = [self._listed(index, "term", term, None) for term in config.terms]
        for actor in config.actors:
            for term in (TermConfig(text=actor.name), *actor.aliases):
                listed.append(self._listed(index, "term", term, actor.name))
        names = _names_by_key(listed)
        listed += [self._listed(index, "exclude", term, None) for term in config.exclude]
        if not config.query.strip():
            return _Watchlist(config, tuple(listed), None, names=names)
        query = parse_query(config.query)
        query_terms = {
            term: self._listed(index, "query", TermConfig(text=term.text), None)
            for term in terms(query, negated=True)
        }
        listed += query_terms.values()
        always = evaluate(query, lambda term: ())[0]
        return _Watchlist(config, tuple(listed), query, query_terms, always, names)

    def automaton(self) -> ahocorasick.Automaton | None:
        if not self._keys:
            return None
        variants: dict[str, list[int]] = defaultdict(list)
        for key, number in self._keys.items():
            for variant in key_variants(key):
                variants[variant].append(number)
        inside = self._inside()
        automaton = ahocorasick.Automaton()
        for variant, numbers in variants.items():
            inner = tuple(sorted(inside.get(variant, ())))
            automaton.add_word(" " + variant + " ", (len(variant) + 2, tuple(numbers), inner))
        automaton.make_automaton()
        return automaton

    def _inside(self) -> dict[str, set[_Inside]]:
        """For each key variant of an actor's name, the shorter names of that actor it holds
        that start one of its words but end inside one (`isis k` in `isis khorasan's`)."""
        found: dict[str, set[_Inside]] = defaultdict(set)
        keys = {number: key for key, number in self._keys.items()}
        for numbers in self._actors.values():
            for outer in numbers:
                for inner in numbers - {outer}:
                    for variant in key_variants(keys[outer]):
                        found[variant].update(_inner_names(variant, keys[inner], inner, outer))
        return found

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
        if actor is not None and role == "term":
            self._actors[(index, actor)].add(number)
        return listed


def _names_by_key(listed: Sequence[_Listed]) -> dict[int, tuple[_Listed, ...]]:
    """The actor names and aliases among a watchlist's terms, by key number."""
    names: dict[int, list[_Listed]] = defaultdict(list)
    for item in listed:
        if item.actor is not None and item.role == "term":
            names[item.key].append(item)
    return {key: tuple(items) for key, items in names.items()}


def _inner_names(outer: str, inner_key: str, number: int, outer_number: int) -> set[_Inside]:
    """Where `inner_key` starts a word of `outer` and ends inside a word of it.

    Where the key or its plural or possessive ends on a word boundary of `outer`, the
    automaton finds it anyway, as an ordinary word-bounded hit, so it is left out here.
    (A plural or possessive ending inside a word has the bare key inside it too, so the
    bare key alone stands for the mention.)
    """
    found: set[_Inside] = set()
    variants = key_variants(inner_key)
    at = outer.find(inner_key)
    while at >= 0:
        stop = at + len(inner_key)
        inside = (at == 0 or outer[at - 1] == " ") and stop < len(outer) and outer[stop] != " "
        if inside and not any(_bounded(outer, at, variant) for variant in variants):
            found.add((number, at, len(inner_key), outer_number))
        at = outer.find(inner_key, at + 1)
    return found


def _bounded(text: str, at: int, word: str) -> bool:
    stop = at + len(word)
    return text.startswith(word, at) and (stop == len(text) or text[stop] == " ")


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
            if listed.actor is not None:
                found_inside = scan.spans_inside(listed, watchlist.names)
                hits += (scan.hit(listed, span) for span in found_inside)
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
