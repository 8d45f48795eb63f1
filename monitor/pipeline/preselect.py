"""Search preselection: the words a stored article must hold for a watchlist query to be able
to match it, so the database can narrow the articles the matcher confirms.

Preselection asks for any of the query's positive terms (their OR): a query that holds only if
some positive term hits cannot match an article holding none of them, as NOT only ever
removes matches. Each term becomes its words in matching form; the database treats the last
one as a prefix so plurals and possessives stay in. The other spellings the matching rules
give a term are asked for too: its joined form (`isisk`), its Arabic proclitic forms, the
Snowball stem of its first inflected Russian word (a prefix: `исламск…`, the words after it
left to the matcher), and its words split at an apostrophe, as the index's tokenizers split
them (`Taliban’s` is `talibans` to the matcher, `taliban s` to the index). A query that can
hold with no hits at all (`NOT Kabul`) has no preselection: every article is a candidate.
"""

from __future__ import annotations

import re

from monitor.pipeline.normalize import APOSTROPHES, TRANSLITERATION_MARKS, term_form
from monitor.pipeline.query import Query, evaluate, terms
from monitor.pipeline.spellings import EXACT, spellings

Words = tuple[str, ...]  # one term's words in matching form
_SPLIT = re.compile(r"[\s']+")
_MARK = re.compile("[" + APOSTROPHES + TRANSLITERATION_MARKS + "]")


def preselection(query: Query) -> list[Words] | None:
    """The words of each positive term, or None when the query can hold without any hit."""
    if evaluate(query, lambda term: ())[0]:
        return None
    found: dict[Words, None] = {}
    for term in terms(query):
        for words in _spellings(term.text):
            if words and not any(_covers(other, words) for other in found):
                found[words] = None
    return list(found) or None


def _spellings(text: str) -> list[Words]:
    form = term_form(text)
    keys = [form.key, term_form(_MARK.sub(" ", text)).key]
    keys += [s.text for s in spellings(form) if s.rule != EXACT]
    return [tuple(w for w in _SPLIT.split(key) if w) for key in keys]


def _covers(prefix: Words, words: Words) -> bool:
    """True when the database's reading of `prefix` (last word a prefix) finds `words`."""
    return (
        len(prefix) == len(words) and prefix[:-1] == words[:-1] and words[-1].startswith(prefix[-1])
    )
