"""Garbage collector end to end on a real in-process API server: background, foreground and orphan.

The scenarios follow upstream's e2e ``test/e2e/apimachinery/garbage_collector.go`` ("should delete pods
created by rc when not orphaning", "should orphan pods created by rc if delete options say so", "should
keep the rc around until all its pods are deleted if the deleteOptions says so", "should not delete
dependents that have both valid owner and owner that's waiting for dependents to be deleted") on the
DaemonSet/ReplicaSet kinds kubeds serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers.garbagecollector import GarbageCollector, GarbageCollectorConfig

NS = "default"
LABELS = {"app": "proxy"}


def daemonset(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/kube-proxy:v1.32.0"}]},
            },
        },
    }


def replicaset(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]},
            },
        },
    }


def owner_ref(owner: dict[str, Any], *, controller: bool = True, block: bool | None = True) -> dict[str, Any]:
    ref: dict[str, Any] = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
    }
    if block is not None:
        ref["blockOwnerDeletion"] = block
    return ref


def pod(name: str, *owners: dict[str, Any], node: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": dict(LABELS), "ownerReferences": list(owners)},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }
    if node:
        body["spec"]["nodeName"] = node
    return body


async def eventually(
    check: Callable[[], Awaitable[bool]], *, clock: FakeClock, what: str, rounds: int = 400
) -> None:
    """Poll ``check``; each round advances the fake clock a little so rate-limited retries run."""
    for _ in range(rounds):
        if await check():
            return
        clock.advance(0.02)
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for: {what}")


async def exists(api: ApiClient, api_version: str, plural: str, name: str) -> bool:
    try:
        await api.resource(api_version, plural).get(name, namespace=NS)
    except errors.NotFound:
        return False
    return True


async def pod_names(api: ApiClient) -> list[str]:
    items = (await api.resource("v1", "pods").list(namespace=NS))["items"]
    return sorted(p["metadata"]["name"] for p in items)


def observed_dependents(
    gc: GarbageCollector, owner: dict[str, Any], count: int
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        node = gc.graph.uid_to_node.get(owner["metadata"]["uid"])
        return node is not None and not node.virtual and len(node.dependents) == count

    return check


@pytest.fixture
async def gc(api: ApiClient, clock: FakeClock) -> AsyncIterator[GarbageCollector]:
    collector = GarbageCollector(api, GarbageCollectorConfig(workers=4), clock=clock)
    task = asyncio.create_task(collector.run())

    async def synced() -> bool:
        return collector.has_synced()

    await eventually(synced, clock=clock, what="informers synced")
    yield collector
    await collector.stop()
    await asyncio.wait_for(task, 5)


async def test_background_deletion_removes_pods_and_revisions(api: ApiClient, gc: GarbageCollector) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    ds = await api.resource("apps/v1", "daemonsets").create(daemonset("kube-proxy"))
    for i in range(3):
        await api.resource("v1", "pods").create(pod(f"kube-proxy-{i}", owner_ref(ds)))
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "kube-proxy-abc", "namespace": NS, "ownerReferences": [owner_ref(ds)]},
        "data": {},
        "revision": 1,
    }
    await api.resource("apps/v1", "controllerrevisions").create(revision)
    await api.resource("v1", "pods").create(pod("unowned"))

    await api.resource("apps/v1", "daemonsets").delete("kube-proxy", namespace=NS)

    async def only_unowned_left() -> bool:
        revs = (await api.resource("apps/v1", "controllerrevisions").list(namespace=NS))["items"]
        return await pod_names(api) == ["unowned"] and not revs

    await eventually(only_unowned_left, clock=clock, what="daemon pods and revisions collected")


async def test_foreground_deletion_waits_for_blocking_pods(api: ApiClient, gc: GarbageCollector) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    daemonsets = api.resource("apps/v1", "daemonsets")
    pods = api.resource("v1", "pods")
    ds = await daemonsets.create(daemonset("kube-proxy"))
    # Bound pods terminate gracefully: they stay (with deletionTimestamp) until "the kubelet" removes them.
    for i in range(3):
        await pods.create(pod(f"kube-proxy-{i}", owner_ref(ds), node=f"node-{i}"))

    await daemonsets.delete("kube-proxy", namespace=NS, propagation_policy="Foreground")

    async def all_pods_terminating() -> bool:
        items = (await pods.list(namespace=NS))["items"]
        return len(items) == 3 and all(p["metadata"].get("deletionTimestamp") for p in items)

    await eventually(all_pods_terminating, clock=clock, what="pods deleted by the collector")
    for _ in range(20):
        clock.advance(0.05)
        await asyncio.sleep(0.005)
    owner = await daemonsets.get("kube-proxy", namespace=NS)
    assert owner["metadata"]["deletionTimestamp"]
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]

    # The kubelet finishes two of them: the owner still waits for the last one.
    for i in range(2):
        await pods.delete(f"kube-proxy-{i}", namespace=NS, grace_period_seconds=0)
    for _ in range(20):
        clock.advance(0.05)
        await asyncio.sleep(0.005)
    assert await exists(api, "apps/v1", "daemonsets", "kube-proxy")

    await pods.delete("kube-proxy-2", namespace=NS, grace_period_seconds=0)

    async def owner_gone() -> bool:
        return not await exists(api, "apps/v1", "daemonsets", "kube-proxy")

    await eventually(owner_gone, clock=clock, what="owner removed once its pods are gone")


async def test_foreground_deletion_does_not_wait_for_non_blocking_dependents(
    api: ApiClient, gc: GarbageCollector
) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    ds = await api.resource("apps/v1", "daemonsets").create(daemonset("kube-proxy"))
    await api.resource("v1", "pods").create(pod("kube-proxy-0", owner_ref(ds, block=False), node="node-0"))

    await api.resource("apps/v1", "daemonsets").delete(
        "kube-proxy", namespace=NS, propagation_policy="Foreground"
    )

    async def owner_gone_pod_terminating() -> bool:
        if await exists(api, "apps/v1", "daemonsets", "kube-proxy"):
            return False
        p = await api.resource("v1", "pods").get("kube-proxy-0", namespace=NS)
        return bool(p["metadata"].get("deletionTimestamp"))

    await eventually(owner_gone_pod_terminating, clock=clock, what="owner gone, non-blocking pod deleted")


async def test_foreground_cascades_through_an_intermediate_owner(
    api: ApiClient, gc: GarbageCollector
) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    top = await api.resource("apps/v1", "daemonsets").create(daemonset("top"))
    middle = replicaset("middle")
    middle["metadata"]["ownerReferences"] = [owner_ref(top)]
    middle = await api.resource("apps/v1", "replicasets").create(middle)
    await api.resource("v1", "pods").create(pod("leaf", owner_ref(middle)))

    await api.resource("apps/v1", "daemonsets").delete("top", namespace=NS, propagation_policy="Foreground")

    async def all_gone() -> bool:
        return (
            not await exists(api, "apps/v1", "daemonsets", "top")
            and not await exists(api, "apps/v1", "replicasets", "middle")
            and await pod_names(api) == []
        )

    await eventually(all_gone, clock=clock, what="owner, intermediate owner and leaf deleted")


async def test_orphan_deletion_keeps_pods_without_the_reference(api: ApiClient, gc: GarbageCollector) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    ds = await api.resource("apps/v1", "daemonsets").create(daemonset("kube-proxy"))
    for i in range(3):
        await api.resource("v1", "pods").create(pod(f"kube-proxy-{i}", owner_ref(ds), node=f"node-{i}"))

    # Upstream's orphaning covers the dependents the graph has observed (a pod created in the same
    # instant as the delete may be seen later, then collected as dangling): wait for them first.
    await eventually(
        observed_dependents(gc, ds, 3), clock=clock, what="pods observed under their owner in the graph"
    )
    await api.resource("apps/v1", "daemonsets").delete(
        "kube-proxy", namespace=NS, propagation_policy="Orphan"
    )

    async def orphaned() -> bool:
        if await exists(api, "apps/v1", "daemonsets", "kube-proxy"):
            return False
        items = (await api.resource("v1", "pods").list(namespace=NS))["items"]
        return len(items) == 3 and all(not p["metadata"].get("ownerReferences") for p in items)

    await eventually(orphaned, clock=clock, what="owner gone, pods kept without ownerReferences")
    items = (await api.resource("v1", "pods").list(namespace=NS))["items"]
    assert all(not p["metadata"].get("deletionTimestamp") for p in items)


async def test_pod_whose_owner_never_existed_is_deleted(api: ApiClient, gc: GarbageCollector) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    ghost = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "ghost", "uid": "00000000-dead-beef-0000-000000000000"},
    }
    await api.resource("v1", "pods").create(pod("haunted", owner_ref(ghost)))
    await api.resource("v1", "pods").create(pod("bystander"))

    async def collected() -> bool:
        return await pod_names(api) == ["bystander"]

    await eventually(collected, clock=clock, what="pod of a never-existing owner deleted")


async def test_same_name_with_another_uid_is_a_dangling_owner(api: ApiClient, gc: GarbageCollector) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    real = await api.resource("apps/v1", "daemonsets").create(daemonset("kube-proxy"))
    stale = {**real, "metadata": {**real["metadata"], "uid": "11111111-2222-3333-4444-555555555555"}}
    await api.resource("v1", "pods").create(pod("stale-pod", owner_ref(stale)))
    await api.resource("v1", "pods").create(pod("live-pod", owner_ref(real)))

    async def stale_collected() -> bool:
        return await pod_names(api) == ["live-pod"]

    await eventually(stale_collected, clock=clock, what="pod of the recreated owner's old uid deleted")
    assert await exists(api, "apps/v1", "daemonsets", "kube-proxy")


async def test_pod_with_two_owners_keeps_the_remaining_one(api: ApiClient, gc: GarbageCollector) -> None:
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    first = await api.resource("apps/v1", "daemonsets").create(daemonset("first"))
    second = await api.resource("apps/v1", "replicasets").create(replicaset("second"))
    await api.resource("v1", "pods").create(
        pod("shared", owner_ref(first), owner_ref(second, controller=False, block=None))
    )

    await api.resource("apps/v1", "daemonsets").delete("first", namespace=NS)

    async def reference_dropped() -> bool:
        p = await api.resource("v1", "pods").get("shared", namespace=NS)
        return [r["uid"] for r in p["metadata"].get("ownerReferences") or []] == [second["metadata"]["uid"]]

    await eventually(reference_dropped, clock=clock, what="dangling reference removed, pod kept")
    p = await api.resource("v1", "pods").get("shared", namespace=NS)
    assert not p["metadata"].get("deletionTimestamp")


async def test_dependent_of_solid_and_waiting_owners_is_kept(api: ApiClient, gc: GarbageCollector) -> None:
    # upstream e2e: "should not delete dependents that have both valid owner and owner that's waiting
    # for dependents to be deleted": the waiting reference is removed, the pod stays.
    clock = gc.clock
    assert isinstance(clock, FakeClock)
    waiting = await api.resource("apps/v1", "daemonsets").create(daemonset("waiting"))
    valid = await api.resource("apps/v1", "replicasets").create(replicaset("valid"))
    await api.resource("v1", "pods").create(
        pod("shared", owner_ref(waiting), owner_ref(valid, controller=False, block=None), node="node-0")
    )

    await api.resource("apps/v1", "daemonsets").delete(
        "waiting", namespace=NS, propagation_policy="Foreground"
    )

    async def settled() -> bool:
        if await exists(api, "apps/v1", "daemonsets", "waiting"):
            return False
        p = await api.resource("v1", "pods").get("shared", namespace=NS)
        return [r["uid"] for r in p["metadata"].get("ownerReferences") or []] == [valid["metadata"]["uid"]]

    await eventually(settled, clock=clock, what="waiting owner gone, pod kept with the valid owner")
    p = await api.resource("v1", "pods").get("shared", namespace=NS)
    assert not p["metadata"].get("deletionTimestamp")
