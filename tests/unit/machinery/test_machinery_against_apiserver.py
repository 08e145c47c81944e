"""The machinery against the real API server pipeline (APIServer on a MemoryBackend, reached through
InProcessTransport), so list/watch wire details and Lease/Event validation are the server's own."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kubeds.apiserver.handler import APIServer
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.machinery import events as events_mod, informer as informer_mod, leaderelection
from kubeds.storage.memory import MemoryBackend


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


async def eventually(predicate: Callable[[], bool], rounds: int = 2000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


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


async def test_informer_lists_and_watches_the_real_server(api: ApiClient, clock: FakeClock) -> None:
    pods = api.resource("v1", "pods")
    await pods.create(pod("a"))
    factory = informer_mod.SharedInformerFactory(api, clock=clock, rng=random.Random(0))
    inf = factory.informer("v1", "pods")
    seen: list[tuple[str, str]] = []
    inf.add_event_handler(
        on_add=lambda o: seen.append(("add", o["metadata"]["name"])),
        on_update=lambda old, new: seen.append(("update", new["metadata"]["name"])),
        on_delete=lambda o: seen.append(("delete", o["metadata"]["name"])),
    )
    factory.start()
    assert await factory.wait_for_cache_sync(timeout=30)
    cached = inf.indexer.get("default/a")
    assert cached is not None and cached["kind"] == "Pod" and cached["apiVersion"] == "v1"

    await pods.create(pod("b"))
    await pods.patch("a", {"metadata": {"labels": {"tier": "x"}}}, namespace="default")
    await pods.delete("b", namespace="default", grace_period_seconds=0)
    await eventually(lambda: len(seen) >= 4 and seen[-1][0] == "delete")
    assert seen[:3] == [("add", "a"), ("add", "b"), ("update", "a")]
    assert seen[-1] == ("delete", "b")
    assert inf.indexer.keys() == ["default/a"]
    updated = inf.indexer.get("default/a")
    assert updated is not None and updated["metadata"]["labels"]["tier"] == "x"
    await factory.stop()


async def test_recorder_writes_and_aggregates_on_the_real_server(api: ApiClient, clock: FakeClock) -> None:
    created = await api.resource("v1", "pods").create(pod("web"))
    recorder = events_mod.EventRecorder(api, component="test-controller", clock=clock)
    recorder.start()
    recorder.event(created, "Warning", "BackOff", "Back-off restarting failed container")
    clock.advance(5)
    recorder.event(created, "Warning", "BackOff", "Back-off restarting failed container")
    await recorder.stop()
    listed = await api.resource("v1", "events").list(namespace="default")
    (event,) = listed["items"]
    assert event["count"] == 2
    assert event["involvedObject"]["uid"] == created["metadata"]["uid"]
    assert event["lastTimestamp"] == "2026-01-01T00:00:05Z"


async def test_leader_election_lease_on_the_real_server(api: ApiClient, clock: FakeClock) -> None:
    elector = leaderelection.LeaderElector(
        api, lease_name="kubeds-controller-manager", identity="me", clock=clock
    )
    assert await elector.try_acquire_or_renew()
    lease = await api.resource("coordination.k8s.io/v1", "leases").get(
        "kubeds-controller-manager", namespace="kube-system"
    )
    assert lease["spec"]["holderIdentity"] == "me"
    assert lease["spec"]["leaseDurationSeconds"] == 15
    clock.advance(2)
    assert await elector.try_acquire_or_renew()
    renewed = await api.resource("coordination.k8s.io/v1", "leases").get(
        "kubeds-controller-manager", namespace="kube-system"
    )
    assert renewed["spec"]["renewTime"] > lease["spec"]["renewTime"]
    assert renewed["spec"]["acquireTime"] == lease["spec"]["acquireTime"]
