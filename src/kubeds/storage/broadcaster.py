"""Fan-out of committed events to watchers, without anyone polling the database.

Backends publish each committed batch once; the broadcaster hands every watcher the events under
its prefix. Watchers are grouped by prefix, so the cost of a batch is one prefix test per distinct
prefix per event, plus one append per interested watcher, however many watchers share a prefix
(an API server has a handful of prefixes and many watchers: one per informer and per kubectl -w).

A watcher that stops reading cannot make the store hold events forever: once it has more than
``max_pending`` undelivered events it is terminated with
:class:`~kubeds.storage.errors.Unavailable`, as upstream's watch cache terminates slow watchers;
its client watches again from the last revision it saw (and replays from history).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable, Iterable

from kubeds.storage import errors
from kubeds.storage.interface import Event

__all__ = ["DEFAULT_MAX_PENDING", "Broadcaster", "Watcher"]

DEFAULT_MAX_PENDING = 100_000


class Watcher:
    """One watch stream: replayed history first, then live events, in revision order."""

    def __init__(
        self,
        prefix: str,
        *,
        after: int,
        max_pending: int = DEFAULT_MAX_PENDING,
        on_close: Callable[[Watcher], None] | None = None,
    ) -> None:
        self.prefix = prefix
        self._last = after  # highest revision handed out or queued; older events are dropped
        self._batches: collections.deque[list[Event]] = collections.deque()
        self._pending = 0
        self._max_pending = max_pending
        self._wakeup = asyncio.Event()
        self._closed = False
        self._error: errors.StorageError | None = None
        self._on_close = on_close

    def push(self, events: Iterable[Event]) -> None:
        """Queue events; those at or below the last queued revision are duplicates and skipped."""
        if self._closed:
            return
        fresh = [e for e in events if e.revision > self._last]
        if not fresh:
            return
        self._last = fresh[-1].revision
        self._batches.append(fresh)
        self._pending += len(fresh)
        self._wakeup.set()
        if self._pending > self._max_pending:
            self.fail(errors.Unavailable(f"watcher on {self.prefix} fell too far behind; watch again"))

    def fail(self, error: errors.StorageError) -> None:
        self._error = error
        self._batches.clear()
        self._pending = 0
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        if self._on_close is not None:
            self._on_close(self)

    @property
    def closed(self) -> bool:
        return self._closed

    def __aiter__(self) -> AsyncIterator[list[Event]]:
        return self._iterate()

    # -- the consumer's side without iteration: take what is queued, else wait ---------------------

    def take(self) -> list[Event] | None:
        """Every queued event, as one batch in revision order; None when nothing is queued.

        Raises the error the watcher was failed with (or :class:`StopAsyncIteration` once it is
        closed) when nothing is left to hand out, as iteration ends.
        """
        batches = self._batches
        if not batches:
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            return None
        batch = batches.popleft() if len(batches) == 1 else [e for b in batches for e in b]
        batches.clear()
        self._pending = 0
        return batch

    async def wait(self) -> None:
        """Until events are queued, the watcher closes, or :meth:`poke` is called."""
        if self._batches or self._closed:
            return
        self._wakeup.clear()
        await self._wakeup.wait()

    def poke(self) -> None:
        """Wake a :meth:`wait` (a timer of the consumer's came due)."""
        self._wakeup.set()

    async def _iterate(self) -> AsyncIterator[list[Event]]:
        while True:
            if self._batches:
                batch = self._batches.popleft()
                self._pending -= len(batch)
                yield batch
                continue
            if self._closed:
                if self._error is not None:
                    raise self._error
                return
            self._wakeup.clear()
            await self._wakeup.wait()


class Broadcaster:
    """Registry of watchers by prefix."""

    def __init__(self, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self._by_prefix: dict[str, set[Watcher]] = {}
        self._max_pending = max_pending

    def subscribe(self, prefix: str, *, after: int) -> Watcher:
        w = Watcher(prefix, after=after, max_pending=self._max_pending, on_close=self._remove)
        self._by_prefix.setdefault(prefix, set()).add(w)
        return w

    def _remove(self, w: Watcher) -> None:
        group = self._by_prefix.get(w.prefix)
        if group is not None:
            group.discard(w)
            if not group:
                del self._by_prefix[w.prefix]

    def publish(self, events: list[Event]) -> None:
        if not events or not self._by_prefix:
            return
        for prefix, group in list(self._by_prefix.items()):
            if prefix:
                matched = [e for e in events if e.kv.key.startswith(prefix)]
                if not matched:
                    continue
            else:
                matched = events
            for w in list(group):
                w.push(matched)

    def close_all(self, error: errors.StorageError | None = None) -> None:
        for group in list(self._by_prefix.values()):
            for w in list(group):
                if error is not None:
                    w.fail(error)
                else:
                    w.close()
        self._by_prefix.clear()

    @property
    def watcher_count(self) -> int:
        return sum(len(g) for g in self._by_prefix.values())


def prepend_history(w: Watcher, events: list[Event]) -> None:
    """Put replayed history in front of the live events a new watcher has queued.

    Only valid before the watcher is handed to its consumer; ``events`` must all be older than
    anything queued live (the caller subscribes first, then reads history up to the revision
    that was committed at subscription time, so nothing is missed and nothing repeats).
    """
    if not events or w.closed:
        return
    w._batches.appendleft(events)
    w._pending += len(events)
    if w._last < events[-1].revision:
        w._last = events[-1].revision
    w._wakeup.set()
