"""The in-memory backend: the reference implementation of the storage contract.

Everything lives in :class:`~kubeds.storage.mvcc.MVCCStore`: a write is durable the moment it is
sequenced, and the whole history since the last compaction stays in the event window, so any
non-compacted revision can be listed or watched from. Nothing survives the process.

A write is visible at once, but its event reaches the watchers with the other writes of the same
event-loop iteration, as one batch (as the SQLite backend's group commit delivers them): handing
every write to every watcher on its own made a 5,000-node DaemonSet rollout 40 % slower here than
on SQLite.
"""

from __future__ import annotations

import asyncio

from kubeds.storage import errors, mvcc
from kubeds.storage.interface import Event

__all__ = ["MemoryBackend"]


class MemoryBackend(mvcc.MVCCStore):
    def __init__(self) -> None:
        super().__init__(window=None)
        self._unpublished: list[Event] = []

    async def start(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._publish_pending()
        self._open = False
        self._broadcaster.close_all()

    async def _persist(self, event: Event) -> None:
        self._apply_committed([event], publish=False)
        if not self._unpublished:
            asyncio.get_running_loop().call_soon(self._publish_pending)
        self._unpublished.append(event)

    def _publish_pending(self) -> None:
        events, self._unpublished = self._unpublished, []
        if events:
            self._publish(events)

    async def compact(self, revision: int) -> None:
        self._check_open()
        if revision > self._committed:
            raise errors.FutureRevision(revision, self._committed)
        if revision <= self._compacted:
            return
        self._compact_window(revision)
