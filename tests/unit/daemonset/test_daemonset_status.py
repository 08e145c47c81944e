"""DaemonSet status, ported from upstream ``daemon_controller_test.go`` status tests and §1.7."""

from __future__ import annotations

from typing import Any

import pytest
from daemonset_builders import (
    NO_EXECUTE_TAINTS,
    NO_SCHEDULE_TAINTS,
    SIMPLE_DS_LABEL,
    SIMPLE_NODE_LABEL,
    FakeCluster,
    add_nodes,
    at,
    ds_hash,
    new_daemonset,
    new_node,
    new_pod,
    set_created,
    set_ready,
    update_strategies,
)

from kubeds.controllers.daemonset.pods import is_pod_available, nodes_to_daemon_pods
from kubeds.controllers.daemonset.status import (
    compute_status,
    requeue_after_seconds,
    should_store_status,
    status_equal,
)


def test_simple_daemonset_updates_status_after_launching_pods() -> None:
    # TestSimpleDaemonSetUpdatesStatusAfterLaunchingPods
    for strategy in update_strategies():
        fc = FakeCluster(ds=new_daemonset("foo", strategy=strategy))
        add_nodes(fc.nodes, 0, 5)
        assert fc.sync().counts == (5, 0, 0)
        assert fc.stored_status["currentNumberScheduled"] == 5
        assert fc.stored_status["desiredNumberScheduled"] == 5
        assert fc.stored_status["updatedNumberScheduled"] == 5
        assert fc.stored_status["numberUnavailable"] == 5


def test_number_ready_status() -> None:
    # TestNumberReadyStatus
    for strategy in update_strategies():
        fc = FakeCluster(ds=new_daemonset("foo", strategy=strategy))
        add_nodes(fc.nodes, 0, 2, SIMPLE_NODE_LABEL)
        fc.add_pods("node-0", SIMPLE_DS_LABEL, fc.ds, 1)
        fc.add_pods("node-1", SIMPLE_DS_LABEL, fc.ds, 1)
        assert fc.sync().counts == (0, 0, 0)
        assert fc.stored_status["numberReady"] == 0
        for pod in fc.pods:
            set_ready(pod)
        assert fc.sync().counts == (0, 0, 0)
        assert fc.stored_status["numberReady"] == 2
        assert fc.stored_status["numberAvailable"] == 2


def test_observed_generation() -> None:
    # TestObservedGeneration
    fc = FakeCluster(ds=new_daemonset("foo"))
    fc.ds["metadata"]["generation"] = 1
    add_nodes(fc.nodes, 0, 1, SIMPLE_NODE_LABEL)
    fc.add_pods("node-0", SIMPLE_DS_LABEL, fc.ds, 1)
    fc.sync()
    assert fc.stored_status["observedGeneration"] == 1


def _status_case() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    ds = new_daemonset("foo")
    ds["spec"]["minReadySeconds"] = 10
    ds["metadata"]["generation"] = 4
    ds["status"] = {
        "observedGeneration": 3,
        "collisionCount": 2,
        "conditions": [{"type": "X", "status": "True"}],
    }
    nodes = [new_node(f"node-{i}") for i in range(6)]
    nodes[4]["spec"]["taints"] = NO_SCHEDULE_TAINTS  # pod kept, but misscheduled
    nodes[5]["spec"]["taints"] = NO_EXECUTE_TAINTS
    pods = []
    # node-0: available current pod (ready since t=0, now t=100)
    p = new_pod("a-", "node-0", SIMPLE_DS_LABEL, ds)
    set_ready(p, since=at(0))
    pods.append(p)
    # node-1: ready for 5 s only; old hash
    p = new_pod("b-", "node-1", SIMPLE_DS_LABEL, ds)
    p["metadata"]["labels"]["controller-revision-hash"] = "old"
    set_ready(p, since=at(95))
    pods.append(p)
    # node-2: oldest pod counts: old unready first, then a ready current pod
    old = new_pod("c-", "node-2", SIMPLE_DS_LABEL, ds)
    old["metadata"]["labels"]["controller-revision-hash"] = "old"
    set_created(old, at(1))
    newer = new_pod("d-", "node-2", SIMPLE_DS_LABEL, ds)
    set_created(newer, at(2))
    set_ready(newer, since=at(0))
    pods += [newer, old]
    # node-3: nothing. node-4: misscheduled pod. A pod pinned to a vanished node is not counted.
    pods.append(new_pod("e-", "node-4", SIMPLE_DS_LABEL, ds))
    pods.append(new_pod("f-", "gone", SIMPLE_DS_LABEL, ds))
    return ds, nodes, pods


