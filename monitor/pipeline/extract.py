"""Article extraction: page bytes → body text, title, author, date, canonical URL, language.

`extract_article` is pure CPU work (decode, parse, trafilatura, language detection) and
runs inside worker processes. `Extractor` owns that process pool: workers are started with
`forkserver` (`spawn` where it is missing) so the event loop, sockets and database drivers
of the parent are never forked, and each worker is replaced after `max_tasks_per_child`
pages to bound the memory lxml and trafilatura accumulate.

Measured on the 60-page corpus in tests/fixtures/corpus (2 cores, trafilatura 2.3):
`fast=True` yields the same text as trafilatura's default mode on every page (token F1 0.963,
benchmark shingle F1 0.960) at ~70–80 % of its cost (median ≈ 19 ms vs ≈ 27 ms per page
with metadata and language), so it is the default. It skips only the comparison with the
readability/jusText extractors; trafilatura's last-resort pass for pages where the main
pass finds too little still runs. A fresh worker's first page costs ≈ 0.7 s more (the
language model loads), about 3 ms per page spread over `max_tasks_per_child=200`.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import trafilatura
from trafilatura.settings import Document
from trafilatura.utils import load_html

from monitor.errors import ExtractError
from monitor.lifetime import expect_pool_children, join_pool
from monitor.models import Extracted
from monitor.pipeline.charset import decode_html
from monitor.pipeline.language import detect_language

T = TypeVar("T")

# htmldate keeps the time and zone when the page states them (article:published_time, JSON-LD);
# the feed entry's own date comes first anyway.
_DATE_PARAMS: dict[str, Any] = {
    "extensive_search": False,  # a guess from free text ("© 2024") is worse than no date
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
_QUIET_LOGGERS = ("trafilatura", "htmldate", "courlan", "readability", "justext")
# trafilatura drops every non-printable character, ZWNJ included, which glues Persian words
# together ("می‌گویند" → "میگویند"); it travels through extraction as a printable stand-in.
_ZWNJ = "\u200c"
_ZWNJ_ENTITY = re.compile(r"&(?:zwnj|#8204|#x200c);", re.I)
_ZWNJ_STAND_IN = "\ufffc"  # OBJECT REPLACEMENT CHARACTER: printable, never in real text


def extract_article(
    html: bytes | str, *, url: str, charset: str | None = None, fast: bool = True
) -> Extracted:
    """Extract the article body and metadata from one page; raise ExtractError if it has none."""
    text = decode_html(html, charset) if isinstance(html, bytes) else html
    text, protected = _protect_zwnj(text)
    tree = load_html(text) if text.strip() else None
    if tree is None:
        raise ExtractError(f"no article text: empty page at {url}")
    document = _run_trafilatura(tree, url=url, fast=fast)
    title = _restore(_one_line(document.title), protected)
    body = _without_headline(_restore(_clean_text(document.text), protected), title)
    if not body or _only_link_texts(body, tree):
        raise ExtractError(f"no article text found at {url}")
    return Extracted(
        text=body,
        title=title,
        author=_restore(_one_line(document.author), protected),
        published_at=parse_page_date(document.date),
        canonical_url=declared_canonical_url(tree, url),
        language=detect_language(body),
    )


def _run_trafilatura(tree: Any, *, url: str, fast: bool) -> Document:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        include_comments=False,
        with_metadata=True,
        date_extraction_params=_DATE_PARAMS,
    )
    if not isinstance(document, Document):  # None: nothing worth extracting
        raise ExtractError(f"no article text found at {url}")
    return document


def _protect_zwnj(text: str) -> tuple[str, bool]:
    """Swap ZWNJ (as a character or an entity) for the stand-in; say whether there was any."""
    if _ZWNJ not in text and ("&" not in text or _ZWNJ_ENTITY.search(text) is None):
        return text, False
    text = text.replace(_ZWNJ_STAND_IN, "").replace(_ZWNJ, _ZWNJ_STAND_IN)
    return _ZWNJ_ENTITY.sub(_ZWNJ_STAND_IN, text), True


def _restore(text: str, protected: bool) -> str:
    return text.replace(_ZWNJ_STAND_IN, _ZWNJ) if protected else text


def _clean_text(text: str | None) -> str:
    """Strip each line (trafilatura leaves stray no-break spaces) and drop empty ones."""
    lines = (line.strip() for line in (text or "").splitlines())
    return "\n".join(line for line in lines if line)


def _without_headline(text: str, title: str) -> str:
    """Drop a first line that repeats the title: matching reads title + body, once each."""
    first, _, rest = text.partition("\n")
    return rest if title and _one_line(first).casefold() == title.casefold() else text


def _only_link_texts(text: str, tree: Any) -> bool:
    """True when every line is the text of a link: trafilatura's last-resort pass picked up
    the menu of a page whose article is not in the HTML (rendered by script, paywalled)."""
    links = {_one_line(a.text_content()) for a in tree.iter("a")}
    return all(line in links for line in text.split("\n"))


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def parse_page_date(value: str | None) -> datetime | None:
    """Parse htmldate's output ("2024-04-26T09:30:00+0430", time optional) to aware UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def declared_canonical_url(tree: Any, url: str) -> str:
    """The page's `<link rel=canonical>` (else `og:url`), absolute; "" when it declares none.

    A canonical pointing at the site's home page from an article is a common CMS mistake;
    trusting it would make every article of the site a duplicate, so it is ignored.
    """
    for candidate in (_link_canonical(tree), _og_url(tree)):
        absolute = _absolute_http_url(candidate, url)
        if absolute and not _is_home_page_for_article(absolute, url):
            return absolute
    return ""


