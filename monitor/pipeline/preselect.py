"""Search preselection: the words a stored article must hold for a watchlist query to be able
to match it, so the database can narrow the articles the matcher confirms.

Preselection asks for any of the query's positive terms (their OR): a query that holds only if
some positive term hits cannot match an article holding none of them, as NOT only ever
removes matches. Each term becomes its words in matching form; the database treats the last
one as a prefix so plurals and possessives stay in. A query that can hold with no hits at
all (`NOT Kabul`) has no preselection: every article is a candidate.
"""

from __future__ import annotations

import re

from monitor.pipeline.normalize import term_form
from monitor.pipeline.query import Query, evaluate, terms

Words = tuple[str, ...]  # one term's words in matching form
_SPLIT = re.compile(r"[\s']+")


def preselection(query: Query) -> list[Words] | None:
    """The words of each positive term, or None when the query can hold without any hit."""
    if evaluate(query, lambda term: ())[0]:
        return None
    found: dict[Words, None] = {}
    for term in terms(query):
        words = tuple(w for w in _SPLIT.split(term_form(term.text).key) if w)
        if words:
            found[words] = None
    return list(found) or None
