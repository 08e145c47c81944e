"""Admission's namespace and default-PriorityClass lookups: no storage read per create, never stale
on the server that made the change, at most ``LOOKUP_TTL`` stale for another server on the store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import Client, pod

from kubeds.apiserver import admission
from kubeds.apiserver.handler import APIServer
from kubeds.clock import FakeClock
from kubeds.storage.memory import MemoryBackend

TERMINATING = "unable to create new content in namespace team because it is being terminated"


@pytest.fixture
async def two_servers(clock: FakeClock) -> AsyncIterator[tuple[Client, Client, MemoryBackend]]:
    backend = MemoryBackend()
    await backend.start()
    a = APIServer(backend, clock=clock, server_address="127.0.0.1:6443")
    b = APIServer(backend, clock=clock, server_address="127.0.0.1:6444")
    await a.start()
    await b.start()
    yield Client(a), Client(b), backend
    await a.close()
    await b.close()
    await backend.close()


async def test_creates_do_not_read_the_namespace_again(
    two_servers: tuple[Client, Client, MemoryBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _, backend = two_servers
    await a.post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    assert (await a.post("/api/v1/namespaces/team/pods", pod("p0"))).status == 201
    reads: list[str] = []
    real_get, real_list = backend.get, backend.list

    async def get(key: str) -> object:
        reads.append(key)
        return await real_get(key)

    async def list_(prefix: str, **kw: object) -> object:
        reads.append(prefix)
        return await real_list(prefix, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(backend, "get", get)
    monkeypatch.setattr(backend, "list", list_)
    for i in range(1, 4):
        assert (await a.post("/api/v1/namespaces/team/pods", pod(f"p{i}"))).status == 201
    assert not [r for r in reads if "namespaces" in r or "priorityclasses" in r]


async def test_this_servers_change_is_seen_at_once_another_servers_within_the_ttl(
    two_servers: tuple[Client, Client, MemoryBackend], clock: FakeClock
) -> None:
    a, b, _ = two_servers
    await a.post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    await a.post("/api/v1/namespaces/team/pods", pod("held", node="n1"))  # keeps it Terminating
    assert (await b.post("/api/v1/namespaces/team/pods", pod("b0"))).status == 201  # b remembers Active
    deleted = await a.delete("/api/v1/namespaces/team")
    assert deleted.body["status"]["phase"] == "Terminating"
    # a deleted it: a knows at once.
    refused = await a.post("/api/v1/namespaces/team/pods", pod("a1"))
    assert (refused.status, refused.body["message"]) == (403, f'pods "a1" is forbidden: {TERMINATING}')
    # b learns it within LOOKUP_TTL, as an informer-fed admission plugin would after its lag.
    assert (await b.post("/api/v1/namespaces/team/pods", pod("b1"))).status == 201
    clock.advance(admission.LOOKUP_TTL)
    refused = await b.post("/api/v1/namespaces/team/pods", pod("b2"))
    assert (refused.status, refused.body["message"]) == (403, f'pods "b2" is forbidden: {TERMINATING}')


async def test_a_missing_namespace_is_read_every_time(
    two_servers: tuple[Client, Client, MemoryBackend],
) -> None:
    a, b, _ = two_servers
    missing = await a.post("/api/v1/namespaces/late/pods", pod("p"))
    assert (missing.status, missing.body["message"]) == (404, 'namespaces "late" not found')
    await b.post("/api/v1/namespaces", {"metadata": {"name": "late"}})  # created on the other server
    assert (await a.post("/api/v1/namespaces/late/pods", pod("p"))).status == 201


async def test_a_new_default_priority_class_applies_to_the_next_pod(
    two_servers: tuple[Client, Client, MemoryBackend], clock: FakeClock
) -> None:
    a, b, _ = two_servers
    assert (await a.post("/api/v1/namespaces/default/pods", pod("before"))).body["spec"]["priority"] == 0
    pc = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "everyone"},
        "value": 7,
        "globalDefault": True,
    }
    assert (await b.post("/apis/scheduling.k8s.io/v1/priorityclasses", pc)).status == 201
    assert (await b.post("/api/v1/namespaces/default/pods", pod("on-b"))).body["spec"]["priority"] == 7
    clock.advance(admission.LOOKUP_TTL)
    assert (await a.post("/api/v1/namespaces/default/pods", pod("on-a"))).body["spec"]["priority"] == 7
