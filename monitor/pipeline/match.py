"""Match articles against every watchlist at once.

All terms, actor names and aliases, excludes and query terms of all watchlists compile into one
Aho-Corasick automaton over the spellings of their matching keys (see `normalize` and
`spellings`: plurals and possessives, joined dashes, Arabic proclitics, Russian stems), each
padded with a space on both sides (a stem only on the left), so the automaton itself only
reports word-bounded occurrences; overlapping occurrences are all kept. An article is
normalised once, its word view scanned once (`scan`); then each watchlist that owns a hit (or
whose query can hold without hits) is decided: out of scope, excluded, or matched by a term,
an alias or its query. Every hit carries offsets into the original `title + "\\n\\n" + body`
and the matching rules it needed; a term's switches drop hits that needed a rule it turned
off, and where several terms hit one span, those that needed the fewest rules keep it.

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

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from monitor.config import TermConfig, WatchlistConfig
from monitor.errors import ConfigError, QuerySyntaxError
from monitor.models import Hit, TermCount, WatchlistMatch
from monitor.pipeline.normalize import TermForm, is_acronym, key_variants, term_form
from monitor.pipeline.query import Query, Span, Term, evaluate, parse_query, terms
from monitor.pipeline.scan import SWITCHES, Listed, Role, Rules, Scan, marks
from monitor.pipeline.snippets import SnippetText
from monitor.pipeline.spellings import Spelling, spellings

SEARCH_NAME = "search"
# A shorter name inside a key variant of a longer one: (its key number, offset, length,
# the longer name's key number).
_Inside = tuple[int, int, int, int]
_Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Watchlist:
    config: WatchlistConfig
    listed: tuple[Listed, ...]
    query: Query | None
    query_terms: dict[Term, Listed] = field(default_factory=dict)
    always: bool = False  # the query holds with no hits at all (e.g. `NOT x`)
    names: dict[int, tuple[Listed, ...]] = field(default_factory=dict)  # actor names by key


class Matcher:
    """All watchlists compiled into one automaton; `match` decides every watchlist for an article."""

    def __init__(
        self,
        watchlists: tuple[_Watchlist, ...],
        owners: list[list[Listed]],
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
        scan = Scan(title + "\n\n" + body, self._automaton)
        found: dict[int, list[Listed]] = defaultdict(list)
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
    """Collects the keys of all watchlists, their spellings, and who owns each key."""

    def __init__(self) -> None:
        self._keys: dict[TermForm, int] = {}
        self._spellings: list[list[Spelling]] = []
        self.owners: list[list[Listed]] = []
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
        entries: dict[str, list[tuple[int, Spelling]]] = defaultdict(list)
        for number, of_key in enumerate(self._spellings):
            for spelling in of_key:
                word = " " + spelling.text + ("" if spelling.open else " ")
                entries[word].append((number, spelling))
        inside = self._inside()
        automaton = ahocorasick.Automaton()
        for word, owners in sorted(entries.items(), key=lambda entry: _by_frequency(entry[0])):
            inner = tuple(sorted(inside.get(word[1:-1], ()))) if word.endswith(" ") else ()
            automaton.add_word(word, (len(word), tuple(owners), inner))
        automaton.make_automaton()
        return automaton

    def _inside(self) -> dict[str, set[_Inside]]:
        """For each key variant of an actor's name, the shorter names of that actor it holds
        that start one of its words but end inside one (`isis k` in `isis khorasan's`)."""
        found: dict[str, set[_Inside]] = defaultdict(set)
        keys = {number: form.key for form, number in self._keys.items()}
        for numbers in self._actors.values():
            for outer in numbers:
                for inner in numbers - {outer}:
                    for variant in key_variants(keys[outer]):
                        found[variant].update(_inner_names(variant, keys[inner], inner, outer))
        return found

    def _listed(self, index: int, role: Role, term: TermConfig, actor: str | None) -> Listed:
        form = term_form(term.text)
        if not form.key:
            raise ValueError(f"term {term.text!r} has no letters or digits")
        case_sensitive = is_acronym(term.text) if term.match_case is None else term.match_case
        number = self._keys.setdefault(form, len(self._keys))
        if number == len(self.owners):
            self.owners.append([])
            self._spellings.append(spellings(form))
        off = frozenset(
            rule for name, rules in SWITCHES.items() if not getattr(term, name) for rule in rules
        )
        listed = Listed(
            index,
            role,
            term.text,
            actor,
            number,
            form.key,
            self._spellings[number][0],
            case_sensitive,
            off,
            marks(term.text),
        )
        self.owners[number].append(listed)
        if actor is not None and role == "term":
            self._actors[(index, actor)].add(number)
        return listed


# Letters, most frequent first (English, then Russian, then Arabic-script, in matching form).
_FREQUENT = " etaoinsrhldcumfpgwybvkxjqz0123456789оеаинтсрвлкмдпуяызбгчйхжшюцщэфъ"
_FREQUENT += "اليمونرهتبدعسفقکشحجصطزخضظذثغپچژگ"
_RANK = {char: rank for rank, char in enumerate(_FREQUENT)}


def _by_frequency(word: str) -> list[int]:
    """Sort key that puts common letters first at every branch of the automaton's trie:
    pyahocorasick looks a node's children up one by one, in the order they were added."""
    return [_RANK.get(char, len(_RANK) + ord(char)) for char in word]


