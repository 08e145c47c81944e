"""The in-memory backend: the reference implementation of the storage contract.

Everything lives in :class:`~kubeds.storage.mvcc.MVCCStore`: a write is durable the moment it is
sequenced, and the whole history since the last compaction stays in the event window, so any
non-compacted revision can be listed or watched from. Nothing survives the process.
"""

from __future__ import annotations

from kubeds.storage import errors, mvcc
from kubeds.storage.interface import Event

__all__ = ["MemoryBackend"]


class MemoryBackend(mvcc.MVCCStore):
    def __init__(self) -> None:
        super().__init__(window=None)

    async def start(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False
        self._broadcaster.close_all()

    async def _persist(self, event: Event) -> None:
        self._apply_committed([event])

    async def compact(self, revision: int) -> None:
        self._check_open()
        if revision > self._committed:
            raise errors.FutureRevision(revision, self._committed)
        if revision <= self._compacted:
            return
        self._compact_window(revision)
