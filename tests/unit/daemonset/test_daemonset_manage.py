"""Manage-loop decisions, ported from upstream ``pkg/controller/daemon/daemon_controller_test.go``.

Each test is named after the upstream test it ports and checks what ``expectSyncDaemonSets`` checks
after one sync: (creates, deletes, DaemonSet-controller events).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from daemonset_builders import (
    NO_EXECUTE_TAINTS,
    NO_SCHEDULE_TAINTS,
    NO_SCHEDULE_TOLERATIONS,
    SIMPLE_DS_LABEL,
    SIMPLE_DS_LABEL2,
    SIMPLE_NODE_LABEL,
    SIMPLE_NODE_LABEL2,
    FakeCluster,
    add_nodes,
    at,
    new_daemonset,
    new_node,
    new_pod,
    set_created,
    set_ready,
    surge,
    update_strategies,
)

from kubeds.clock import format_time
from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.decisions import slow_start_batches
from kubeds.controllers.daemonset.pods import failed_pods_backoff_key

STRATEGIES = [pytest.param(s, id=s["type"]) for s in update_strategies()]


def cluster(strategy: dict[str, Any], nodes: int = 0, labels: dict[str, str] | None = None) -> FakeCluster:
    fc = FakeCluster(ds=new_daemonset("foo", strategy=strategy))
    add_nodes(fc.nodes, 0, nodes, labels)
    return fc


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    ("nodes", "want"),
    [
        pytest.param(5, (5, 0, 0), id="TestSimpleDaemonSetLaunchesPods"),
        pytest.param(0, (0, 0, 0), id="TestNoNodesDoesNothing"),
        pytest.param(1, (1, 0, 0), id="TestOneNodeDaemonLaunchesPod"),
    ],
)
def test_simple_launches(strategy: dict[str, Any], nodes: int, want: tuple[int, int, int]) -> None:
    fc = cluster(strategy, nodes)
    assert fc.sync().counts == want


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_simple_daemonset_schedule_daemonset_pods_launches_pods(strategy: dict[str, Any]) -> None:
    # TestSimpleDaemonSetScheduleDaemonSetPodsLaunchesPods
    fc = cluster(strategy, 5)
    assert fc.sync().counts == (5, 0, 0)
    pinned = []
    for pod in fc.pods:
        assert not pod["spec"].get("nodeName")
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ]
        assert len(terms) == 1 and len(terms[0]["matchFields"]) == 1
        field = terms[0]["matchFields"][0]
        assert (field["key"], field["operator"]) == ("metadata.name", "In")
        pinned.append(field["values"][0])
        ref = pod["metadata"]["ownerReferences"][0]
        assert (ref["apiVersion"], ref["kind"], ref["controller"]) == ("apps/v1", "DaemonSet", True)
    assert sorted(pinned) == [f"node-{i}" for i in range(5)]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    ("status", "taints"),
    [
        pytest.param("False", [], id="TestNotReadyNodeDaemonDoesLaunchPod"),
        pytest.param(
            "False",
            [{"key": c.TAINT_NODE_NOT_READY, "effect": "NoExecute"}],
            id="TestNotReadyNodeDaemonLaunchesPod",
        ),
        pytest.param(
            "Unknown",
            [{"key": c.TAINT_NODE_UNREACHABLE, "effect": "NoExecute"}],
            id="TestUnreachableNodeDaemonLaunchesPod",
        ),
        pytest.param(
            "True",
            [
                {"key": c.TAINT_NODE_DISK_PRESSURE, "effect": "NoSchedule"},
                {"key": c.TAINT_NODE_MEMORY_PRESSURE, "effect": "NoSchedule"},
                {"key": c.TAINT_NODE_PID_PRESSURE, "effect": "NoSchedule"},
            ],
            id="TestTaintPressureNodeDaemonLaunchesPod",
        ),
    ],
)
def test_troubled_node_still_gets_pod(strategy: dict[str, Any], status: str, taints: list[Any]) -> None:
    fc = cluster(strategy)
    node = new_node("not-ready")
    node["status"]["conditions"] = [{"type": "Ready", "status": status}]
    node["spec"]["taints"] = taints
    fc.nodes.append(node)
    assert fc.sync().counts == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_network_unavailable_node_daemon_launches_pod(strategy: dict[str, Any]) -> None:
    # TestNetworkUnavailableNodeDaemonLaunchesPod: the condition alone (no taint) does not matter.
    fc = cluster(strategy)
    node = new_node("network-unavailable")
    node["status"]["conditions"] = [{"type": "NetworkUnavailable", "status": "True"}]
    fc.nodes.append(node)
    assert fc.sync().counts == (1, 0, 0)


def _resource_spec(node_name: str, memory: str, cpu: str) -> dict[str, Any]:
    return {
        "nodeName": node_name,
        "containers": [
            {"name": "c", "image": "x", "resources": {"requests": {"memory": memory, "cpu": cpu}}}
        ],
    }


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_insufficient_capacity_node_daemon_does_not_unschedule_running_pod(strategy: dict[str, Any]) -> None:
    # TestInsufficientCapacityNodeDaemonDoesNotUnscheduleRunningPod: capacity is the scheduler's job.
    fc = cluster(strategy)
    fc.ds["spec"]["template"]["spec"] = _resource_spec("too-much-mem", "75M", "75m")
    node = new_node("too-much-mem")
    node["status"]["allocatable"] = {"memory": "100M", "cpu": "200m"}
    fc.nodes.append(node)
    other = new_pod("other-", "too-much-mem", {"app": "other"})
    other["spec"] = _resource_spec("too-much-mem", "75M", "75m")
    fc.pods.append(other)
    assert fc.sync().counts == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_insufficient_capacity_node_sufficient_capacity_with_node_label_daemon_launch_pod(
    strategy: dict[str, Any],
) -> None:
    # TestInsufficientCapacityNodeSufficientCapacityWithNodeLabelDaemonLaunchPod
    fc = cluster(strategy)
    fc.ds["spec"]["template"]["spec"] = _resource_spec("", "50M", "75m")
    fc.ds["spec"]["template"]["spec"]["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    fc.nodes += [new_node("not-enough-resource"), new_node("enough-resource", SIMPLE_NODE_LABEL)]
    assert fc.sync().counts == (1, 0, 0)
    assert fc.pods[0]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]["matchFields"][0]["values"] == ["enough-resource"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_port_conflict_node_daemon_launches_pod(strategy: dict[str, Any]) -> None:
    # TestNoPortConflictNodeDaemonLaunchesPod
    fc = cluster(strategy, 1)
    other = new_pod("other-", "node-0", {"app": "other"})
    other["spec"]["containers"][0]["ports"] = [{"hostPort": 6661}]
    fc.pods.append(other)
    fc.ds["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"hostPort": 6662}]
    assert fc.sync().counts == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_port_conflict_with_same_daemon_pod_does_not_delete_pod(strategy: dict[str, Any]) -> None:
    # TestPortConflictWithSameDaemonPodDoesNotDeletePod
    fc = cluster(strategy, 1)
    fc.ds["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"hostPort": 666}]
    fc.add_pods("node-0", SIMPLE_DS_LABEL, fc.ds, 1)
    assert fc.sync().counts == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    ("node_selector", "node_name", "want_creates"),
    [
        pytest.param(SIMPLE_NODE_LABEL, None, 3, id="TestSelectorDaemonLaunchesPods"),
        pytest.param(SIMPLE_NODE_LABEL2, None, 0, id="TestBadSelectorDaemonDoesNothing"),
        pytest.param(None, "node-0", 1, id="TestNameDaemonSetLaunchesPods"),
        pytest.param(None, "node-10", 0, id="TestBadNameDaemonSetDoesNothing"),
        pytest.param(SIMPLE_NODE_LABEL, "node-6", 1, id="TestNameAndSelectorDaemonSetLaunchesPods"),
        pytest.param(SIMPLE_NODE_LABEL, "node-0", 0, id="TestInconsistentNameSelectorDaemonSetDoesNothing"),
    ],
)
def test_selectors_and_names(
    strategy: dict[str, Any], node_selector: dict[str, str] | None, node_name: str | None, want_creates: int
) -> None:
    fc = cluster(strategy, 4)
    add_nodes(fc.nodes, 4, 3, SIMPLE_NODE_LABEL)
    spec = fc.ds["spec"]["template"]["spec"]
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if node_name:
        spec["nodeName"] = node_name
    assert fc.sync().counts == (want_creates, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_node_affinity_daemon_launches_pods(strategy: dict[str, Any]) -> None:
    # TestNodeAffinityDaemonLaunchesPods
    fc = cluster(strategy, 4)
    add_nodes(fc.nodes, 4, 3, SIMPLE_NODE_LABEL)
    fc.ds["spec"]["template"]["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "color", "operator": "In", "values": ["blue"]}]}
                ]
            }
        }
    }
    assert fc.sync().counts == (3, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_pod_is_not_deleted_by_daemonset_with_empty_label_selector(strategy: dict[str, Any]) -> None:
    # TestPodIsNotDeletedByDaemonsetWithEmptyLabelSelector
    fc = cluster(strategy, 1)
    fc.ds["spec"]["selector"] = {}
    fc.pods.append(new_pod("pod1-", "node-0", {"foo": "bar"}))
    result = fc.sync()
    assert result.counts == (0, 0, 1)
    assert result.events[0] == ("Warning", "SelectingAll", c.MSG_SELECTING_ALL)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_deals_with_existing_pods(strategy: dict[str, Any]) -> None:
    # TestDealsWithExistingPods (and TestSurgeDealsWithExistingPods below)
    fc = cluster(strategy, 5)
    fc.add_pods("node-1", SIMPLE_DS_LABEL, fc.ds, 1)
    fc.add_pods("node-2", SIMPLE_DS_LABEL, fc.ds, 2)
    fc.add_pods("node-3", SIMPLE_DS_LABEL, fc.ds, 5)
    fc.add_pods("node-4", SIMPLE_DS_LABEL2, fc.ds, 2)
    result = fc.sync()
    assert result.counts == (2, 5, 0)
    assert sorted(result.creates) == ["node-0", "node-4"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_selector_daemon_deletes_unselected_pods(strategy: dict[str, Any]) -> None:
    # TestSelectorDaemonDeletesUnselectedPods
    fc = cluster(strategy, 5)
    fc.ds["spec"]["template"]["spec"]["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    add_nodes(fc.nodes, 5, 5, SIMPLE_NODE_LABEL)
    fc.add_pods("node-0", SIMPLE_DS_LABEL2, fc.ds, 2)
    fc.add_pods("node-1", SIMPLE_DS_LABEL, fc.ds, 3)
    fc.add_pods("node-1", SIMPLE_DS_LABEL2, fc.ds, 1)
    fc.add_pods("node-4", SIMPLE_DS_LABEL, fc.ds, 1)
    assert fc.sync().counts == (5, 4, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_selector_daemon_deals_with_existing_pods(strategy: dict[str, Any]) -> None:
    # TestSelectorDaemonDealsWithExistingPods
    fc = cluster(strategy, 5)
    fc.ds["spec"]["template"]["spec"]["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    add_nodes(fc.nodes, 5, 5, SIMPLE_NODE_LABEL)
    fc.add_pods("node-0", SIMPLE_DS_LABEL, fc.ds, 1)
    fc.add_pods("node-1", SIMPLE_DS_LABEL, fc.ds, 3)
    fc.add_pods("node-1", SIMPLE_DS_LABEL2, fc.ds, 2)
    fc.add_pods("node-2", SIMPLE_DS_LABEL, fc.ds, 4)
    fc.add_pods("node-6", SIMPLE_DS_LABEL, fc.ds, 13)
    fc.add_pods("node-7", SIMPLE_DS_LABEL2, fc.ds, 4)
    fc.add_pods("node-9", SIMPLE_DS_LABEL, fc.ds, 1)
    fc.add_pods("node-9", SIMPLE_DS_LABEL2, fc.ds, 1)
    assert fc.sync().counts == (3, 20, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_daemonset_respects_termination(strategy: dict[str, Any]) -> None:
    # TestDaemonSetRespectsTermination: no replacement until the terminating pod is gone.
    fc = cluster(strategy, 1, SIMPLE_NODE_LABEL)
    pod = new_pod("node-0-", "node-0", SIMPLE_DS_LABEL, fc.ds)
    pod["metadata"]["deletionTimestamp"] = format_time(fc.now)
    fc.pods.append(pod)
    assert fc.sync().counts == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_delete_unscheduled_pod_for_not_existing_node(strategy: dict[str, Any]) -> None:
    # TestDeleteUnscheduledPodForNotExistingNode: the bound pod on node-1 is pod GC's.
    fc = cluster(strategy, 1)
    fc.add_pods("node-0", SIMPLE_DS_LABEL, fc.ds, 1)
    fc.add_pods("node-1", SIMPLE_DS_LABEL, fc.ds, 1)
    pending = new_pod("pod1-node-3", "", SIMPLE_DS_LABEL, fc.ds)
    pending["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}
                ]
            }
        }
    }
    fc.pods.append(pending)
    result = fc.sync()
    assert result.counts == (0, 1, 0)
    assert result.deletes == [pending["metadata"]["name"]]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    ("taints", "tolerations", "existing", "want"),
    [
        pytest.param(
            NO_SCHEDULE_TAINTS, None, 0, (0, 0, 0), id="TestTaintedNodeDaemonDoesNotLaunchIntolerantPod"
        ),
        pytest.param(
            NO_SCHEDULE_TAINTS,
            NO_SCHEDULE_TOLERATIONS,
            0,
            (1, 0, 0),
            id="TestTaintedNodeDaemonLaunchesToleratePod",
        ),
        pytest.param([], NO_SCHEDULE_TOLERATIONS, 0, (1, 0, 0), id="TestNodeDaemonLaunchesToleratePod"),
        pytest.param(
            NO_SCHEDULE_TAINTS, None, 1, (0, 0, 0), id="TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod"
        ),
        pytest.param(
            NO_EXECUTE_TAINTS, None, 1, (0, 1, 0), id="TestNoExecuteTaintedDoesEvicitRunningIntolerantPod"
        ),
    ],
)
def test_taints_and_tolerations(
    strategy: dict[str, Any],
    taints: list[Any],
    tolerations: list[Any] | None,
    existing: int,
    want: tuple[int, int, int],
) -> None:
    fc = cluster(strategy)
    node = new_node("tainted")
    node["spec"]["taints"] = list(taints)
    fc.nodes.append(node)
    if tolerations:
        fc.ds["spec"]["template"]["spec"]["tolerations"] = list(tolerations)
    fc.add_pods("tainted", SIMPLE_DS_LABEL, fc.ds, existing)
    assert fc.sync().counts == want


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    ("failed", "normal", "want"),
    [
        pytest.param(0, 1, (0, 0, 0), id="normal pod, no failed pod"),
        pytest.param(0, 0, (1, 0, 0), id="no pods"),
        pytest.param(1, 0, (0, 1, 1), id="1 failed pod, no normal pod"),
        pytest.param(1, 3, (0, 3, 1), id="1 failed pod and 3 normal pods"),
    ],
)
def test_daemon_kill_failed_pods(
    strategy: dict[str, Any], failed: int, normal: int, want: tuple[int, int, int]
) -> None:
    # TestDaemonKillFailedPods: the failed pod's replacement comes on a later sync.
    fc = cluster(strategy, 1)
    fc.add_failed_pods("node-0", SIMPLE_DS_LABEL, fc.ds, failed)
    fc.add_pods("node-0", SIMPLE_DS_LABEL, fc.ds, normal)
    result = fc.sync()
    assert result.counts == want
    if failed:
        failed_name = fc.pods[0]["metadata"]["name"]
        assert result.events[0] == (
            "Warning",
            "FailedDaemonPod",
            f"Found failed daemon pod default/{failed_name} on node node-0, will try to kill it",
        )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_daemon_kill_failed_pods_backoff(strategy: dict[str, Any]) -> None:
    # TestDaemonKillFailedPodsBackoff
    fc = cluster(strategy, 1)
    fc.add_failed_pods("node-0", SIMPLE_DS_LABEL, fc.ds, 1)
    key = failed_pods_backoff_key(fc.ds, "node-0")
    assert fc.sync().counts == (0, 1, 1)
    initial_delay = fc.backoff[key][0]
    assert initial_delay > 0
    assert fc.sync().counts == (0, 0, 0)  # limited by the backoff
    assert fc.backoff[key][0] == initial_delay  # not raised while waiting
    fc.now += dt.timedelta(seconds=initial_delay) - dt.timedelta(microseconds=1)
    assert fc.backoff_active(key)
    fc.now += dt.timedelta(microseconds=1)
    assert not fc.backoff_active(key)
    assert fc.sync().counts == (0, 1, 1)
    assert fc.backoff[key][0] == 2 * initial_delay


def test_succeeded_pod_is_deleted_without_backoff() -> None:
    # podsShouldBeOnNode: Succeeded pods are deleted with a Normal SucceededDaemonPod event.
    fc = cluster(update_strategies()[0], 1)
    fc.add_pods("node-0", SIMPLE_DS_LABEL, fc.ds, 1)
    fc.pods[0]["status"] = {"phase": "Succeeded"}
    result = fc.sync()
    assert result.counts == (0, 1, 1)
    assert result.events[0][:2] == ("Normal", "SucceededDaemonPod")
    assert fc.backoff == {}


def test_surge_deals_with_existing_pods() -> None:
    # TestSurgeDealsWithExistingPods
    fc = cluster(surge(1), 5)
    fc.add_pods("node-1", SIMPLE_DS_LABEL, fc.ds, 1)
    fc.add_pods("node-2", SIMPLE_DS_LABEL, fc.ds, 2)
    fc.add_pods("node-3", SIMPLE_DS_LABEL, fc.ds, 5)
    fc.add_pods("node-4", SIMPLE_DS_LABEL2, fc.ds, 2)
    assert fc.sync().counts == (2, 5, 0)


def _old_pod(fc: FakeCluster, prefix: str, node: str, created: float, ready: bool | None) -> dict[str, Any]:
    pod = new_pod(prefix, node, SIMPLE_DS_LABEL, fc.ds)
    del pod["metadata"]["labels"][c.CONTROLLER_REVISION_HASH_LABEL]
    set_created(pod, at(created))
    if ready is not None:
        set_ready(pod, ready)
    fc.pods.append(pod)
    return pod


def _current_pod(fc: FakeCluster, node: str, created: float) -> dict[str, Any]:
    pod = new_pod(f"{node}-", node, SIMPLE_DS_LABEL, fc.ds)
    set_created(pod, at(created))
    fc.pods.append(pod)
    return pod


def test_surge_preserves_ready_old_pods() -> None:
    # TestSurgePreservesReadyOldPods
    fc = cluster(surge(1), 5)
    _current_pod(fc, "node-1", 100)
    _old_pod(fc, "node-1-old-", "node-1", 50, True)
    old_ready = _old_pod(fc, "node-1-delete-", "node-1", 60, True)
    fc.add_pods("node-2", SIMPLE_DS_LABEL, fc.ds, 1)
    result = fc.sync()
    assert result.counts == (3, 1, 0)
    assert result.deletes == [old_ready["metadata"]["name"]]


def test_surge_creates_new_pod_when_at_max_surge_and_old_pod_deleted() -> None:
    # TestSurgeCreatesNewPodWhenAtMaxSurgeAndOldPodDeleted
    fc = cluster(surge(1), 5)
    new = _current_pod(fc, "node-0", 100)
    set_ready(new, False)
    _old_pod(fc, "node-0-old-ready-", "node-0", 50, True)
    for i in range(1, 5):
        old = _old_pod(fc, f"node-{i}-preserve-", f"node-{i}", 1, True)
        if i == 4:
            old["metadata"]["deletionTimestamp"] = format_time(at(31))
            old["metadata"]["deletionGracePeriodSeconds"] = 30
    fc.clear_expectations()
    result = fc.sync()
    assert result.counts == (1, 0, 0)
    assert result.creates == ["node-4"]


def test_surge_deletes_unready_old_pods() -> None:
    # TestSurgeDeletesUnreadyOldPods
    fc = cluster(surge(1), 5)
    _current_pod(fc, "node-1", 100)
    unready = _old_pod(fc, "node-1-old-unready-", "node-1", 50, False)
    ready = _old_pod(fc, "node-1-delete-", "node-1", 60, True)
    fc.add_pods("node-2", SIMPLE_DS_LABEL, fc.ds, 1)
    result = fc.sync()
    assert result.counts == (3, 2, 0)
    assert sorted(result.deletes) == sorted([unready["metadata"]["name"], ready["metadata"]["name"]])


@pytest.mark.parametrize(
    ("clock", "want_deletes"),
    [
        pytest.param(60, 1, id="TestSurgePreservesOldReadyWithUnsatisfiedMinReady"),
        pytest.param(70, 2, id="TestSurgeDeletesOldReadyWithUnsatisfiedMinReady"),
    ],
)
def test_surge_min_ready(clock: float, want_deletes: int) -> None:
    fc = cluster(surge(1), 5)
    fc.ds["spec"]["minReadySeconds"] = 15
    fc.now = at(clock)
    new = _current_pod(fc, "node-1", 100)
    set_ready(new, True, since=at(50))
    old_ready = _old_pod(fc, "node-1-old-ready-", "node-1", 50, True)
    excess = _old_pod(fc, "node-1-delete-", "node-1", 60, True)
    fc.add_pods("node-2", SIMPLE_DS_LABEL, fc.ds, 1)
    result = fc.sync()
    assert result.counts == (3, want_deletes, 0)
    expected = [excess["metadata"]["name"]] + ([old_ready["metadata"]["name"]] if want_deletes == 2 else [])
    assert sorted(result.deletes) == sorted(expected)


@pytest.mark.parametrize(
    ("count", "want"),
    [
        pytest.param(0, [], id="none"),
        pytest.param(1, [1], id="one"),
        pytest.param(10, [1, 2, 4, 3], id="ten"),
        pytest.param(250, [1, 2, 4, 8, 16, 32, 64, 123], id="burst"),
    ],
)
def test_slow_start_batches(count: int, want: list[int]) -> None:
    # syncNodes' slow start: batches double from SlowStartInitialBatchSize, the last one trimmed.
    assert slow_start_batches(count) == want
    assert sum(want) == count
