"""The pod garbage collector against a real in-process API server on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nodectl_builders import advance, node, pod, settle

from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers.podgc import PodGCController, PodGCControllerConfig


async def start(ctrl: PodGCController) -> asyncio.Task[None]:
    task = asyncio.create_task(ctrl.run())
    await settle(200)
    return task


@pytest.fixture
async def gc(api: ApiClient, clock: FakeClock) -> AsyncIterator[PodGCController]:
    ctrl = PodGCController(api, PodGCControllerConfig(terminated_pod_gc_threshold=2), clock=clock)
    yield ctrl
    await ctrl.stop()


async def exists(api: ApiClient, name: str) -> bool:
    try:
        await api.resource("v1", "pods").get(name, namespace="default")
    except errors.NotFound:
        return False
    return True


async def test_pods_of_a_deleted_node_are_force_deleted_after_quarantine(
    api: ApiClient, clock: FakeClock, gc: PodGCController
) -> None:
    nodes, pods = api.resource("v1", "nodes"), api.resource("v1", "pods")
    await nodes.create(node("gone"))
    await nodes.create(node("kept"))
    for name, where in (("orphan", "gone"), ("fine", "kept")):
        created = await pods.create(pod(name, node_name=where))
        created["status"]["phase"] = "Running"
        await pods.update_status(created)
    await start(gc)
    await nodes.delete("gone")
    await advance(clock, 39, step=1)
    assert await exists(api, "orphan")  # still in quarantine
    seen: list[dict[str, Any]] = []
    watcher = asyncio.create_task(_capture_failed(api, "orphan", seen))
    await advance(clock, 25, step=1)
    assert not await exists(api, "orphan")
    assert await exists(api, "fine")
    await asyncio.wait_for(watcher, timeout=5)
    (failed,) = seen
    assert failed["phase"] == "Failed"
    (condition,) = failed["conditions"]
    target = dict(condition)  # a watch event's object is shared and read-only
    assert target.pop("lastTransitionTime")
    assert target == {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "DeletionByPodGC",
        "message": "PodGC: node no longer exists",
    }


async def _capture_failed(api: ApiClient, name: str, seen: list[dict[str, Any]]) -> None:
    """Record the pod's status from the watch event in which it turned Failed."""
    pods = api.resource("v1", "pods")
    listed = await pods.list(namespace="default")
    async for event in pods.watch(
        namespace="default", resource_version=listed["metadata"]["resourceVersion"], allow_bookmarks=False
    ):
        obj = event["object"]
        if obj["metadata"].get("name") == name and obj.get("status", {}).get("phase") == "Failed":
            seen.append(obj["status"])
            return


async def test_a_node_that_reappears_during_quarantine_keeps_its_pods(
    api: ApiClient, clock: FakeClock, gc: PodGCController
) -> None:
    nodes, pods = api.resource("v1", "nodes"), api.resource("v1", "pods")
    await pods.create(pod("early", node_name="late-node"))
    await start(gc)
    await advance(clock, 20, step=1)
    await nodes.create(node("late-node"))
    await advance(clock, 60, step=1)
    assert await exists(api, "early")
    assert gc.quarantine == {}


async def test_terminated_pods_beyond_the_threshold_are_deleted_oldest_first(
    api: ApiClient, clock: FakeClock, gc: PodGCController
) -> None:
    nodes, pods = api.resource("v1", "nodes"), api.resource("v1", "pods")
    await nodes.create(node("n"))
    for index, phase in enumerate(("Succeeded", "Failed", "Running", "Succeeded", "Failed")):
        created = await pods.create(pod(f"p{index}", node_name="n"))
        created["status"]["phase"] = phase
        await pods.update_status(created)
        clock.advance(60)
    await start(gc)
    await settle(200)
    remaining = sorted(p["metadata"]["name"] for p in (await pods.list(namespace="default"))["items"])
    # Four terminated pods, threshold 2: the two oldest terminated (p0, p1) go; Running p2 stays.
    assert remaining == ["p2", "p3", "p4"]


async def test_unscheduled_terminating_pod_is_marked_failed_and_force_deleted(
    api: ApiClient, clock: FakeClock, gc: PodGCController
) -> None:
    pods = api.resource("v1", "pods")
    body = pod("stuck")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await pods.create(body)
    await pods.delete("stuck", namespace="default")
    await start(gc)
    await settle(200)
    got = await pods.get("stuck", namespace="default")
    assert got["metadata"]["deletionTimestamp"]
    assert got["status"]["phase"] == "Failed"
