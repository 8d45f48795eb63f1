"""The extraction process pool: page bytes in, `Extracted` out, and the language of feed text.

`Extractor` owns a process pool running `monitor.pipeline.extract.extract_article` and
`monitor.pipeline.language.detect_language`. Workers are started with `forkserver` (`spawn`
where it is missing) so the event loop, sockets and database drivers of the parent are never
forked; the forkserver has imported trafilatura and loaded the language models once
(`monitor.pipeline.warm`) and every worker shares them copy-on-write. The jobs import their
modules inside the worker, so the service process loads neither trafilatura nor the models.

Workers are replaced after `max_tasks_per_child` pages each to bound the memory lxml and
trafilatura accumulate: the pool is drained and shut down, then a fresh one is started, so
a retiring pool's workers never sit beside the new ones (≈ 50 MB each).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from multiprocessing import forkserver
from types import TracebackType
from typing import TypeVar

from monitor.errors import ExtractError
from monitor.lifetime import expect_pool_children, join_pool
from monitor.models import Extracted

_T = TypeVar("_T")
_QUIET_LOGGERS = ("trafilatura", "htmldate", "courlan", "readability", "justext")


def extract_page(html: bytes, url: str, charset: str | None, fast: bool) -> Extracted:
    """The pool's page job: `extract_article`, imported in the worker (the parent stays
    without trafilatura; pickling this job names this module only)."""
    from monitor.pipeline.extract import extract_article

    return extract_article(html, url=url, charset=charset, fast=fast)


def detect_text_languages(texts: list[tuple[str, int]]) -> list[str]:
    """The pool's language job: `detect_language` of each text's first `limit` characters."""
    from monitor.pipeline.language import detect_language

    return [detect_language(text, limit=limit) for text, limit in texts]


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


def _start_forkserver() -> None:
    """Start the forkserver (if it is the start method) on this, the loop's, thread: it asks
    to die with the thread that started it, and the first jobs are submitted from short-lived
    threads. Only when a job comes: a round of 304s never starts it (≈ 130 MB)."""
    if _pool_context().get_start_method() == "forkserver":
        forkserver.ensure_running()


def _pool_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported trafilatura and lxml and
        # loaded the language models (monitor.pipeline.warm).
        context.set_forkserver_preload(["monitor.pipeline.warm"])
        return context
    return multiprocessing.get_context("spawn")


class Extractor:
    """A process pool running the extraction jobs; one per process, used as an async context.

    Workers are recycled to bound memory, but not with ProcessPoolExecutor's own
    `max_tasks_per_child`: on Python 3.11 that deadlocks the pool after some hundreds of
    tasks under load (seen in bench/, scenario 1). Instead, after `max_tasks_per_child` jobs
    per worker the pool is drained (its in-flight jobs finish), shut down, and a fresh one
    started; jobs arriving meanwhile wait for the fresh pool.
    """

    def __init__(
        self, workers: int | None = None, *, max_tasks_per_child: int = 200, fast: bool = True
    ) -> None:
        self.workers = workers or _default_workers()
        self.max_tasks_per_child = max_tasks_per_child
        self.fast = fast
        self._pool: ProcessPoolExecutor | None = None
        self._submitted = 0
        self._swap = asyncio.Lock()
        # Texts waiting for their language: those asked for in one turn of the loop go to
        # the pool as one job (a poll's entries ask together; one job each cost a pool round
        # trip per entry, and the pool's replacement every few hundred jobs).
        self._languages: list[tuple[tuple[str, int], asyncio.Future[str]]] = []
        self._detecting: set[asyncio.Task[None]] = set()  # held until done (not GC'd)

    async def __aenter__(self) -> Extractor:
        self._pool = self._new_pool()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async with self._swap:
            pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        expect_pool_children()
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_pool_context(),
            initializer=_quiet_worker,
        )

    async def _submit(self, job: Callable[[], _T]) -> tuple[ProcessPoolExecutor, Future[_T]]:
        """Submit the job to the current pool, swapping it first when due (under the lock, so
        no job is submitted to a pool being shut down)."""
        async with self._swap:  # a swap in progress: wait for the fresh pool
            if self._pool is None:
                raise RuntimeError("Extractor used outside `async with`")
            if self._submitted >= self.max_tasks_per_child * self.workers:
                old, self._pool = self._pool, None
                await asyncio.to_thread(old.shutdown, wait=True)
                self._pool, self._submitted = self._new_pool(), 0
            self._submitted += 1
            pool = self._pool
            # A pool's first jobs each start a worker, and the process's first worker waits
            # for the forkserver to import trafilatura and load the models (seconds on a
            # busy machine): submitted from a thread, so the loop's fetches don't time out.
            if self._submitted <= self.workers:
                _start_forkserver()
                return pool, await asyncio.to_thread(pool.submit, job)
            return pool, pool.submit(job)

    async def extract(self, html: bytes, *, url: str, charset: str | None = None) -> Extracted:
        """Extract one page in a worker; ExtractError if it has no text or its worker died."""
        pool, future = await self._submit(partial(extract_page, html, url, charset, self.fast))
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            self._replace_broken(pool)
            raise ExtractError(f"extraction worker died on {url}") from exc

    async def run(self, job: Callable[[], _T]) -> _T:
        """Run other CPU-heavy work (a big feed's parse) in a worker, off the event loop and
        its GIL; a worker that dies raises ExtractError."""
        pool, future = await self._submit(job)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            self._replace_broken(pool)
            raise ExtractError("a pool worker died") from exc

    async def detect_language(self, text: str, *, limit: int) -> str:
        """The language of the text's first `limit` characters, detected in a worker ("" when
        too short to tell, or when the worker died)."""
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._languages.append(((text[:limit], limit), waiter))
        if len(self._languages) == 1:
            asyncio.get_running_loop().call_soon(self._detect_waiting)
        return await waiter

    def _detect_waiting(self) -> None:
        waiting, self._languages = self._languages, []
        answering = asyncio.get_running_loop().create_task(self._answer(waiting))
        self._detecting.add(answering)
        answering.add_done_callback(self._detecting.discard)

    async def _answer(self, waiting: list[tuple[tuple[str, int], asyncio.Future[str]]]) -> None:
        """Detect the waiting texts in one job and give each waiter its language."""
        asking = [waiter for _, waiter in waiting]
        try:
            languages = await self._detect([text for text, _ in waiting])
        except asyncio.CancelledError:
            for waiter in asking:
                waiter.cancel()
            raise
        except Exception as e:
            for waiter in asking:
                if not waiter.done():  # not given up by its caller
                    waiter.set_exception(e)
            return
        for waiter, language in zip(asking, languages, strict=True):
            if not waiter.done():
                waiter.set_result(language)

    async def _detect(self, texts: list[tuple[str, int]]) -> list[str]:
        pool, future = await self._submit(partial(detect_text_languages, texts))
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._replace_broken(pool)
            return [""] * len(texts)

    def _replace_broken(self, pool: ProcessPoolExecutor) -> None:
        # A worker killed (OOM, signal) breaks the whole pool; start a fresh one once.
        if self._pool is pool:
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
