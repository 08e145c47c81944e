"""Periodic compaction: keep a window of history, forget the rest.

Upstream's API server asks etcd to compact every 5 minutes; kine never compacts the newest 1,000
revisions. :class:`Compactor` does both: every ``interval`` seconds it compacts up to
``current - keep``, so watchers that fall behind by less than ``keep`` revisions (or ``interval``
seconds) can always resume, and storage does not grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kubeds import clock as clocks
from kubeds.storage import errors
from kubeds.storage.interface import Backend

__all__ = ["Compactor"]

log = logging.getLogger(__name__)


class Compactor:
    def __init__(
        self,
        backend: Backend,
        *,
        interval: float = 300.0,
        keep: int = 1000,
        clock: clocks.Clock = clocks.REAL,
    ) -> None:
        if interval <= 0 or keep < 0:
            raise ValueError("compaction interval must be > 0 and keep >= 0")
        self._backend = backend
        self._interval = interval
        self._keep = keep
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def compact_once(self) -> int:
        """Compact up to ``current - keep``; returns the compacted revision."""
        current = await self._backend.current_revision()
        target = current - self._keep
        if target > await self._backend.compacted_revision():
            await self._backend.compact(target)
            log.debug("compacted storage up to revision %d", target)
        return await self._backend.compacted_revision()

    async def run(self) -> None:
        while True:
            await self._clock.sleep(self._interval)
            try:
                await self.compact_once()
            except errors.StorageError as exc:
                log.warning("compaction failed, will retry: %s", exc)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="kubeds-compactor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
