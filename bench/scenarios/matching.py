"""Scenario 5: matching throughput, normalise + match of article text against 5,000 terms
in 50 watchlists, in MB/s on one core, against one compiled `re` alternation of the same
terms with word boundaries (case-insensitive) over the same text."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from bench import corpus, watchlists
from bench.context import Context
from bench.report import Row, at_least, ratio_at_least
from monitor.config import settings_from_dict
from monitor.pipeline.match import Matcher

NAME = "5 matching"


def _articles() -> list[tuple[str, str]]:
    """(title, body) of the corpus articles; a title is the body's first dozen words."""
    return [(" ".join(p.truth.split()[:12]), p.truth) for p in corpus.pages()]


def _best_rate(run: Any, nbytes: int, budget: float, repeats: int) -> float:
    """Best MB/s of `repeats` measurements, each repeating `run` for at least `budget` s."""
    best = 0.0
    for _ in range(repeats):
        done, started = 0, time.perf_counter()
        while True:
            run()
            done += nbytes
            elapsed = time.perf_counter() - started
            if elapsed >= budget:
                break
        best = max(best, done / elapsed / 1e6)
    return best


def match_job(params: dict[str, Any]) -> dict[str, Any]:
    tables = watchlists.generate()
    config = settings_from_dict({"watchlists": tables}, base=Path("."), check_secrets=False)
    started = time.perf_counter()
    matcher = Matcher.compile(config.watchlists)
    compile_seconds = time.perf_counter() - started
    articles = _articles()
    nbytes = sum(len(t.encode()) + len(b.encode()) for t, b in articles)
    results = [matcher.match(t, b) for t, b in articles]

    def run_matcher() -> None:
        for title, body in articles:
            matcher.match(title, body)

    terms = watchlists.all_terms(tables)
    started = time.perf_counter()
    alternation = "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))
    pattern = re.compile(rf"\b(?:{alternation})\b", re.IGNORECASE)
    regex_compile = time.perf_counter() - started
    text = "\n\n".join(f"{t}\n\n{b}" for t, b in articles).encode()[: int(params["regex_bytes"])]
    sample = text.decode("utf-8", "ignore")

    def run_regex() -> None:
        sum(1 for _ in pattern.finditer(sample))

    budget, repeats = float(params["seconds"]), int(params["repeats"])
    return {
        "matcher_mbps": _best_rate(run_matcher, nbytes, budget, repeats),
        "regex_mbps": _best_rate(run_regex, len(sample.encode()), budget, max(1, repeats // 2)),
        "terms": watchlists.term_count(tables),
        "watchlists": len(tables),
        "bytes": nbytes,
        "matched_articles": sum(1 for r in results if r),
        "matches": sum(len(r) for r in results),
        "hits": sum(len(m.hits) for r in results for m in r),
        "articles": len(articles),
        "compile_seconds": compile_seconds,
        "regex_compile_seconds": regex_compile,
        "regex_bytes": len(sample.encode()),
    }


def run(ctx: Context) -> list[Row]:
    sizes = ctx.sizes
    params = {
        "seconds": sizes.match_seconds,
        "regex_bytes": sizes.regex_bytes,
        "repeats": sizes.repeats,
    }
    data = ctx.job("bench.scenarios.matching:match_job", params).data
    label = "MB/s re alternation"
    note = (
        f"{data['terms']} terms in {data['watchlists']} watchlists (compiled in {data['compile_seconds']:.2f} s); "
        f"{data['articles']} corpus articles, {data['bytes'] / 1e3:.0f} KB; "
        f"{data['matched_articles']} articles matched {data['matches']} watchlists with {data['hits']} hits; "
        f"regex over {data['regex_bytes'] / 1e3:.0f} KB"
    )
    return [
        Row(
            NAME,
            "normalise + match, MB/s on one core",
            data["matcher_mbps"],
            "MB/s",
            data["regex_mbps"],
            label,
            ratio_at_least(100),
            note,
        ),
        Row(
            NAME,
            "normalise + match, absolute",
            data["matcher_mbps"],
            "MB/s",
            target=at_least(20, "MB/s"),
        ),
    ]
