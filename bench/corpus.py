"""The 60 real article pages in bench/data (scrapinghub article-extraction-benchmark, MIT)
with their ground truth, and the two ways of scoring extracted text against it."""

from __future__ import annotations

import functools
import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Page:
    """One corpus page: its id, original URL, HTML (UTF-8 for every page here) and true body."""

    page_id: str
    url: str
    html: bytes
    truth: str


@functools.cache
def pages() -> tuple[Page, ...]:
    """The corpus pages, sorted by id."""
    truth = json.loads((DATA / "ground-truth.json").read_text(encoding="utf-8"))
    found = []
    for path in sorted(DATA.glob("*.html.gz")):
        page_id = path.name.removesuffix(".html.gz")
        entry = truth[page_id]
        found.append(
            Page(page_id, entry["url"], gzip.decompress(path.read_bytes()), entry["articleBody"])
        )
    return tuple(found)


@functools.cache
def vocabulary() -> tuple[str, ...]:
    """Distinct words of the ground-truth bodies (4+ ASCII letters), sorted, for generated text."""
    words = {w for p in pages() for w in re.findall(r"\b[A-Za-z]{4,}\b", p.truth)}
    return tuple(sorted(words))


def bag_f1(truth: str, predicted: str) -> float:
    """Bag-of-words F1 (lower-cased \\w+ tokens) of one page."""
    expected = Counter(_TOKEN.findall(truth.lower()))
    got = Counter(_TOKEN.findall(predicted.lower()))
    overlap = sum((expected & got).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def _tp_fp_fn(truth: str, predicted: str) -> tuple[float, float, float]:
    expected, got = _shingles(truth), _shingles(predicted)
    tp = float(sum((expected & got).values()))
    fp = float(sum((got - expected).values()))
    fn = float(sum((expected - got).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def benchmark_f1(truths: Sequence[str], predictions: Sequence[str]) -> float:
    """The article-extraction-benchmark score: 4-gram shingle precision and recall per page,
    averaged over pages, then F1 of the two averages (how the corpus's published F1s are made)."""
    precisions, recalls = [], []
    for truth, predicted in zip(truths, predictions, strict=True):
        tp, fp, fn = _tp_fp_fn(truth, predicted)
        exact = fp == fn == 0
        if tp + fp > 0:
            precisions.append(1.0 if exact else tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(1.0 if exact else tp / (tp + fn))
    precision, recall = statistics.mean(precisions), statistics.mean(recalls)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def mean_bag_f1(truths: Sequence[str], predictions: Sequence[str]) -> float:
    """Bag-of-words F1 averaged over pages."""
    return statistics.mean(bag_f1(t, p) for t, p in zip(truths, predictions, strict=True))
