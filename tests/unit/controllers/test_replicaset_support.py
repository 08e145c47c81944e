"""Builders and helpers shared by the ReplicaSet, Deployment and disruption controller tests (no tests).

Pods are made Running/Ready by the tests themselves, through status writes, since no simulated node
runs here; controllers run as tasks against a real in-process API server on a MemoryBackend.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock, format_time

NS = "default"
CONTAINERS = [{"name": "c", "image": "nginx:1.25"}]


class Runnable(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...


def template(labels: dict[str, str], *, image: str = "nginx:1.25") -> dict[str, Any]:
    return {"metadata": {"labels": dict(labels)}, "spec": {"containers": [{"name": "c", "image": image}]}}


def replicaset(name: str, replicas: int, labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": template(labels),
            **spec,
        },
    }


def deployment(name: str, replicas: int, labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": template(labels),
            **spec,
        },
    }


def pod(name: str, labels: dict[str, str], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": dict(labels), **meta},
        "spec": {"containers": CONTAINERS},
    }


async def eventually(check: Callable[[], Awaitable[bool]], *, rounds: int = 300) -> None:
    """Await ``check`` between scheduler turns until it holds (no clock involved)."""
    for _ in range(rounds):
        if await check():
            return
        for _ in range(20):
            await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def list_pods(api: ApiClient, selector: str = "") -> list[dict[str, Any]]:
    result = await api.resource("v1", "pods").list(namespace=NS, label_selector=selector)
    return list(result.get("items") or [])


async def live_pods(api: ApiClient, selector: str = "") -> list[dict[str, Any]]:
    return [p for p in await list_pods(api, selector) if not p["metadata"].get("deletionTimestamp")]


async def set_ready(api: ApiClient, clock: FakeClock, pod_obj: dict[str, Any], *, ready: bool = True) -> None:
    """Bind-free Running + Ready (or not Ready) status, as a kubelet would report it."""
    pods = api.resource("v1", "pods")
    fresh = await pods.get(pod_obj["metadata"]["name"], namespace=NS)
    now = format_time(clock.now())
    fresh["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now}],
    }
    await pods.update_status(fresh)


async def ready_all(api: ApiClient, clock: FakeClock, selector: str = "") -> int:
    """Make every live, not yet Ready pod Ready; returns how many changed."""
    changed = 0
    for p in await live_pods(api, selector):
        conds = (p.get("status") or {}).get("conditions") or []
        if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            await set_ready(api, clock, p)
            changed += 1
    return changed


@contextlib.asynccontextmanager
async def running(*controllers: Runnable) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(c.run()) for c in controllers]
    try:
        yield
    finally:
        for c in controllers:
            await c.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
