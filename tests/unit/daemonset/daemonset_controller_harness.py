"""A real in-process API server (MemoryBackend, FakeClock) with a DaemonSet controller, for the loop tests.

Nodes are plain Node objects created through the API; there is no scheduler or kubelet, so pods stay
unbound (pinned to their node by affinity) and the tests make them Ready through the status
subresource. :class:`HookTransport` lets a test fail or intercept chosen requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kubeds import wire
from kubeds.apiserver.handler import APIServer
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock, format_time
from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.controller import DaemonSetController, DaemonSetControllerConfig
from kubeds.controllers.daemonset.podtemplate import get_target_node_name
from kubeds.storage.memory import MemoryBackend

NS = "default"
LABELS = {"name": "simple-daemon", "type": "production"}

Hook = Callable[[wire.Request], Awaitable[wire.Response | None]]


class HookTransport:
    """Forwards to the server; ``hook(req)`` may answer instead (return a Response) or act first."""

    def __init__(self, server: APIServer) -> None:
        self._inner = InProcessTransport(server.handle)
        self.hook: Hook | None = None
        self.after: Callable[[wire.Request, wire.Response], Awaitable[None]] | None = None
        self.requests: list[tuple[str, str]] = []

    async def request(self, req: wire.Request) -> wire.Response:
        self.requests.append((req.method, req.path))
        if self.hook is not None:
            answer = await self.hook(req)
            if answer is not None:
                return answer
        resp = await self._inner.request(req)
        if self.after is not None:
            await self.after(req, resp)
        return resp

    async def close(self) -> None:
        await self._inner.close()


def status_response(code: int, reason: str, message: str) -> wire.Response:
    import json

    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return wire.Response(
        status=code, headers={"content-type": "application/json"}, body=json.dumps(body).encode()
    )


def daemonset(
    name: str = "foo",
    *,
    image: str = "foo/bar:v1",
    strategy: dict[str, Any] | None = None,
    node_selector: dict[str, str] | None = None,
    tolerations: list[dict[str, Any]] | None = None,
    min_ready_seconds: int = 0,
    revision_history_limit: int | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "foo", "image": image}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "selector": {"matchLabels": dict(LABELS)},
            "template": {"metadata": {"labels": dict(LABELS)}, "spec": spec},
        },
    }
    if strategy is not None:
        body["spec"]["updateStrategy"] = strategy
    if min_ready_seconds:
        body["spec"]["minReadySeconds"] = min_ready_seconds
    if revision_history_limit is not None:
        body["spec"]["revisionHistoryLimit"] = revision_history_limit
    return body


def node(
    name: str, labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "allocatable": {"pods": "110"}},
    }
    if taints:
        body["spec"]["taints"] = taints
    return body


@dataclass
class Cluster:
    server: APIServer
    transport: HookTransport
    api: ApiClient
    clock: FakeClock
    controller: DaemonSetController | None = None
    task: asyncio.Task[None] | None = None
    extra: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def pods(self) -> Any:
        return self.api.resource("v1", "pods")

    @property
    def nodes(self) -> Any:
        return self.api.resource("v1", "nodes")

    @property
    def daemonsets(self) -> Any:
        return self.api.resource("apps/v1", "daemonsets")

    @property
    def revisions(self) -> Any:
        return self.api.resource("apps/v1", "controllerrevisions")

    def make_controller(self, config: DaemonSetControllerConfig | None = None) -> DaemonSetController:
        self.controller = DaemonSetController(
            self.api, config or DaemonSetControllerConfig(), clock=self.clock
        )
        return self.controller

    async def start(self, config: DaemonSetControllerConfig | None = None) -> DaemonSetController:
        ctrl = self.controller or self.make_controller(config)
        self.task = asyncio.get_running_loop().create_task(ctrl.run())
        await ctrl.factory.wait_for_cache_sync()
        return ctrl

    async def stop(self) -> None:
        if self.controller is not None and self.task is not None:
            await self.controller.stop()
            await self.task
        for task in self.extra:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def add_nodes(self, count: int, *, start: int = 0, labels: dict[str, str] | None = None) -> None:
        for i in range(start, start + count):
            await self.nodes.create(node(f"node-{i}", labels))

    async def list_pods(self) -> list[dict[str, Any]]:
        return list((await self.pods.list(namespace=NS))["items"])

    async def pods_by_node(self) -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = {}
        for pod in await self.list_pods():
            result.setdefault(get_target_node_name(pod), []).append(pod)
        return result

    async def settle(self, *, rounds: int = 20000, quiet: int = 300) -> None:
        """Run the loop until the controller's queue stays empty and idle for ``quiet`` rounds."""
        assert self.controller is not None
        queue = self.controller.queue
        stable = 0
        for _ in range(rounds):
            await asyncio.sleep(0)
            busy = len(queue) > 0 or any(
                queue.is_processing(k) for k in self.controller.ds_informer.indexer.keys()
            )
            stable = 0 if busy else stable + 1
            if stable >= quiet:
                return
        raise AssertionError("controller did not settle")

    async def eventually(self, predicate: Callable[[], Awaitable[bool]], *, rounds: int = 400) -> None:
        for _ in range(rounds):
            if await predicate():
                return
            for _ in range(50):
                await asyncio.sleep(0)
        raise AssertionError("condition not reached")

    async def mark_ready(self, pod: dict[str, Any], *, ready: bool = True) -> None:
        fresh = await self.pods.get(pod["metadata"]["name"], namespace=NS)
        fresh["status"] = {
            "phase": "Running",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": format_time(self.clock.now()),
                }
            ],
        }
        await self.pods.update_status(fresh)

    async def mark_all_ready(self) -> int:
        count = 0
        for pod in await self.list_pods():
            if pod["metadata"].get("deletionTimestamp"):
                continue
            conds = (pod.get("status") or {}).get("conditions") or []
            if not any(cd.get("type") == "Ready" and cd.get("status") == "True" for cd in conds):
                await self.mark_ready(pod)
                count += 1
        return count

    async def events(self, reason: str | None = None) -> list[dict[str, Any]]:
        assert self.controller is not None
        await self.controller.recorder.flush()
        items = (await self.api.resource("v1", "events").list(namespace=NS))["items"]
        return [e for e in items if reason is None or e["reason"] == reason]


def hash_of(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["labels"].get(c.CONTROLLER_REVISION_HASH_LABEL))


def is_ready(pod: dict[str, Any]) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(cd.get("type") == "Ready" and cd.get("status") == "True" for cd in conds)


async def new_cluster() -> tuple[Cluster, MemoryBackend]:
    clock = FakeClock()
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock)
    await server.start()
    transport = HookTransport(server)
    api = ApiClient(transport, clock=clock)
    return Cluster(server=server, transport=transport, api=api, clock=clock), backend
