"""The storage contract: an etcd-shaped key-value store with one global revision.

This is the narrow part of etcd that an API server really uses (k3s's kine draws the same line):

* keys are strings such as ``/registry/apps/daemonsets/kube-system/kube-proxy``; values are bytes;
* every successful write gets the next value of one global revision counter, which the API
  server exposes as ``metadata.resourceVersion``;
* ``create`` fails if the key exists; ``update`` and ``delete`` are compare-and-swap on the
  key's modification revision, so a stale writer gets :class:`~kubeds.storage.errors.Conflict`
  instead of overwriting a newer value;
* ``list`` is consistent at one revision (the current one, or a past one that has not been
  compacted), sorted by key, with ``limit`` and a ``start`` key for continuation;
* ``watch`` streams every change after a revision, in revision order, in batches, with the
  previous value on updates and deletes;
* ``compact`` forgets history at and below a revision; asking for it afterwards raises
  :class:`~kubeds.storage.errors.Compacted`.

An etcd backend maps one to one: create is a transaction on ``create_revision == 0``, update and
delete are transactions on ``mod_revision == expected``, list is a range read at a revision, and
watch is etcd's watch from ``revision + 1`` with ``prev_kv``.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Backend", "Event", "EventType", "KeyValue", "ListResult", "WatchStream", "prefix_end"]


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One version of one key."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int


class EventType(enum.Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@dataclass(frozen=True, slots=True)
class Event:
    """One change. For ``DELETE``, ``kv`` holds the last value with the delete's revision."""

    type: EventType
    kv: KeyValue
    prev: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    """Keys under a prefix at ``revision``; ``more`` says keys remain after the last one."""

    kvs: list[KeyValue]
    revision: int
    more: bool


class WatchStream(Protocol):
    """Batches of events in revision order, until closed.

    Iteration ends when the stream is closed by its owner; it raises
    :class:`~kubeds.storage.errors.Unavailable` when the backend drops a watcher that fell too
    far behind (the client then watches again from the last revision it saw).
    """

    def __aiter__(self) -> AsyncIterator[list[Event]]: ...

    def take(self) -> list[Event] | None:
        """Everything queued, as one batch, without waiting; None when nothing is (raises the
        stream's error, or StopAsyncIteration, once it has ended)."""
        ...

    async def wait(self) -> None:
        """Until :meth:`take` has something, the stream ends, or :meth:`poke` is called."""
        ...

    def poke(self) -> None:
        """Wake a :meth:`wait`."""
        ...

    def close(self) -> None: ...


class Backend(Protocol):
    """What every storage backend implements; see the module docstring for the semantics."""

    async def start(self) -> None:
        """Open files or connections and load state; must be called before anything else."""
        ...

    async def close(self) -> None:
        """Flush what was acknowledged and release resources; pending watches end."""
        ...

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None: ...

    async def create(self, key: str, value: bytes) -> KeyValue: ...

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        """Replace the value if the key's ``mod_revision`` is ``expected_revision``.

        ``expected_revision=0`` means unconditional (the key must still exist).
        """
        ...

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        """Delete the key; returns the deleted value with the delete's revision."""
        ...

    async def list(self, prefix: str, *, revision: int = 0, start: str = "", limit: int = 0) -> ListResult:
        """Keys ``>= max(prefix, start)`` under ``prefix``, at ``revision`` (0: current)."""
        ...

    async def count(self, prefix: str) -> int: ...

    async def watch(self, prefix: str, *, revision: int) -> WatchStream:
        """Every change under ``prefix`` with a revision greater than ``revision``."""
        ...

    async def current_revision(self) -> int: ...

    async def compacted_revision(self) -> int: ...

    async def compact(self, revision: int) -> None:
        """Forget history at and below ``revision`` (current values are kept)."""
        ...


def prefix_end(prefix: str) -> str:
    """The smallest key greater than every key starting with ``prefix`` (etcd's range end)."""
    if not prefix:
        return "\U0010ffff"
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
