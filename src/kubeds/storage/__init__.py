"""Storage: an etcd-shaped MVCC key-value store (see :mod:`kubeds.storage.interface`).

It knows keys, bytes and revisions, never Kubernetes objects (an import contract enforces it).
"""

from kubeds.storage.errors import (
    Compacted,
    Conflict,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    StorageError,
    Unavailable,
)
from kubeds.storage.interface import Backend, Event, EventType, KeyValue, ListResult, WatchStream
from kubeds.storage.memory import MemoryBackend
from kubeds.storage.sqlite import SQLiteBackend

__all__ = [
    "Backend",
    "Compacted",
    "Conflict",
    "Event",
    "EventType",
    "FutureRevision",
    "KeyExists",
    "KeyNotFound",
    "KeyValue",
    "ListResult",
    "MemoryBackend",
    "SQLiteBackend",
    "StorageError",
    "Unavailable",
    "WatchStream",
]
