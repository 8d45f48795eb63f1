"""A load client in its own process, so the server's event loop is not shared with it:
`python -m bench.apiload '{"base": …, "token": …, "paths": {…}, "requests": N, "concurrency": C}'`
prints, per named path list, the requests/s and each request's latency in ms (JSON)."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any

import httpx


async def _measure(
    client: httpx.AsyncClient, paths: list[str], requests: int, concurrency: int
) -> dict[str, Any]:
    cycle = itertools.cycle(paths)
    latencies: list[float] = []
    failures: list[int] = []

    async def one() -> None:
        while len(latencies) + len(failures) < requests:
            started = time.perf_counter()
            response = await client.get(next(cycle))
            (latencies if response.status_code == 200 else failures).append(
                (time.perf_counter() - started) * 1000
                if response.status_code == 200
                else response.status_code
            )

    for path in paths[:concurrency]:  # warm-up: connections, caches
        await client.get(path)
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {"rps": len(latencies) / seconds, "ms": latencies, "failures": failures[:10]}


async def main(params: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {params['token']}"}
    limits = httpx.Limits(max_connections=params["concurrency"])
    async with httpx.AsyncClient(
        base_url=params["base"], headers=headers, limits=limits, timeout=60, trust_env=False
    ) as client:
        return {
            name: await _measure(client, paths, params["requests"], params["concurrency"])
            for name, paths in params["paths"].items()
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
