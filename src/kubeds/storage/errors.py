"""Storage errors, mapped one to one onto etcd's and onto the API's statuses.

::

    StorageError
    ├── KeyExists        create on a key that exists             -> 409 AlreadyExists
    ├── KeyNotFound      update/delete of a missing key          -> 404 NotFound
    ├── Conflict         expected revision is stale              -> 409 Conflict
    ├── Compacted        list/watch below the compacted revision -> 410 Gone (Expired)
    ├── FutureRevision   list at a revision not reached yet      -> 504 Timeout (as upstream)
    └── Unavailable      the backend cannot serve (closed, I/O)  -> 503/500

The API layer translates these exactly once, at its boundary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeds.storage.interface import KeyValue

__all__ = [
    "Compacted",
    "Conflict",
    "FutureRevision",
    "KeyExists",
    "KeyNotFound",
    "StorageError",
    "Unavailable",
]


class StorageError(Exception):
    """Base of every storage error."""


class KeyExists(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class Conflict(StorageError):
    """The expected modification revision did not match; ``current`` is what is stored now."""

    def __init__(self, key: str, expected: int, current: KeyValue | None) -> None:
        actual = current.mod_revision if current else 0
        super().__init__(f"revision conflict on {key}: expected {expected}, stored {actual}")
        self.key = key
        self.expected = expected
        self.current = current


class Compacted(StorageError):
    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"required revision {requested} has been compacted (compacted revision {compacted})")
        self.requested = requested
        self.compacted = compacted


class FutureRevision(StorageError):
    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"required revision {requested} is a future revision (current {current})")
        self.requested = requested
        self.current = current


class Unavailable(StorageError):
    """The backend is closed or failed to persist; nothing was acknowledged."""
