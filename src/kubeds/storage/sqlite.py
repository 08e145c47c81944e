"""The SQLite backend: one file, an MVCC log on one table, group commit on a writer thread.

Layout (kine's, see ``docs/architecture.md``): every write appends one row to ``kv`` whose ``id``
is the revision. An update row points at the version it replaced (``prev_revision``); a delete
appends a tombstone row (``deleted = 1``) carrying the last value, so a watch replayed from disk
still gets the deleted object and its previous version. "The current value of a key" is its row
with the highest id.

Durability: the database runs in WAL mode with ``synchronous=FULL``, so a transaction is on disk
when ``COMMIT`` returns; nothing is acknowledged before that. A SIGKILL at any moment leaves
either the whole transaction or none of it, and SQLite's journal keeps the file consistent.

Throughput: writes are sequenced on the event loop (see :mod:`kubeds.storage.mvcc`), collected
while the loop runs, and handed to one writer thread that commits everything waiting in a single
transaction (group commit): 64 concurrent writers share one fsync instead of paying for 64. The
event loop never blocks on the disk.

Reads at the current revision come from memory. Reads of older revisions that the in-memory event
window no longer covers, and watch replays from older revisions (for example after a restart),
run on a separate reader thread with its own connection; WAL lets it read while the writer
writes.

If a commit fails (disk full, I/O error), the writes in it and every write sequenced after it are
failed with :class:`~kubeds.storage.errors.Unavailable`, the writer thread discards queued work
until the event loop has rolled its state back, and the backend carries on from what is on disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import queue
import sqlite3
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeds.storage import errors, mvcc
from kubeds.storage.interface import Event, EventType, KeyValue, ListResult, prefix_end

__all__ = ["SQLiteBackend"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_INSERT = (
    "INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_LOAD_CURRENT = """
SELECT k.id, k.name, k.create_revision, k.value FROM kv AS k
JOIN (SELECT MAX(id) AS id FROM kv GROUP BY name) AS m ON k.id = m.id
WHERE k.deleted = 0
"""

_LIST_AT = """
SELECT k.id, k.name, k.create_revision, k.value FROM kv AS k
JOIN (SELECT MAX(id) AS id FROM kv WHERE name >= ? AND name < ? AND id <= ? GROUP BY name) AS m
  ON k.id = m.id
WHERE k.deleted = 0 ORDER BY k.name LIMIT ?
"""

_EVENTS_AFTER = """
SELECT k.id, k.name, k.created, k.deleted, k.create_revision, k.value,
       p.id, p.create_revision, p.value
