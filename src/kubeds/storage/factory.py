"""Build a backend from the command line's ``--storage`` choice."""

from __future__ import annotations

from pathlib import Path

from kubeds.storage.interface import Backend
from kubeds.storage.memory import MemoryBackend
from kubeds.storage.sqlite import SQLiteBackend

__all__ = ["DB_FILENAME", "KINDS", "open_backend"]

KINDS = ("sqlite", "memory", "etcd")
DB_FILENAME = "state.db"


def open_backend(
    kind: str, *, data_dir: Path | None = None, etcd_endpoints: list[str] | None = None
) -> Backend:
    """A backend that is not started yet (call ``await backend.start()``)."""
    if kind == "memory":
        return MemoryBackend()
    if kind == "sqlite":
        if data_dir is None:
            raise ValueError("the sqlite backend needs a data dir")
        return SQLiteBackend(data_dir / DB_FILENAME)
    if kind == "etcd":
        if not etcd_endpoints:
            raise ValueError("the etcd backend needs --etcd-endpoints (for example http://127.0.0.1:2379)")
        from kubeds.storage.etcd import EtcdBackend  # gRPC is only imported when etcd is used

        return EtcdBackend(etcd_endpoints)
    raise ValueError(f"unknown storage {kind!r}: choose one of {', '.join(KINDS)}")
