"""The taint eviction controller against a real in-process API server on a fake clock.

Scenarios after upstream test/e2e/node/taints.go (NoExecuteTaintManager, including the two conformance
tests "removing taint cancels eviction" and "evicts pods with minTolerationSeconds") and
pkg/controller/tainteviction/taint_eviction_test.go (TestCreatePod, TestUpdateNode).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nodectl_builders import advance, node, pod, settle, toleration

from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers.tainteviction import TaintEvictionController, TaintEvictionControllerConfig

EVICT_KEY = "kubernetes.io/e2e-evict-taint-key"
EVICT_TAINT = {"key": EVICT_KEY, "value": "evictTaintVal", "effect": "NoExecute"}


@pytest.fixture
async def controller(api: ApiClient, clock: FakeClock) -> AsyncIterator[TaintEvictionController]:
    await api.resource("v1", "nodes").create(node("n1", now=clock.now()))
    ctrl = TaintEvictionController(api, TaintEvictionControllerConfig(workers=2), clock=clock)
    task = asyncio.create_task(ctrl.run())
    await settle(200)
    yield ctrl
    await ctrl.stop()
    assert task.done()


async def set_taints(api: ApiClient, taints: list[dict[str, Any]]) -> None:
    await api.resource("v1", "nodes").patch("n1", {"spec": {"taints": taints or None}})
    await settle(200)


async def state(api: ApiClient, name: str) -> str:
    """``running``, ``terminating`` (graceful deletion started) or ``gone``."""
    try:
        got = await api.resource("v1", "pods").get(name, namespace="default")
    except errors.NotFound:
        return "gone"
    return "terminating" if got["metadata"].get("deletionTimestamp") else "running"


async def events(api: ApiClient) -> list[tuple[str, str]]:
    listed = await api.resource("v1", "events").list(namespace="default")
    return [(e["reason"], e["message"]) for e in listed["items"]]


async def test_non_tolerating_pod_is_evicted_at_once(
    api: ApiClient, controller: TaintEvictionController
) -> None:
    pods = api.resource("v1", "pods")
    await pods.create(pod("victim", node_name="n1", tolerations=[]))
    await pods.create(pod("tolerant", node_name="n1", tolerations=[toleration(EVICT_KEY)]))
    await settle(100)
    await set_taints(api, [EVICT_TAINT])
    assert await state(api, "victim") == "terminating"
    assert await state(api, "tolerant") == "running"
    victim = await pods.get("victim", namespace="default")
    target = next(c for c in victim["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert (target["status"], target["reason"], target["message"]) == (
        "True",
        "DeletionByTaintManager",
        "Taint manager: deleting due to NoExecute taint",
    )
    await settle(50)
    assert ("TaintManagerEviction", "Marking for deletion Pod default/victim") in await events(api)


async def test_no_schedule_taint_evicts_nothing(api: ApiClient, controller: TaintEvictionController) -> None:
    await api.resource("v1", "pods").create(pod("p", node_name="n1", tolerations=[]))
    await set_taints(api, [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}])
    assert await state(api, "p") == "running"


async def test_pod_created_on_tainted_node_is_evicted(
    api: ApiClient, controller: TaintEvictionController
) -> None:
    # TestCreatePod: a pod arriving on an already tainted node is judged on its own event.
    await set_taints(api, [EVICT_TAINT])
    await api.resource("v1", "pods").create(pod("late", node_name="n1", tolerations=[]))
    await settle(200)
    assert await state(api, "late") == "terminating"


async def test_toleration_seconds_delay_the_eviction(
    api: ApiClient, clock: FakeClock, controller: TaintEvictionController
) -> None:
    await api.resource("v1", "pods").create(
        pod("p", node_name="n1", tolerations=[toleration(EVICT_KEY, seconds=30)])
    )
    await settle(100)
    await set_taints(api, [EVICT_TAINT])
    await advance(clock, 29)
    assert await state(api, "p") == "running"
    await advance(clock, 1.5)
    assert await state(api, "p") == "terminating"


async def test_removing_the_taint_cancels_the_eviction(
    api: ApiClient, clock: FakeClock, controller: TaintEvictionController
) -> None:
    # Conformance: "removing taint cancels eviction" (tolerationSeconds 2x5 s, remove after 5 s, wait 75 s).
    await api.resource("v1", "pods").create(
        pod("p", node_name="n1", tolerations=[toleration(EVICT_KEY, seconds=10)])
    )
    await settle(100)
    await set_taints(api, [EVICT_TAINT])
    await advance(clock, 5)
    assert await state(api, "p") == "running"
    await set_taints(api, [])
    await advance(clock, 75, step=5)
    assert await state(api, "p") == "running"
    assert ("TaintManagerEviction", "Cancelling deletion of Pod default/p") in await events(api)


async def test_each_pod_is_evicted_at_its_own_min_toleration_seconds(
    api: ApiClient, clock: FakeClock, controller: TaintEvictionController
) -> None:
    # Conformance: "evicts pods with minTolerationSeconds" (5 s and 25 s on the same node).
    pods = api.resource("v1", "pods")
    await pods.create(pod("short", node_name="n1", tolerations=[toleration(EVICT_KEY, seconds=5)]))
    await pods.create(pod("long", node_name="n1", tolerations=[toleration(EVICT_KEY, seconds=25)]))
    await settle(100)
    await set_taints(api, [EVICT_TAINT])
    await advance(clock, 6)
    assert (await state(api, "short"), await state(api, "long")) == ("terminating", "running")
    await advance(clock, 20)
    assert await state(api, "long") == "terminating"


async def test_smallest_toleration_of_several_taints_wins(
    api: ApiClient, clock: FakeClock, controller: TaintEvictionController
) -> None:
    tols = [toleration("a", seconds=100), toleration("b", seconds=20)]
    await api.resource("v1", "pods").create(pod("p", node_name="n1", tolerations=tols))
    await settle(100)
    await set_taints(api, [{"key": "a", "effect": "NoExecute"}, {"key": "b", "effect": "NoExecute"}])
    await advance(clock, 19)
    assert await state(api, "p") == "running"
    await advance(clock, 2)
    assert await state(api, "p") == "terminating"


@pytest.mark.parametrize(
    "tolerations",
    [
        pytest.param(
            [toleration("node.kubernetes.io/not-ready"), toleration("node.kubernetes.io/unreachable")],
            id="daemonset-default-tolerations",
        ),
        pytest.param([{"operator": "Exists"}], id="exists-without-key-tolerates-everything"),
    ],
)
async def test_daemonset_style_tolerations_are_never_evicted(
    api: ApiClient, clock: FakeClock, controller: TaintEvictionController, tolerations: list[dict[str, Any]]
) -> None:
    await api.resource("v1", "pods").create(pod("ds", node_name="n1", tolerations=tolerations))
    await settle(100)
    await set_taints(
        api,
        [
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
            {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
        ],
    )
    await advance(clock, 3600, step=60)
    assert await state(api, "ds") == "running"
    assert controller.eviction_queue.pending == []


async def test_default_toleration_seconds_evict_after_300s(
    api: ApiClient, clock: FakeClock, controller: TaintEvictionController
) -> None:
    # A plain pod gets DefaultTolerationSeconds (300 s) for not-ready/unreachable at admission.
    await api.resource("v1", "pods").create(pod("plain", node_name="n1"))
    await settle(100)
    await set_taints(api, [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}])
    await advance(clock, 299, step=10)
    assert await state(api, "plain") == "running"
    await advance(clock, 2)
    assert await state(api, "plain") == "terminating"


async def test_adding_a_toleration_cancels_a_pending_eviction(
    api: ApiClient, clock: FakeClock, controller: TaintEvictionController
) -> None:
    # TestUpdatePod: a pod update that makes it tolerate forever cancels the scheduled deletion.
    pods = api.resource("v1", "pods")
    await pods.create(pod("p", node_name="n1", tolerations=[toleration(EVICT_KEY, seconds=50)]))
    await settle(100)
    await set_taints(api, [EVICT_TAINT])
    assert controller.eviction_queue.pending == ["default/p"]
    controller.process_pod_on_node(
        "default/p",
        tolerations=[toleration(EVICT_KEY, seconds=50), toleration(EVICT_KEY)],
        taints=[EVICT_TAINT],
    )
    assert controller.eviction_queue.pending == ["default/p"]  # first matching toleration still has 50 s
    controller.process_pod_on_node("default/p", tolerations=[toleration(EVICT_KEY)], taints=[EVICT_TAINT])
    assert controller.eviction_queue.pending == []
    await advance(clock, 60, step=5)
    assert await state(api, "p") == "running"
