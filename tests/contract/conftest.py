"""Backends under test. Every contract test runs against each of them.

``reopen`` closes the backend and opens a new one on the same state (a restart); for the memory
backend, whose state dies with it, tests that need a restart ask for ``persistent_backend``.

The etcd backend runs against one real etcd server per test session (``etcd_server.py``); each
test gets its own key prefix in it, so tests do not see each other's keys (revisions and
compaction are global to the server, which the contract tolerates: it only compares revisions a
test made itself). Reopening an etcd backend is closing it and connecting again to the same
server with the same prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from etcd_server import EtcdMember, find_etcd, start_cluster

from kubeds.storage import MemoryBackend, SQLiteBackend
from kubeds.storage.etcd import EtcdBackend
from kubeds.storage.interface import Backend

BACKENDS = ["memory", "sqlite", "etcd"]


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdMember]:
    """One real etcd for the session; fails (never skips) when the binary is missing."""
    try:
        find_etcd()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    (member,) = start_cluster(tmp_path_factory.mktemp("etcd"), size=1)
    yield member
    member.stop()


def _factory(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Backend]:
    if kind == "memory":
        return MemoryBackend
    if kind == "sqlite":
        return lambda: SQLiteBackend(tmp_path / "state.db")
    server: EtcdMember = request.getfixturevalue("etcd_server")
    prefix = f"/kubeds-test/{uuid.uuid4().hex}"
    return lambda: EtcdBackend([server.client_url], prefix=prefix)


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    b = _factory(request.param, request, tmp_path)()
    await b.start()
    yield b
    await b.close()


Reopen = Callable[[], Awaitable[Backend]]


@pytest.fixture(params=[k for k in BACKENDS if k != "memory"])
async def persistent_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Backend, Reopen]]:
    make = _factory(request.param, request, tmp_path)
    current: list[Backend] = [make()]
    await current[0].start()

    async def reopen() -> Backend:
        await current[0].close()
        current[0] = make()
        await current[0].start()
        return current[0]

    yield current[0], reopen
    await current[0].close()


@pytest.fixture
async def etcd(etcd_server: EtcdMember) -> AsyncIterator[EtcdBackend]:
    """An etcd backend alone (not the contract's parametrised ``backend``), on a prefix of its own."""
    b = EtcdBackend([etcd_server.client_url], prefix=f"/kubeds-test/{uuid.uuid4().hex}")
    await b.start()
    yield b
    await b.close()
