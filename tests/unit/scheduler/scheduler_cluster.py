"""A real in-process API server (MemoryBackend, FakeClock) with a running Scheduler, for component tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from kubeds.apiserver.handler import APIServer
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.scheduler.scheduler import Scheduler, SchedulerConfig
from kubeds.storage.memory import MemoryBackend

NAMESPACE = "default"
DEFAULT_ALLOCATABLE = {"cpu": "4", "memory": "16Gi", "pods": "110"}
UNSCHEDULABLE_TOLERATION = {
    "key": "node.kubernetes.io/unschedulable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def node_body(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
    allocatable: dict[str, str] | None = None,
) -> dict[str, Any]:
    alloc = allocatable or DEFAULT_ALLOCATABLE
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {
            "capacity": alloc,
            "allocatable": alloc,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod_body(
    name: str,
    *,
    requests: dict[str, str] | None = None,
    node_name: str = "",
    **spec: Any,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "busybox:1.36"}
    if requests:
        container["resources"] = {"requests": requests}
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"containers": [container], **spec},
    }
    if node_name:
        body["spec"]["nodeName"] = node_name
    return body


def pinned_affinity(node: str) -> dict[str, Any]:
    """The node affinity the DaemonSet controller gives its pods."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


class Cluster:
    def __init__(self, client: ApiClient, scheduler: Scheduler, clock: FakeClock) -> None:
        self.client = client
        self.scheduler = scheduler
        self.clock = clock
        self.nodes = client.resource("v1", "nodes")
        self.pods = client.resource("v1", "pods")
        self.events = client.resource("v1", "events")

    async def add_node(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """Create a Node and wait until the scheduler's cache has it (informers race each other)."""
        node = await self.nodes.create(node_body(name, **kwargs))
        for _ in range(1000):
            if self.scheduler.cache.get(name) is not None:
                return node
            await asyncio.sleep(0)
        raise AssertionError(f"scheduler never saw node {name}")

    async def create_pod(self, name: str, **kwargs: Any) -> dict[str, Any]:
        return await self.pods.create(pod_body(name, **kwargs))

    async def pod(self, name: str) -> dict[str, Any]:
        return await self.pods.get(name, namespace=NAMESPACE)

    async def node_of(self, name: str) -> str:
        return str((await self.pod(name))["spec"].get("nodeName") or "")

    async def settle(self, rounds: int = 400) -> None:
        """Let informers, the scheduling loop, bindings and event writes run (no clock movement)."""
        for _ in range(rounds):
            await asyncio.sleep(0)
        await self.scheduler.flush_events()
        for _ in range(rounds // 4):
            await asyncio.sleep(0)

    async def eventually(self, predicate: Callable[[], Any], *, rounds: int = 20) -> None:
        for _ in range(rounds):
            await self.settle()
            if await predicate():
                return
        raise AssertionError("condition never became true")

    async def wait_bound(self, *names: str) -> dict[str, str]:
        async def all_bound() -> bool:
            return all([await self.node_of(n) for n in names])

        await self.eventually(all_bound)
        return {n: await self.node_of(n) for n in names}

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.settle()

    async def pod_events(self, name: str) -> list[dict[str, Any]]:
        await self.scheduler.flush_events()
        items = (await self.events.list(namespace=NAMESPACE))["items"]
        found = [e for e in items if e["involvedObject"].get("name") == name]
        return sorted(found, key=lambda e: e["metadata"]["name"])

    async def scheduled_condition(self, name: str) -> dict[str, Any] | None:
        conditions = (await self.pod(name)).get("status", {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "PodScheduled"), None)


@asynccontextmanager
async def running_cluster(config: SchedulerConfig | None = None) -> AsyncIterator[Cluster]:
    clock = FakeClock()
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock)
    await server.start()
    client = ApiClient(InProcessTransport(server.handle))
    scheduler = Scheduler(client, config or SchedulerConfig(seed=7), clock=clock)
    task = asyncio.create_task(scheduler.run())
    try:
        await scheduler.wait_for_sync()
        yield Cluster(client, scheduler, clock)
    finally:
        await scheduler.stop()
        await task
        await server.close()
        await backend.close()
