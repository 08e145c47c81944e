"""SQLite group commit writes each batch with multi-row INSERTs: batches of one row, of exactly one
INSERT's worth, and of several INSERTs' worth all land on disk, in revision order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubeds.storage import sqlite
from kubeds.storage.sqlite import SQLiteBackend


@pytest.mark.parametrize("writes", [1, sqlite._ROWS_PER_INSERT, 2 * sqlite._ROWS_PER_INSERT + 3])
async def test_a_batch_of_any_size_is_stored_whole(tmp_path: Path, writes: int) -> None:
    path = tmp_path / "kv.db"
    backend = SQLiteBackend(path)
    await backend.start()
    # Written concurrently: one loop iteration, so one batch for the writer thread.
    created = await asyncio.gather(*(backend.create(f"/k/{i:04d}", f"v{i}".encode()) for i in range(writes)))
    updated = await backend.update("/k/0000", b"again", expected_revision=created[0].mod_revision)
    await backend.close()

    reopened = SQLiteBackend(path)
    await reopened.start()
    try:
        listed = await reopened.list("/k/")
        assert [kv.key for kv in listed.kvs] == [f"/k/{i:04d}" for i in range(writes)]
        assert listed.kvs[0].value == b"again" and listed.kvs[0].mod_revision == updated.mod_revision
        assert [kv.value for kv in listed.kvs[1:]] == [f"v{i}".encode() for i in range(1, writes)]
        assert sorted(kv.mod_revision for kv in created) == [kv.mod_revision for kv in created]
    finally:
        await reopened.close()
