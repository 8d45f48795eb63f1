"""Wait for a condition another task or process brings about, with a generous bound: tests
never sleep for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(
    condition: Callable[[], bool], what: str = "the condition", within: float = 15.0
) -> None:
    """Return once `condition()` holds; AssertionError naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {within:g}s")
        await asyncio.sleep(0.05)