def test_compute_status_counters() -> None:
    ds, nodes, pods = _status_case()
    status = compute_status(ds, nodes, nodes_to_daemon_pods(pods), ds_hash(ds), now=at(100))
    assert status == {
        "observedGeneration": 4,
        "desiredNumberScheduled": 4,
        "currentNumberScheduled": 3,
        "numberMisscheduled": 1,
        "numberReady": 2,
        "updatedNumberScheduled": 1,
        "numberAvailable": 1,
        "numberUnavailable": 3,
        "collisionCount": 2,
        "conditions": [{"type": "X", "status": "True"}],
    }
    assert requeue_after_seconds(ds, status) == 10.0


def test_compute_status_without_observed_generation_bump() -> None:
    # Expectations not satisfied: status refreshed, observedGeneration kept.
    ds, nodes, pods = _status_case()
    status = compute_status(
        ds, nodes, nodes_to_daemon_pods(pods), ds_hash(ds), now=at(100), update_observed_generation=False
    )
    assert status["observedGeneration"] == 3


def test_pending_pinned_pod_counts_as_scheduled() -> None:
    # §D5: a created, not yet bound pod (pinned through affinity) counts for its node.
    fc = FakeCluster(ds=new_daemonset("foo"))
    add_nodes(fc.nodes, 0, 2)
    fc.sync()
    assert all(not p["spec"].get("nodeName") for p in fc.pods)
    assert fc.stored_status["currentNumberScheduled"] == 2


def test_status_equal_and_should_store() -> None:
    ds = new_daemonset("foo")
    ds["metadata"]["generation"] = 2
    counters = {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 1}
    ds["status"] = {**counters, "observedGeneration": 2}
    assert status_equal(ds["status"], {**counters, "numberMisscheduled": 0})
    assert not status_equal(ds["status"], {**counters, "numberReady": 2})
    assert not should_store_status(ds, dict(counters))
    assert should_store_status(ds, {**counters, "numberReady": 2})
    ds["status"]["observedGeneration"] = 1
    assert should_store_status(ds, dict(counters))
    assert requeue_after_seconds(ds, {"numberReady": 1, "numberAvailable": 0}) is None


# pkg/api/v1/pod/util_test.go TestIsPodAvailable (+ the exact boundary, which is not yet available).
@pytest.mark.parametrize(
    ("ready", "seconds_before", "min_ready", "want"),
    [
        pytest.param(False, 0, 0, False, id="not ready"),
        pytest.param(True, 0, 1, False, id="ready just now, minReadySeconds 1"),
        pytest.param(True, 0, 0, True, id="ready, minReadySeconds 0"),
        pytest.param(True, 51, 50, True, id="ready long enough"),
        pytest.param(True, 50, 50, False, id="exactly minReadySeconds is not enough"),
    ],
)
def test_is_pod_available(ready: bool, seconds_before: int, min_ready: int, want: bool) -> None:
    now = at(1000)
    pod = new_pod("p-", "node-0", SIMPLE_DS_LABEL)
    set_ready(pod, ready, since=at(1000 - seconds_before))
    assert is_pod_available(pod, min_ready, now) is want
