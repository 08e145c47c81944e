"""Shared pieces of the simulator tests: a real API server in-process, a counting transport, helpers."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from kubeds import wire
from kubeds.apiserver.handler import APIServer
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.nodes import templates
from kubeds.nodes.simulator import NodeSimulator, NodeSimulatorConfig
from kubeds.storage.memory import MemoryBackend


class CountingTransport(InProcessTransport):
    """Counts requests by (method, resource) so tests can bound the API calls made."""

    def __init__(self, handler: Any) -> None:
        super().__init__(handler)
        self.calls: collections.Counter[tuple[str, str]] = collections.Counter()

    async def request(self, req: wire.Request) -> wire.Response:
        parts = [p for p in req.path.split("/") if p]
        resource = parts[-1]
        for plural in ("leases", "nodes", "pods", "events"):
            if plural in parts:
                resource = plural + ("/status" if parts[-1] == "status" else "")
        if req.param("watch") in ("true", "1"):
            resource += "?watch"
        self.calls[(req.method, resource)] += 1
        return await super().request(req)


@dataclass
class Env:
    clock: FakeClock
    api: ApiClient
    transport: CountingTransport
    sims: list[NodeSimulator] = field(default_factory=list)

    def res(self, plural: str) -> Any:
        version = "coordination.k8s.io/v1" if plural == "leases" else "v1"
        return self.api.resource(version, plural)

    async def start(self, **config: Any) -> NodeSimulator:
        config.setdefault("seed", 1)
        sim = NodeSimulator(self.api, NodeSimulatorConfig(**config), clock=self.clock)
        self.sims.append(sim)
        task = asyncio.get_running_loop().create_task(sim.run())
        self._tasks.append(task)
        await asyncio.wait_for(sim.wait_ready(), 10)
        await settle()
        return sim

    async def advance(self, seconds: float, *, step: float = 1.0) -> None:
        """Move the fake clock in steps, letting the loop run between them."""
        left = seconds
        while left > 1e-9:
            d = min(step, left)
            self.clock.advance(d)
            left -= d
            await settle()

    async def node(self, name: str) -> dict[str, Any]:
        return dict(await self.res("nodes").get(name))

    async def lease(self, name: str) -> dict[str, Any]:
        return dict(await self.res("leases").get(name, namespace=templates.LEASE_NAMESPACE))

    async def pod(self, name: str, namespace: str = "default") -> dict[str, Any]:
        return dict(await self.res("pods").get(name, namespace=namespace))

    _tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def settle(rounds: int = 60) -> None:
    """Let every ready callback run (the in-process server answers without real I/O)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def eventually(predicate: Callable[[], Any], rounds: int = 3000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


@contextlib.asynccontextmanager
async def environment() -> AsyncIterator[Env]:
    clock = FakeClock()
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock)
    await server.start()
    transport = CountingTransport(server.handle)
    env = Env(clock=clock, api=ApiClient(transport, clock=clock), transport=transport)
    try:
        yield env
    finally:
        for sim in env.sims:
            await sim.stop()
        for task in env._tasks:
            task.cancel()
        await asyncio.gather(*env._tasks, return_exceptions=True)
        await server.close()
        await backend.close()


def condition(obj: dict[str, Any], ctype: str) -> str | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return str(cond.get("status"))
    return None


def bare_node(name: str, **annotations: str) -> dict[str, Any]:
    """A Node as ``kubectl apply`` would create it: no status at all."""
    meta: dict[str, Any] = {"name": name, "labels": {"kubernetes.io/hostname": name}}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta}


def pod_on(name: str, node: str, *, image: str = "nginx:1.27", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": image}], **spec},
    }
