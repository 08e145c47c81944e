"""Fixtures for the node controllers: a real APIServer on a MemoryBackend, reached in-process, on a FakeClock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kubeds.apiserver.handler import APIServer
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.storage.memory import MemoryBackend


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[ApiClient]:
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock)
    await server.start()
    client = ApiClient(InProcessTransport(server.handle), clock=clock)
    yield client
    await server.close()
    await backend.close()
