"""Reading a storage watch in contract tests."""

from __future__ import annotations

import asyncio

from kubeds.storage.interface import Event, WatchStream


async def collect(w: WatchStream, n: int, timeout: float = 5.0) -> list[Event]:
    """The first ``n`` (or more, to the end of the batch) events of ``w``, within ``timeout``."""
    out: list[Event] = []

    async def run() -> None:
        async for batch in w:
            out.extend(batch)
            if len(out) >= n:
                return

    await asyncio.wait_for(run(), timeout)
    return out
