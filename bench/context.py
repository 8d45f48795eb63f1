"""Sizes of each profile (tiny for the smoke test, small by default, full for the issue's
sizes) and what every scenario gets from the harness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.worker import JobResult, run_job


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each scenario runs."""

    e2e_feeds: int  # × e2e_items new articles
    e2e_items: int
    ingest_feeds: int  # × 20 entries, fetch_articles = false
    ingest_items: int
    unchanged_feeds: int  # feeds answering 304
    reader_repoll_feeds: int  # reader is slow: its re-poll rate is measured on this many
    match_seconds: float  # time budget per matching measurement
    regex_bytes: int  # text the regex baseline runs over
    storage_articles: int
    story_window: int  # articles stored in the window before timing story assignment
    story_samples: int
    delivery_alerts: int
    repeats: int  # best of N for the micro-benchmarks


PROFILES = {
    "tiny": Sizes(2, 5, 4, 20, 60, 20, 0.2, 2_000, 40, 300, 20, 10, 1),
    "small": Sizes(4, 50, 50, 20, 1_000, 200, 1.0, 20_000, 500, 5_000, 100, 100, 3),
    "full": Sizes(40, 50, 200, 20, 10_000, 500, 3.0, 40_000, 5_000, 100_000, 300, 100, 3),
}


@dataclass
class Context:
    """The profile, the work folder and what scenarios pass to each other."""

    profile: str
    sizes: Sizes
    workdir: Path
    pg_url: str | None  # admin URL of a reachable PostgreSQL, or None
    pg_e2e: bool = False
    memory: dict[str, JobResult] = field(default_factory=dict)
    jobs: int = 0

    def job(self, name: str, params: Mapping[str, object]) -> JobResult:
        """Run a job in a fresh worker process (see bench.worker); its log goes to the workdir."""
        self.jobs += 1
        log = self.folder("logs") / f"{self.jobs:02d}-{name.rpartition(':')[2]}.log"
        return run_job(name, params, log=log)

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path