def _names_by_key(listed: Sequence[Listed]) -> dict[int, tuple[Listed, ...]]:
    """The actor names and aliases among a watchlist's terms, by key number."""
    names: dict[int, list[Listed]] = defaultdict(list)
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


def _decide(watchlist: _Watchlist, found: list[Listed], scan: Scan) -> WatchlistMatch | None:
    """The watchlist's verdict on one article, given which of its terms' keys occur in it."""
    hits: list[Hit] = []
    for listed in found:
        if listed.role == "exclude" and scan.spans(listed):
            return None
        if listed.role == "term":
            hits += (scan.hit(listed, *found) for found in scan.spans(listed))
            if listed.actor is not None:
                found_inside = scan.spans_inside(listed, watchlist.names)
                hits += (scan.hit(listed, *found) for found in found_inside)
    matched = bool(hits)
    if watchlist.query is not None:
        holds, query_hits = _run_query(watchlist, scan)
        matched = matched or holds
        hits += query_hits if holds else []
    return _result(watchlist.config, scan.text, hits) if matched else None


def _run_query(watchlist: _Watchlist, scan: Scan) -> tuple[bool, list[Hit]]:
    """Whether the watchlist's query holds, and the hits that make it hold."""
    by_words: dict[Span, list[tuple[Listed, _Span, Rules]]] = defaultdict(list)

    def lookup(term: Term) -> list[Span]:
        listed = watchlist.query_terms[term]
        found = []
        for span, rules in scan.spans(listed):
            words = scan.words(span)
            by_words[words].append((listed, span, rules))
            found.append(words)
        return found

    assert watchlist.query is not None
    holds, support = evaluate(watchlist.query, lookup)
    return holds, [scan.hit(*item) for words in support for item in by_words[words]]


def _plainest(hits: list[Hit]) -> list[Hit]:
    """One hit per term and span; where several terms hit the same span, those that needed
    the fewest rules (`ISKP` listed beside `IS-KP`: the text `ISKP` is a hit of `ISKP`)."""
    fewest: dict[tuple[int, int], int] = {}
    for hit in hits:
        span = (hit.start, hit.end)
        fewest[span] = min(fewest.get(span, len(hit.rules)), len(hit.rules))
    kept: dict[tuple[int, int, str, str | None], Hit] = {}
    for hit in hits:
        if len(hit.rules) == fewest[(hit.start, hit.end)]:
            kept.setdefault((hit.start, hit.end, hit.term, hit.actor), hit)
    return list(kept.values())


def _result(config: WatchlistConfig, text: SnippetText, hits: list[Hit]) -> WatchlistMatch:
    unique = sorted(_plainest(hits), key=lambda h: (h.start, h.end, h.term))
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