FROM kv AS k LEFT JOIN kv AS p ON p.id = k.prev_revision AND k.prev_revision > 0
WHERE k.id > ? AND k.id <= ? AND k.name >= ? AND k.name < ?
ORDER BY k.id LIMIT ?
"""

# Rows at or below the compaction revision that no list at or above it can need: tombstones, and
# versions replaced by a later row that is itself at or below it.
_COMPACTABLE = """
SELECT k.id FROM kv AS k
WHERE k.id > ? AND k.id <= ? AND (
    k.deleted = 1 OR EXISTS (SELECT 1 FROM kv AS n WHERE n.name = k.name AND n.id > k.id AND n.id <= ?)
)
"""

#: Rows written by one INSERT statement: 7 parameters each, 896 in all, under the 999 that SQLite
#: builds before 3.32 allow per statement (later ones allow 32,766).
_ROWS_PER_INSERT = 128
_REPLAY_PAGE = 5000
_SWITCH_INTERVAL = 0.0005
_COMPACT_CHUNK = 10_000


@functools.lru_cache(maxsize=_ROWS_PER_INSERT)
def _insert_rows(n: int) -> str:
    """One INSERT of ``n`` rows. ``executemany`` would step the statement once per row, giving
    the GIL up and taking it back around each step: the event loop's thread then waits for the
    writer thread to get the GIL back, row after row. One statement per batch steps once."""
    return _INSERT + ", (?, ?, ?, ?, ?, ?, ?)" * (n - 1)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


@dataclass
class _Write:
    events: list[Event]
    futures: list[asyncio.Future[None]]


@dataclass
class _Compact:
    revision: int
    after: int
    future: concurrent.futures.Future[None]


class _Reset:
    """Marker: the loop has rolled back; the writer may accept work again."""


_STOP = object()


class SQLiteBackend(mvcc.MVCCStore):
    """See the module docstring. ``window`` bounds the in-memory event history."""

    def __init__(self, path: str | Path, *, window: int = 20_000) -> None:
        super().__init__(window=window)
        self.path = Path(path)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._reader: concurrent.futures.ThreadPoolExecutor | None = None
        self._reader_conn: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: list[Event] = []
        self._outbox_futures: list[asyncio.Future[None]] = []
        self._flush_scheduled = False
        self._failed_writer = False  # only touched by the writer thread

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        # The writer thread needs the GIL for a moment around each commit; with the default
        # 5 ms switch interval a busy event loop delays every commit by several of them.
        if sys.getswitchinterval() > _SWITCH_INTERVAL:
            sys.setswitchinterval(_SWITCH_INTERVAL)
        self._loop = asyncio.get_running_loop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._reader = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kubeds-sqlite-read")
        kvs, revision, compacted = await self._loop.run_in_executor(self._reader, self._open_and_load)
        self._load(kvs, revision=revision, compacted=compacted)
        self._writer = threading.Thread(target=self._writer_main, name="kubeds-sqlite-write", daemon=True)
        self._writer.start()
        self._open = True

    def _open_and_load(self) -> tuple[list[KeyValue], int, int]:
        conn = _connect(self.path)
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        elif row[0] != SCHEMA_VERSION:
            conn.close()
            raise errors.Unavailable(
                f"{self.path} was written with storage schema {row[0]}; this kubeds reads schema "
                f"{SCHEMA_VERSION}. Use a data dir made by this version, or the matching kubeds."
            )
        kvs = [KeyValue(name, value, crev, rid) for rid, name, crev, value in conn.execute(_LOAD_CURRENT)]
        max_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM kv").fetchone()[0]
        crow = conn.execute("SELECT value FROM meta WHERE key = 'compact_revision'").fetchone()
        compacted = crow[0] if crow else 0
        self._reader_conn = conn
        return kvs, max(max_id, compacted), compacted

    async def close(self) -> None:
        if not self._open:
            return
        self._flush_outbox()
        self._open = False
        self._queue.put(_STOP)
        loop = asyncio.get_running_loop()
        if self._writer is not None:
            await loop.run_in_executor(None, self._writer.join)
        if self._reader is not None:
            if self._reader_conn is not None:
                await loop.run_in_executor(self._reader, self._reader_conn.close)
            self._reader.shutdown(wait=True)
        self._broadcaster.close_all()

    # -- writes -----------------------------------------------------------------------------

    async def _persist(self, event: Event) -> None:
        assert self._loop is not None
        fut: asyncio.Future[None] = self._loop.create_future()
        self._outbox.append(event)
        self._outbox_futures.append(fut)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            # Writes made in this loop iteration travel to the writer as one item.
            self._loop.call_soon(self._flush_outbox)
        await fut

    def _flush_outbox(self) -> None:
        self._flush_scheduled = False
        if not self._outbox:
            return
        self._queue.put(_Write(self._outbox, self._outbox_futures))
        self._outbox, self._outbox_futures = [], []

    def _writer_main(self) -> None:
        conn = _connect(self.path)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                if isinstance(item, _Reset):
                    self._failed_writer = False
                    continue
                if isinstance(item, _Compact):
                    self._run_compaction(conn, item)
                    continue
                batch: list[_Write] = [item]
                stop = False
                # Group commit: take everything that is already waiting.
                while True:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(nxt, _Write):
                        batch.append(nxt)
                        continue
                    self._commit(conn, batch)
                    batch = []
                    if nxt is _STOP:
                        stop = True
                    elif isinstance(nxt, _Reset):
                        self._failed_writer = False
                    elif isinstance(nxt, _Compact):
                        self._run_compaction(conn, nxt)
                    break
                if batch:
                    self._commit(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Write]) -> None:
        assert self._loop is not None
        error: BaseException | None = None
        if self._failed_writer:
            error = errors.Unavailable("an earlier write failed to persist; retry")
        else:
            rows = []
            for w in batch:
                for ev in w.events:
                    kv = ev.kv
                    prev = ev.prev.mod_revision if ev.prev is not None else 0
                    rows.append(
                        (
                            kv.mod_revision,
                            kv.key,
                            1 if ev.type is EventType.CREATE else 0,
                            1 if ev.type is EventType.DELETE else 0,
                            kv.create_revision,
                            prev,
                            kv.value,
                        )
                    )
            try:
                conn.execute("BEGIN IMMEDIATE")
                for start in range(0, len(rows), _ROWS_PER_INSERT):
                    chunk = rows[start : start + _ROWS_PER_INSERT]
                    conn.execute(_insert_rows(len(chunk)), [v for row in chunk for v in row])
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                log.error("sqlite commit failed: %s", exc)
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self._failed_writer = True
                error = errors.Unavailable(f"failed to persist write: {exc}")
        try:
            self._loop.call_soon_threadsafe(self._on_committed, batch, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _on_committed(self, batch: list[_Write], error: BaseException | None) -> None:
        if error is None:
            events = [ev for w in batch for ev in w.events]
            self._apply_committed(events)
            for w in batch:
                for f in w.futures:
                    if not f.done():
                        f.set_result(None)
            return
        # Everything sequenced after the last durable write is void; tell the writer thread
        # to accept work again once the queued (now void) batches have drained.
        if self._rev != self._committed:
            self._rollback_pending()
            self._queue.put(_Reset())
        for w in batch:
            for f in w.futures:
                if not f.done():
                    f.set_exception(error)

    # -- compaction -------------------------------------------------------------------------

    async def compact(self, revision: int) -> None:
        self._check_open()
        if revision > self._committed:
            raise errors.FutureRevision(revision, self._committed)
        if revision <= self._compacted:
            return
        fut: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._queue.put(_Compact(revision, self._compacted, fut))
        await asyncio.wrap_future(fut)
        self._compact_window(revision)

    def _run_compaction(self, conn: sqlite3.Connection, item: _Compact) -> None:
        try:
            ids = [r[0] for r in conn.execute(_COMPACTABLE, (0, item.revision, item.revision))]
            conn.execute("BEGIN IMMEDIATE")
            for i in range(0, len(ids), _COMPACT_CHUNK):
                chunk = ids[i : i + _COMPACT_CHUNK]
                conn.execute(f"DELETE FROM kv WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('compact_revision', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (item.revision,),
            )
            conn.execute("COMMIT")
            item.future.set_result(None)
        except sqlite3.Error as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            item.future.set_exception(errors.Unavailable(f"compaction failed: {exc}"))

    # -- history reads ----------------------------------------------------------------------

    async def _history_list(self, prefix: str, *, revision: int, start: str, limit: int) -> ListResult:
        assert self._loop is not None
        begin = max(prefix, start)
        end = prefix_end(prefix)

        def read() -> ListResult:
            assert self._reader_conn is not None
            rows = self._reader_conn.execute(_LIST_AT, (begin, end, revision, limit + 1 if limit else -1))
            kvs = [KeyValue(name, value, crev, rid) for rid, name, crev, value in rows]
            more = bool(limit) and len(kvs) > limit
            return ListResult(kvs[:limit] if limit else kvs, revision, more)

        result = await self._loop.run_in_executor(self._reader, read)
        if revision < self._compacted:  # compacted while we were reading
            raise errors.Compacted(revision, self._compacted)
        return result

    async def _history_events(self, prefix: str, *, after: int, upto: int) -> list[Event]:
        assert self._loop is not None
        end = prefix_end(prefix)

        def read() -> list[Event]:
            assert self._reader_conn is not None
            out: list[Event] = []
            cursor = after
            while True:
                rows = self._reader_conn.execute(
                    _EVENTS_AFTER, (cursor, upto, prefix, end, _REPLAY_PAGE)
                ).fetchall()
                for rid, name, created, deleted, crev, value, pid, pcrev, pvalue in rows:
                    kv = KeyValue(name, value, crev, rid)
                    prev = KeyValue(name, pvalue, pcrev, pid) if pid is not None else None
                    if deleted:
                        etype = EventType.DELETE
                    elif created:
                        etype = EventType.CREATE
                    else:
                        etype = EventType.UPDATE
                    out.append(Event(etype, kv, prev))
                if len(rows) < _REPLAY_PAGE:
                    return out
                cursor = rows[-1][0]

        events = await self._loop.run_in_executor(self._reader, read)
        if after < self._compacted:
            raise errors.Compacted(after, self._compacted)
        return events