def _link_canonical(tree: Any) -> str:
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return str(link.get("href") or "")
    return ""


def _og_url(tree: Any) -> str:
    for meta in tree.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:url":
            return str(meta.get("content") or "")
    return ""


def _absolute_http_url(candidate: str, base: str) -> str:
    candidate = candidate.strip()
    if not candidate:
        return ""
    absolute = urljoin(base, candidate)
    parts = urlsplit(absolute)
    return absolute if parts.scheme in ("http", "https") and parts.netloc else ""


def _is_home_page_for_article(canonical: str, url: str) -> bool:
    return urlsplit(canonical).path in ("", "/") and urlsplit(url).path not in ("", "/")


def _quiet_worker() -> None:
    """Worker start-up: die with the forkserver, and silence library loggers that would
    write to stderr in every process."""
    join_pool()
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _pool_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported trafilatura and lxml and
        # loaded the language models (monitor.pipeline.warm).
        context.set_forkserver_preload(["monitor.pipeline.warm"])
        return context
    return multiprocessing.get_context("spawn")


class Extractor:
    """A process pool running `extract_article`; one per process, used as an async context.

    Workers are recycled to bound memory, but not with ProcessPoolExecutor's own
    `max_tasks_per_child`: on Python 3.11 that deadlocks the pool after some hundreds of
    tasks under load (seen in bench/, scenario 1). Instead, after `max_tasks_per_child` tasks
    per worker the whole pool is swapped for a fresh one, and the old pool is shut down in the
    background once its in-flight pages are done.
    """

    def __init__(
        self, workers: int | None = None, *, max_tasks_per_child: int = 200, fast: bool = True
    ) -> None:
        self.workers = workers or _default_workers()
        self.max_tasks_per_child = max_tasks_per_child
        self.fast = fast
        self._pool: ProcessPoolExecutor | None = None
        self._submitted = 0
        self._retiring: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Extractor:
        self._pool = self._new_pool()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
        await asyncio.gather(*self._retiring, return_exceptions=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        expect_pool_children()
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_pool_context(),
            initializer=_quiet_worker,
        )

    def _current_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            raise RuntimeError("Extractor used outside `async with`")
        if self._submitted >= self.max_tasks_per_child * self.workers:
            old, self._pool, self._submitted = self._pool, self._new_pool(), 0
            task = asyncio.create_task(asyncio.to_thread(old.shutdown, wait=True))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        self._submitted += 1
        return self._pool

    async def extract(self, html: bytes, *, url: str, charset: str | None = None) -> Extracted:
        """Extract one page in a worker; ExtractError if it has no text or its worker died."""
        pool = self._current_pool()
        job = partial(extract_article, html, url=url, charset=charset, fast=self.fast)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, job)
        except BrokenProcessPool as exc:
            self._replace_broken(pool)
            raise ExtractError(f"extraction worker died on {url}") from exc

    async def run(self, job: Callable[[], T]) -> T:
        """Run other CPU-heavy work (a big feed's parse) in a worker, off the event loop and
        its GIL; a worker that dies raises ExtractError."""
        pool = self._current_pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, job)
        except BrokenProcessPool as exc:
            self._replace_broken(pool)
            raise ExtractError("a pool worker died") from exc

    def _replace_broken(self, pool: ProcessPoolExecutor) -> None:
        # A worker killed (OOM, signal) breaks the whole pool; start a fresh one once.
        if self._pool is pool:
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
