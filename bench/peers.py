"""Worker-side baselines from outside the project: the `reader` library (lemon24/reader)
polling the same feeds, and a fetch-only floor (plain httpx GETs, nothing else)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from reader import ParseError, make_reader


def reader_rounds(params: dict[str, Any]) -> dict[str, Any]:
    """`reader` on a fresh SQLite file: add the feeds, then `rounds` update passes over all of
    them (`scheduled=False`, so a second pass re-polls now instead of waiting for the
    schedule); params: feeds, folder, rounds, workers (its fetch threads)."""
    path = Path(params["folder"]) / f"reader-{time.monotonic_ns()}.sqlite"
    reader = make_reader(str(path))
    try:
        for url in params["feeds"]:
            reader.add_feed(url)
        return {
            "rounds": [
                _reader_pass(reader, int(params.get("workers", 1)))
                for _ in range(int(params["rounds"]))
            ]
        }
    finally:
        reader.close()
        path.unlink(missing_ok=True)


def _reader_pass(reader: Any, workers: int) -> dict[str, Any]:
    new = not_modified = errors = 0
    started = time.perf_counter()
    for result in reader.update_feeds_iter(scheduled=False, workers=workers):
        if isinstance(result.value, ParseError):
            errors += 1
        elif result.value is None:
            not_modified += 1
        else:
            new += result.value.new
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "new": new, "not_modified": not_modified, "errors": errors}


async def fetch_floor(params: dict[str, Any]) -> dict[str, Any]:
    """GET every URL once with `concurrency` requests in flight, keep-alive, nothing else;
    with `etags`, send each URL's ETag from a first pass (a 304 floor)."""
    urls: list[str] = params["feeds"]
    slots = asyncio.Semaphore(int(params.get("concurrency", 32)))
    limits = httpx.Limits(max_connections=int(params.get("concurrency", 32)))
    async with httpx.AsyncClient(trust_env=False, limits=limits, timeout=60) as client:
        etags: dict[str, str] = {}

        async def get(url: str) -> int:
            async with slots:
                headers = {"If-None-Match": etags[url]} if url in etags else {}
                response = await client.get(url, headers=headers)
                if params.get("etags"):
                    etags[url] = response.headers.get("etag", "")
                return len(response.content)

        if params.get("etags"):
            await asyncio.gather(*(get(u) for u in urls))
        started = time.perf_counter()
        sizes = await asyncio.gather(*(get(u) for u in urls))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "requests": len(urls), "bytes": sum(sizes)}
