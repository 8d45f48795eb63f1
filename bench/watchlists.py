"""Generated watchlists for the matching and end-to-end scenarios: 50 watchlists holding
5,000 terms (terms, actor names and aliases, excludes) in the mix an analyst desk writes.

Per watchlist: a few actors with aliases (one of them the real ISIS-Khorasan list in six
languages), two- and three-word phrases, invented names, short all-caps acronyms
(case-sensitive by default), Arabic-script and Cyrillic terms, a few well-known names,
an exclude or two, and every fifth watchlist a boolean query with NEAR. Most terms never
occur in the corpus, as most watchlist terms never occur in most articles; the names and
acronyms make sure a good share of articles still produce hits.
"""

from __future__ import annotations

import random
from typing import Any

from bench import corpus

ISIS_K = {
    "name": "ISIS-Khorasan",
    "aliases": [
        "ISIS-K",
        "ISKP",
        "IS-K",
        "IS-KP",
        "Islamic State Khorasan Province",
        "Islamic State Khorasan",
        "Daesh Khorasan",
        "داعش خراسان",
        "ولایت خراسان",
        "دولت اسلامی خراسان",
        "ИГИЛ-Хорасан",
    ],
}
_ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
_CYRILLIC = "абвгдежзиклмнопрстуфхцчшэюя"
# Names that do occur in the corpus pages, one per watchlist: they keep some hits coming.
_PROPER_NOUNS = ("Google", "Microsoft", "Apple", "Amazon", "Facebook", "Trump", "China", "London")
_SYLLABLES = ("ka", "zo", "ri", "van", "tesh", "mu", "dar", "il", "qu", "bor", "ny", "xel")


def _word(rng: random.Random, alphabet: str, low: int = 3, high: int = 8) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _invented(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _term(rng: random.Random, vocabulary: tuple[str, ...]) -> str:
    roll = rng.random()
    if roll < 0.40:
        return f"{rng.choice(vocabulary).lower()} {rng.choice(vocabulary).lower()}"
    if roll < 0.55:
        return " ".join(rng.choice(vocabulary).lower() for _ in range(3))
    if roll < 0.73:
        return _invented(rng) + ("" if rng.random() < 0.5 else " " + _invented(rng))
    if roll < 0.83:
        return "".join(rng.choice("ABCDEFGHIKLMNOPRSTUW") for _ in range(rng.randint(3, 4)))
    if roll < 0.90:
        return _word(rng, _ARABIC) + " " + _word(rng, _ARABIC)
    return _word(rng, _CYRILLIC, 5, 10)


def generate(watchlists: int = 50, terms: int = 5000, seed: int = 9) -> list[dict[str, Any]]:
    """`watchlists` raw [[watchlists]] tables holding `terms` terms in all (the config file's shape)."""
    rng = random.Random(seed)
    vocabulary = corpus.vocabulary()
    per_list = terms // watchlists
    out = []
    for index in range(watchlists):
        actors: list[dict[str, Any]] = [ISIS_K] if index == 0 else []
        for _ in range(3):
            actors.append(
                {
                    "name": _invented(rng),
                    "aliases": [_invented(rng) for _ in range(rng.randint(1, 4))],
                }
            )
        used = sum(1 + len(a["aliases"]) for a in actors)
        exclude = [_term(rng, vocabulary) for _ in range(2)]
        named = [_PROPER_NOUNS[index - 1]] if 1 <= index <= len(_PROPER_NOUNS) else []
        plain = named + [
            _term(rng, vocabulary) for _ in range(per_list - used - len(exclude) - len(named))
        ]
        table: dict[str, Any] = {
            "name": f"watchlist-{index:02d}",
            "severity": rng.choice(["low", "medium", "high", "critical"]),
            "terms": plain,
            "actors": actors,
            "exclude": exclude,
        }
        if index % 5 == 0:
            a, b = rng.choice(vocabulary).lower(), rng.choice(vocabulary).lower()
            table["query"] = f'("{a}" NEAR/5 "{b}") OR ({_invented(rng)} AND NOT "{a} {b}")'
        out.append(table)
    return out


def term_count(tables: list[dict[str, Any]]) -> int:
    """Terms, actor names, aliases and excludes across the watchlists."""
    return sum(
        len(t["terms"]) + len(t["exclude"]) + sum(1 + len(a["aliases"]) for a in t["actors"])
        for t in tables
    )


def all_terms(tables: list[dict[str, Any]]) -> list[str]:
    """Every term text (for the regex baseline)."""
    out: list[str] = []
    for t in tables:
        out += t["terms"] + t["exclude"]
        for actor in t["actors"]:
            out += [actor["name"], *actor["aliases"]]
    return out
