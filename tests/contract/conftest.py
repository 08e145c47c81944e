"""Backends under test. Every contract test runs against each of them.

``reopen`` closes the backend and opens a new one on the same state (a restart); for the memory
backend, whose state dies with it, tests that need a restart ask for ``persistent_backend``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from kubeds.storage import MemoryBackend, SQLiteBackend
from kubeds.storage.interface import Backend

BACKENDS = ["memory", "sqlite"]


def _make(kind: str, tmp_path: Path) -> Backend:
    if kind == "memory":
        return MemoryBackend()
    return SQLiteBackend(tmp_path / "state.db")


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    b = _make(request.param, tmp_path)
    await b.start()
    yield b
    await b.close()


Reopen = Callable[[], Awaitable[Backend]]


@pytest.fixture(params=[k for k in BACKENDS if k != "memory"])
async def persistent_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Backend, Reopen]]:
    current: list[Backend] = [_make(request.param, tmp_path)]
    await current[0].start()

    async def reopen() -> Backend:
        await current[0].close()
        current[0] = _make(request.param, tmp_path)
        await current[0].start()
        return current[0]

    yield current[0], reopen
    await current[0].close()
