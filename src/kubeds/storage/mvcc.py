"""The MVCC core shared by the memory and SQLite backends.

Writes are *sequenced* on the event loop and *persisted* by the backend:

1. ``create``/``update``/``delete`` check the key against ``_latest`` (the state including writes
   that are sequenced but not yet durable), assign the next revision, and build the
   :class:`~kubeds.storage.interface.Event`. Because the event loop runs one coroutine at a time,
   this step is atomic: compare-and-swap needs no lock and a stale writer always sees
   :class:`~kubeds.storage.errors.Conflict`.
2. :meth:`MVCCStore._persist` makes the event durable (memory: nothing to do; SQLite: a group
   commit on the writer thread) and then :meth:`MVCCStore._apply_committed` is called with the
   events in revision order. Only then do readers see them (``_visible``), do watchers get them,
   and does the writer's call return. A caller is never told "done" for a write a crash could lose.

Readers at the current revision are served from ``_visible`` (a dict plus a sorted key list), so
``get`` and ``list`` never touch the disk. Older revisions are reconstructed from an in-memory
window of recent events by undoing newer changes; what the window does not cover the backend
reads from its history (:meth:`MVCCStore._history_list`, :meth:`MVCCStore._history_events`).

Watchers subscribe to a :class:`~kubeds.storage.broadcaster.Broadcaster`; a watch from a past
revision first gets the history after it, then live events, with no gap and no repeat.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import collections
from collections.abc import Iterable

from kubeds.storage import broadcaster, errors
from kubeds.storage.interface import Event, EventType, KeyValue, ListResult, WatchStream, prefix_end

__all__ = ["MVCCStore"]


class MVCCStore:
    """Sequencing, visible state, the event window and watch fan-out. Backends subclass it."""

    def __init__(self, *, window: int | None, max_pending: int = broadcaster.DEFAULT_MAX_PENDING) -> None:
        self._latest: dict[str, KeyValue] = {}
        self._visible: dict[str, KeyValue] = {}
        self._keys: list[str] = []
        self._rev = 0  # highest revision sequenced
        self._committed = 0  # highest revision visible
        self._compacted = 0
        self._window: collections.deque[Event] = collections.deque()
        self._window_limit = window
        self._window_start = 0  # every event after this revision is in the window
        self._broadcaster = broadcaster.Broadcaster(max_pending=max_pending)
        self._open = False
        self._commit_signal: asyncio.Event | None = None

    # -- state loading (backends call these in start()) ------------------------------------

    def _load(self, kvs: Iterable[KeyValue], *, revision: int, compacted: int) -> None:
        self._visible = {kv.key: kv for kv in kvs}
        self._latest = dict(self._visible)
        self._keys = sorted(self._visible)
        self._rev = self._committed = revision
        self._compacted = compacted
        self._window.clear()
        self._window_start = revision

    # -- persistence hooks ------------------------------------------------------------------

    async def _persist(self, event: Event) -> None:
        raise NotImplementedError

    async def _history_list(
        self, prefix: str, *, revision: int, start: str, limit: int
    ) -> ListResult:  # pragma: no cover - memory keeps the whole window
        raise errors.Compacted(revision, self._compacted)

    async def _history_events(self, prefix: str, *, after: int, upto: int) -> list[Event]:
        raise errors.Compacted(after, self._compacted)  # pragma: no cover

    # -- writes -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if not self._open:
            raise errors.Unavailable("storage is not open")

    async def create(self, key: str, value: bytes) -> KeyValue:
        self._check_open()
        if key in self._latest:
            raise errors.KeyExists(key)
        self._rev += 1
        kv = KeyValue(key, value, self._rev, self._rev)
        self._latest[key] = kv
        await self._persist(Event(EventType.CREATE, kv, None))
        return kv

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        self._check_open()
        cur = self._latest.get(key)
        if cur is None:
            if expected_revision:
                raise errors.Conflict(key, expected_revision, None)
            raise errors.KeyNotFound(key)
        if expected_revision and cur.mod_revision != expected_revision:
            raise errors.Conflict(key, expected_revision, cur)
        self._rev += 1
        kv = KeyValue(key, value, cur.create_revision, self._rev)
        self._latest[key] = kv
        await self._persist(Event(EventType.UPDATE, kv, cur))
        return kv

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        self._check_open()
        cur = self._latest.get(key)
        if cur is None:
            if expected_revision:
                raise errors.Conflict(key, expected_revision, None)
            raise errors.KeyNotFound(key)
        if expected_revision and cur.mod_revision != expected_revision:
            raise errors.Conflict(key, expected_revision, cur)
        self._rev += 1
        kv = KeyValue(key, cur.value, cur.create_revision, self._rev)
        del self._latest[key]
        await self._persist(Event(EventType.DELETE, kv, cur))
        return kv

    def _apply_committed(self, events: list[Event], *, publish: bool = True) -> None:
        """Make durable events visible, in revision order, and hand them to watchers (unless
        ``publish`` is False: the backend then publishes them itself, see :meth:`_publish`)."""
        visible, keys, window = self._visible, self._keys, self._window
        for ev in events:
            key = ev.kv.key
            if ev.type is EventType.DELETE:
                if visible.pop(key, None) is not None:
                    i = bisect.bisect_left(keys, key)
                    del keys[i]
            else:
                if key not in visible:
                    bisect.insort(keys, key)
                visible[key] = ev.kv
            window.append(ev)
        if events:
            self._committed = events[-1].revision
        self._signal_commit()
        limit = self._window_limit
        if limit is not None:
            while len(window) > limit:
                self._window_start = window.popleft().revision
        if publish:
            self._broadcaster.publish(events)

    def _publish(self, events: list[Event]) -> None:
        """Hand visible events to the watchers (those that already have them skip them)."""
        self._broadcaster.publish(events)

    def _rollback_pending(self) -> None:
        """Forget sequenced writes that failed to persist: the latest state is the visible one."""
        self._latest = dict(self._visible)
        self._rev = self._committed
        self._signal_commit()

    def _signal_commit(self) -> None:
        if self._commit_signal is not None:
            self._commit_signal.set()
            self._commit_signal = None

    async def _settle(self, key: str) -> None:
        """Wait until writes to ``key`` that are sequenced now are durable (or failed).

        A read-modify-write client that lost a compare-and-swap re-reads; without this it would
        read the same committed value again and lose again until the winner's commit lands,
        spinning. Waiting only for what is pending *now* keeps a reader from starving behind a
        stream of later writes.
        """
        if self._latest.get(key) is self._visible.get(key):
            return
        target = self._rev
        while self._committed < target and self._rev >= target:
            if self._commit_signal is None:
                self._commit_signal = asyncio.Event()
            await self._commit_signal.wait()

    # -- reads ------------------------------------------------------------------------------

    async def current_revision(self) -> int:
        self._check_open()
        return self._committed

    async def compacted_revision(self) -> int:
        self._check_open()
        return self._compacted

    def _check_revision(self, revision: int) -> None:
        if revision > self._committed:
            raise errors.FutureRevision(revision, self._committed)
        if revision < self._compacted:
            raise errors.Compacted(revision, self._compacted)

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        self._check_open()
        if not revision or revision == self._committed:
            await self._settle(key)
            return self._visible.get(key)
        res = await self.list(key, revision=revision, limit=1)
        if res.kvs and res.kvs[0].key == key:
            return res.kvs[0]
        return None

    async def count(self, prefix: str) -> int:
        self._check_open()
        lo = bisect.bisect_left(self._keys, prefix)
        hi = bisect.bisect_left(self._keys, prefix_end(prefix))
        return hi - lo

    async def list(self, prefix: str, *, revision: int = 0, start: str = "", limit: int = 0) -> ListResult:
        self._check_open()
        begin = max(prefix, start)
        end = prefix_end(prefix)
        if not revision or revision == self._committed:
            return self._list_current(begin, end, limit)
        self._check_revision(revision)
        if revision >= self._window_start:
            return self._list_from_window(begin, end, revision, limit)
        return await self._history_list(prefix, revision=revision, start=start, limit=limit)

    def _list_current(self, begin: str, end: str, limit: int) -> ListResult:
        keys = self._keys
        lo = bisect.bisect_left(keys, begin)
        hi = bisect.bisect_left(keys, end)
        more = False
        if limit and hi - lo > limit:
            hi = lo + limit
            more = True
        visible = self._visible
        return ListResult([visible[k] for k in keys[lo:hi]], self._committed, more)

    def _list_from_window(self, begin: str, end: str, revision: int, limit: int) -> ListResult:
        # State at ``revision`` = current state with every later change undone: for each key
        # touched after ``revision``, its value then is the ``prev`` of its first later event.
        overrides: dict[str, KeyValue | None] = {}
        for ev in reversed(self._window):
            if ev.revision <= revision:
                break
            key = ev.kv.key
            if begin <= key < end:
                overrides[key] = ev.prev
        keys = self._keys
        lo = bisect.bisect_left(keys, begin)
        hi = bisect.bisect_left(keys, end)
        candidates = sorted(set(keys[lo:hi]) | overrides.keys())
        out: builtins.list[KeyValue] = []
        more = False
        for key in candidates:
            kv = overrides[key] if key in overrides else self._visible[key]
            if kv is None:
                continue
            if limit and len(out) == limit:
                more = True
                break
            out.append(kv)
        return ListResult(out, revision, more)

    # -- watch ------------------------------------------------------------------------------

    async def watch(self, prefix: str, *, revision: int) -> WatchStream:
        self._check_open()
        if revision < self._compacted:
            raise errors.Compacted(revision, self._compacted)
        boundary = self._committed
        w = self._broadcaster.subscribe(prefix, after=max(revision, boundary))
        if revision >= boundary:
            return w
        if revision >= self._window_start:
            history = [e for e in self._window_after(revision) if e.kv.key.startswith(prefix)]
        else:
            try:
                history = await self._history_events(prefix, after=revision, upto=boundary)
            except BaseException:
                w.close()
                raise
        broadcaster.prepend_history(w, history)
        return w

    def _window_after(self, revision: int) -> builtins.list[Event]:
        window = self._window
        # Revisions in the window are increasing; find the first one after ``revision``.
        lo, hi = 0, len(window)
        while lo < hi:
            mid = (lo + hi) // 2
            if window[mid].revision <= revision:
                lo = mid + 1
            else:
                hi = mid
        return [window[i] for i in range(lo, len(window))]

    # -- compaction -------------------------------------------------------------------------

    def _compact_window(self, revision: int) -> None:
        self._compacted = max(self._compacted, revision)
        window = self._window
        while window and window[0].revision <= revision:
            window.popleft()
        self._window_start = max(self._window_start, revision)

    @property
    def watcher_count(self) -> int:
        return self._broadcaster.watcher_count
