"""The node lifecycle controller against a real in-process API server on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nodectl_builders import (
    advance,
    eventually,
    eventually_async,
    lease,
    node,
    pod,
    settle,
    taint_keys,
    taints_of,
)

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers.nodelifecycle import NodeLifecycleController, NodeLifecycleControllerConfig

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


@pytest.fixture
async def controller(api: ApiClient, clock: FakeClock) -> AsyncIterator[NodeLifecycleController]:
    ctrl = NodeLifecycleController(
        api, NodeLifecycleControllerConfig(node_eviction_rate=10.0, workers=1), clock=clock
    )
    yield ctrl
    await ctrl.stop()


async def start(ctrl: NodeLifecycleController) -> asyncio.Task[None]:
    task = asyncio.create_task(ctrl.run())
    await settle(300)
    return task


async def add_nodes(api: ApiClient, clock: FakeClock, *names: str, **statuses: str) -> None:
    for name in names:
        await api.resource("v1", "nodes").create(node(name, now=clock.now(), **statuses))
        await api.resource("coordination.k8s.io/v1", "leases").create(lease(name, now=clock.now()))


async def renew(api: ApiClient, clock: FakeClock, name: str) -> None:
    leases = api.resource("coordination.k8s.io/v1", "leases")
    current = await leases.get(name, namespace="kube-node-lease")
    current["spec"]["renewTime"] = clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    await leases.update(current)


async def set_conditions(api: ApiClient, clock: FakeClock, name: str, **statuses: str) -> None:
    nodes = api.resource("v1", "nodes")
    current = await nodes.get(name)
    current["status"]["conditions"] = node(name, now=clock.now(), **statuses)["status"]["conditions"]
    await nodes.update_status(current)


def condition(n: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next(c for c in n["status"]["conditions"] if c["type"] == ctype)


async def test_silent_node_goes_unknown_and_gets_unreachable_taints(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController
) -> None:
    await add_nodes(api, clock, "alive-1", "alive-2", "silent")
    await start(controller)
    # The live nodes keep renewing their leases every 10 s; "silent" never does.
    for _ in range(5):
        await advance(clock, 10)
        await renew(api, clock, "alive-1")
        await renew(api, clock, "alive-2")
    await advance(clock, 5)
    silent = await api.resource("v1", "nodes").get("silent")
    ready = condition(silent, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    assert condition(silent, "DiskPressure")["status"] == "Unknown"
    assert condition(silent, "NetworkUnavailable")["status"] == "False"
    taints = await taints_of(api, "silent")
    assert taint_keys(taints) == {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    assert all(t.get("timeAdded") for t in taints)
    for name in ("alive-1", "alive-2"):
        alive = await api.resource("v1", "nodes").get(name)
        assert condition(alive, "Ready")["status"] == "True"
        assert await taints_of(api, name) == []
    events = await api.resource("v1", "events").list(namespace="default")
    reasons = {(e["involvedObject"]["name"], e["reason"]) for e in events["items"]}
    assert ("silent", "NodeNotReady") in reasons
    assert ("silent", "RegisteredNode") in reasons


async def test_not_ready_node_gets_not_ready_taints_and_recovers(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController
) -> None:
    await add_nodes(api, clock, "a", "b", "c")
    await start(controller)
    await set_conditions(api, clock, "c", Ready="False")

    async def tainted() -> bool:
        return bool(
            taint_keys(await taints_of(api, "c")) == {(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")}
        )

    for _ in range(3):
        await advance(clock, 5)
        for name in "abc":
            await renew(api, clock, name)
    await eventually_async(tainted)
    # Ready again: the kubelet posts Ready=True; both taints go.
    await set_conditions(api, clock, "c")
    await advance(clock, 6)
    assert await taints_of(api, "c") == []


async def test_unreachable_taint_is_swapped_for_not_ready_at_once(api: ApiClient, clock: FakeClock) -> None:
    # Upstream TestSwapUnreachableNotReadyTaints: the swap skips the rate-limited queue, so it happens
    # even with a tainting rate of zero.
    ctrl = NodeLifecycleController(api, NodeLifecycleControllerConfig(node_eviction_rate=0.0), clock=clock)
    await add_nodes(api, clock, "a", "b", "c")
    await start(ctrl)
    for _ in range(6):
        await advance(clock, 10)
        for name in "ab":
            await renew(api, clock, name)
    # "c" went silent, but at rate zero it is never tainted NoExecute through the queue.
    assert taint_keys(await taints_of(api, "c")) == {(UNREACHABLE, "NoSchedule")}
    unreachable = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}
    nodes = api.resource("v1", "nodes")
    await nodes.patch("c", {"spec": {"taints": [*await taints_of(api, "c"), unreachable]}})
    await set_conditions(api, clock, "c", Ready="False")
    await advance(clock, 5.5)
    assert taint_keys(await taints_of(api, "c")) == {(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")}
    await ctrl.stop()


async def test_no_execute_tainting_is_rate_limited(api: ApiClient, clock: FakeClock) -> None:
    # Default --node-eviction-rate 0.1/s with burst 1: one node at once, the next ten seconds later.
    ctrl = NodeLifecycleController(api, NodeLifecycleControllerConfig(), clock=clock)
    await add_nodes(api, clock, "a", "b", "c", "d", "e")
    await start(ctrl)
    for name in "de":
        await set_conditions(api, clock, name, Ready="False")
    await advance(clock, 5.5, step=0.1)

    async def no_execute(name: str) -> bool:
        return (NOT_READY, "NoExecute") in taint_keys(await taints_of(api, name))

    assert [await no_execute("d"), await no_execute("e")].count(True) == 1
    await advance(clock, 5, step=0.1)
    assert [await no_execute("d"), await no_execute("e")].count(True) == 1
    await advance(clock, 5, step=0.1)
    assert await no_execute("d") and await no_execute("e")
    await ctrl.stop()


@pytest.mark.parametrize(
    ("statuses", "key"),
    [
        pytest.param({"DiskPressure": "True"}, "node.kubernetes.io/disk-pressure", id="disk"),
        pytest.param({"MemoryPressure": "True"}, "node.kubernetes.io/memory-pressure", id="memory"),
        pytest.param({"PIDPressure": "True"}, "node.kubernetes.io/pid-pressure", id="pid"),
        pytest.param({"NetworkUnavailable": "True"}, "node.kubernetes.io/network-unavailable", id="network"),
    ],
)
async def test_pressure_condition_gives_no_schedule_taint_and_clearing_removes_it(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController, statuses: dict[str, str], key: str
) -> None:
    await add_nodes(api, clock, "n")
    await start(controller)
    await set_conditions(api, clock, "n", **statuses)

    async def has(expected: set[tuple[str, str]]) -> bool:
        return bool(taint_keys(await taints_of(api, "n")) == expected)

    await eventually_async(lambda: has({(key, "NoSchedule")}))
    await set_conditions(api, clock, "n")
    await eventually_async(lambda: has(set()))


async def test_cordon_gives_unschedulable_taint_and_uncordon_removes_it(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController
) -> None:
    await add_nodes(api, clock, "n")
    other = {"key": "dedicated", "value": "x", "effect": "NoSchedule"}
    await api.resource("v1", "nodes").patch("n", {"spec": {"taints": [other]}})
    await start(controller)
    nodes = api.resource("v1", "nodes")
    await nodes.patch("n", {"spec": {"unschedulable": True}}, patch_type="strategic")

    async def has(expected: set[tuple[str, str]]) -> bool:
        return bool(taint_keys(await taints_of(api, "n")) == expected)

    await eventually_async(
        lambda: has({("dedicated", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule")})
    )
    await nodes.patch("n", {"spec": {"unschedulable": None}}, patch_type="merge")
    await eventually_async(lambda: has({("dedicated", "NoSchedule")}))


async def test_beta_labels_follow_stable_labels(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController
) -> None:
    # Upstream TestReconcileNodeLabels.
    body = node(
        "n",
        labels={
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "arm64",
            "beta.kubernetes.io/arch": "amd64",
        },
    )
    await api.resource("v1", "nodes").create(body)
    await start(controller)

    async def reconciled() -> bool:
        labels = (await api.resource("v1", "nodes").get("n"))["metadata"]["labels"]
        return (
            labels.get("beta.kubernetes.io/os") == "linux"
            and labels.get("beta.kubernetes.io/arch") == "arm64"
        )

    await eventually_async(reconciled)


async def create_ready_pod(api: ApiClient, name: str, node_name: str) -> None:
    pods = api.resource("v1", "pods")
    created = await pods.create(pod(name, node_name=node_name))
    created["status"]["phase"] = "Running"
    created["status"]["conditions"] = [
        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    ]
    await pods.update_status(created)


async def pod_ready_status(api: ApiClient, name: str) -> str:
    got = await api.resource("v1", "pods").get(name, namespace="default")
    return str(next(c["status"] for c in got["status"]["conditions"] if c["type"] == "Ready"))


async def test_pods_of_a_node_that_went_silent_are_marked_not_ready(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController
) -> None:
    await add_nodes(api, clock, "a", "b", "c")
    await create_ready_pod(api, "web", "c")
    await start(controller)
    for _ in range(5):
        await advance(clock, 10)
        for name in "ab":
            await renew(api, clock, name)
    assert await pod_ready_status(api, "web") == "False"
    await settle(100)
    events = await api.resource("v1", "events").list(namespace="default")
    pod_events = [
        (e["reason"], e["message"]) for e in events["items"] if e["involvedObject"]["kind"] == "Pod"
    ]
    assert pod_events == [("NodeNotReady", "Node is not ready")]
    node_events = [
        (e["reason"], e["message"])
        for e in events["items"]
        if e["reason"] == "NodeNotReady" and e["involvedObject"]["kind"] == "Node"
    ]
    assert node_events == [("NodeNotReady", "Node c status is now: NodeNotReady")]


async def test_pod_bound_to_a_not_ready_node_is_marked_not_ready(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController
) -> None:
    # The kubelet itself reports Ready=False: existing pods are its business, but a pod bound later goes
    # through the controller's pod queue (upstream processPod).
    await add_nodes(api, clock, "a", "b", "c", Ready="False")
    await start(controller)
    await advance(clock, 1)
    await create_ready_pod(api, "late", "c")
    await eventually(
        lambda: bool((controller.pods.indexer.get("default/late") or {}).get("status", {}).get("conditions"))
    )
    # The ADDED event found no Ready condition yet (a new pod has none); re-judge it as a requeue would.
    await controller.sync_pod("default/late")
    assert await pod_ready_status(api, "late") == "False"


async def test_all_nodes_down_is_master_disruption_and_taints_nothing(
    api: ApiClient, clock: FakeClock, controller: NodeLifecycleController
) -> None:
    # handleDisruption: when every zone is fully disrupted the controller blames itself and stops tainting.
    await add_nodes(api, clock, "a", "b")
    await start(controller)
    await advance(clock, 60)
    for name in "ab":
        n = await api.resource("v1", "nodes").get(name)
        assert condition(n, "Ready")["status"] == "Unknown"
        assert all(t["effect"] != "NoExecute" for t in await taints_of(api, name))


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="node_monitor_grace_period"):
        NodeLifecycleControllerConfig(node_monitor_grace_period=0)
    with pytest.raises(ValueError, match="unhealthy_zone_threshold"):
        NodeLifecycleControllerConfig(unhealthy_zone_threshold=1.5)
