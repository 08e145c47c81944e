"""The default PriorityClass lookup: no storage list per pod, never stale on the server that changed a
PriorityClass, at most ``LOOKUP_TTL`` stale for another server on the same store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import Client, pod

from kubeds.apiserver import admission
from kubeds.apiserver.handler import APIServer
from kubeds.clock import FakeClock
from kubeds.storage.memory import MemoryBackend

PRIORITY_CLASSES = "/apis/scheduling.k8s.io/v1/priorityclasses"
PODS = "/api/v1/namespaces/default/pods"


def default_class(name: str, value: int) -> dict[str, object]:
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": name},
        "value": value,
        "globalDefault": True,
    }


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


async def test_pods_do_not_list_priority_classes_each(
    two_servers: tuple[Client, Client, MemoryBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _, backend = two_servers
    assert (await a.post(PODS, pod("p0"))).status == 201
    lists: list[str] = []
    real_list = backend.list

    async def counting(prefix: str, **kw: object) -> object:
        lists.append(prefix)
        return await real_list(prefix, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(backend, "list", counting)
    for i in range(1, 4):
        assert (await a.post(PODS, pod(f"p{i}"))).status == 201
    assert not [p for p in lists if "priorityclasses" in p]


async def test_this_servers_change_applies_at_once_another_servers_within_the_ttl(
    two_servers: tuple[Client, Client, MemoryBackend], clock: FakeClock
) -> None:
    a, b, _ = two_servers
    assert (await a.post(PODS, pod("before"))).body["spec"]["priority"] == 0
    assert (await b.post(PODS, pod("b-before"))).body["spec"]["priority"] == 0
    assert (await b.post(PRIORITY_CLASSES, default_class("everyone", 7))).status == 201
    created = await b.post(PODS, pod("on-b"))
    assert (created.body["spec"]["priority"], created.body["spec"]["priorityClassName"]) == (7, "everyone")
    # a learns it within LOOKUP_TTL, as an informer-fed admission plugin would after its lag.
    assert (await a.post(PODS, pod("on-a-soon"))).body["spec"]["priority"] == 0
    clock.advance(admission.LOOKUP_TTL)
    assert (await a.post(PODS, pod("on-a-later"))).body["spec"]["priority"] == 7
    # a deletes it: a knows at once.
    assert (await a.delete(f"{PRIORITY_CLASSES}/everyone")).status == 200
    assert (await a.post(PODS, pod("after-delete"))).body["spec"]["priority"] == 0
