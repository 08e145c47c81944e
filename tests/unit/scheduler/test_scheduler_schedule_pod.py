"""schedule_pod end to end: filters, PreFilter narrowing, scores, tie breaking and the message."""

from __future__ import annotations

import random
from typing import Any

import pytest
from scheduler_builders import affinity_preferred, daemon_affinity, expr, make_node, make_pod

from kubeds.scheduler.framework import NodeInfo, num_feasible_nodes_to_find, schedule_pod, select_host

SMALL = {"cpu": "1", "memory": "4Gi", "pods": "110"}
DS_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


def _infos(*nodes: dict[str, Any], pods: dict[str, list[dict[str, Any]]] | None = None) -> list[NodeInfo]:
    return [NodeInfo(n, (pods or {}).get(n["metadata"]["name"], [])) for n in nodes]


def _cluster(n: int = 5, **node_kwargs: Any) -> list[dict[str, Any]]:
    return [make_node(f"node-{i}", **node_kwargs) for i in range(n)]


def test_no_nodes() -> None:
    result = schedule_pod(make_pod(), [])
    assert result.node_name is None
    assert result.message == "no nodes available to schedule pods"


def test_taint_and_selector_message() -> None:
    nodes = _cluster(5)
    nodes[2] = make_node(
        "node-2", labels={"color": "blue"}, taints=[{"key": "key", "value": "value", "effect": "NoSchedule"}]
    )
    result = schedule_pod(make_pod(node_selector={"color": "blue"}), _infos(*nodes))
    assert result.node_name is None
    assert result.message == (
        "0/5 nodes are available: 1 node(s) had untolerated taint {key: value}, "
        "4 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.."
    )
    assert result.diagnosis == {
        "node(s) had untolerated taint {key: value}": 1,
        "node(s) didn't match Pod's node affinity/selector": 4,
    }
    assert result.unschedulable_plugins == {"TaintToleration", "NodeAffinity"}
    assert result.evaluated_nodes == 5


def _ds_pod(node: str, cpu: str, **kwargs: Any) -> dict[str, Any]:
    return make_pod(
        requests=[{"cpu": cpu}], affinity=daemon_affinity(node), tolerations=DS_TOLERATIONS, **kwargs
    )


def _busy_node_cluster(filler_priority: int | None) -> list[NodeInfo]:
    nodes = _cluster(5, allocatable=SMALL)
    filler = make_pod(requests=[{"cpu": "900m"}], priority=filler_priority)
    return _infos(*nodes, pods={"node-3": [filler]})


def test_daemon_pod_only_evaluates_its_node_and_reports_the_rest() -> None:
    result = schedule_pod(_ds_pod("node-3", "500m"), _busy_node_cluster(None))
    assert result.node_name is None
    assert result.evaluated_nodes == 1
    assert result.message == (
        "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, "
        "4 Preemption is not helpful for scheduling.."
    )
    assert result.node_statuses["node-0"].reasons == ["node(s) didn't satisfy plugin(s) [NodeAffinity]"]
    assert result.node_statuses["node-3"].plugin == "NodeResourcesFit"


def test_daemon_pod_lands_on_its_node() -> None:
    result = schedule_pod(_ds_pod("node-1", "500m"), _busy_node_cluster(None))
    assert result.node_name == "node-1"
    assert result.message == "" and result.scores == {}  # a single feasible node is not scored


def test_preemption_candidate_drops_the_suffix() -> None:
    pod = _ds_pod("node-3", "500m", priority=2000001000)
    result = schedule_pod(pod, _busy_node_cluster(0))
    assert result.node_name is None
    assert result.preemption_candidates == ("node-3",)
    assert result.message == (
        "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    )


def test_preemption_policy_never() -> None:
    pod = _ds_pod("node-3", "500m", priority=2000001000, preemptionPolicy="Never")
    result = schedule_pod(pod, _busy_node_cluster(0))
    assert result.preemption_candidates == ()
    assert result.message.endswith(". preemption: not eligible due to preemptionPolicy=Never..")


def test_request_above_allocatable_is_not_helped_by_preemption() -> None:
    pod = _ds_pod("node-3", "2", priority=2000001000)
    result = schedule_pod(pod, _busy_node_cluster(0))
    assert result.message == (
        "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.."
    )


def test_preemption_that_would_not_help_keeps_filter_reasons() -> None:
    # Victims exist but even without them the host port stays taken by an equal-priority pod.
    ports = [{"containerPort": 80, "hostPort": 80}]
    node = make_node("node-0")
    infos = _infos(node, pods={"node-0": [make_pod(ports=ports, priority=5), make_pod(priority=1)]})
    result = schedule_pod(make_pod(ports=ports, priority=5), infos)
    assert result.message == (
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
        "preemption: 0/1 nodes are available: "
        "1 node(s) didn't have free ports for the requested pod ports.."
    )


def test_conflicting_node_names_fail_in_pre_filter() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [expr("metadata.name", "In", "a"), expr("metadata.name", "In", "b")]}
                ]
            }
        }
    }
    result = schedule_pod(make_pod(affinity=affinity), _infos(*_cluster(3)))
    assert result.message == (
        "0/3 nodes are available: pod affinity terms conflict. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    )
    assert result.evaluated_nodes == 0


def test_cordoned_node_takes_daemon_pods_only() -> None:
    infos = _infos(make_node("node-0", unschedulable=True))
    assert schedule_pod(_ds_pod("node-0", "100m"), infos).node_name == "node-0"
    result = schedule_pod(make_pod(), infos)
    assert result.message == (
        "0/1 nodes are available: 1 node(s) were unschedulable. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."
    )


def test_scores_prefer_the_least_loaded_node() -> None:
    nodes = _cluster(3)
    busy = make_pod(requests=[{"cpu": "2", "memory": "8Gi"}])
    infos = _infos(*nodes, pods={"node-0": [busy], "node-2": [busy]})
    result = schedule_pod(make_pod(requests=[{"cpu": "500m", "memory": "1Gi"}]), infos, rng=random.Random(1))
    assert result.node_name == "node-1"
    assert result.scores["node-1"] > result.scores["node-0"] == result.scores["node-2"]


def test_scores_weigh_taints_and_preferred_affinity() -> None:
    nodes = [
        make_node("tainted", taints=[{"key": "k", "effect": "PreferNoSchedule"}], labels={"zone": "a"}),
        make_node("plain"),
        make_node("preferred", labels={"zone": "a"}),
    ]
    pod = make_pod(affinity=affinity_preferred((10, {"matchExpressions": [expr("zone", "In", "a")]})))
    result = schedule_pod(pod, _infos(*nodes), rng=random.Random(0))
    # Same resource scores everywhere: taint 3*100 (untainted) + affinity 2*100 (zone a) decide.
    assert result.scores["preferred"] - result.scores["plain"] == 200
    assert result.scores["preferred"] - result.scores["tainted"] == 300
    assert result.node_name == "preferred"


def test_ties_are_broken_by_the_rng() -> None:
    infos = _infos(*_cluster(3))
    picks = {schedule_pod(make_pod(), infos, rng=random.Random(seed)).node_name for seed in range(60)}
    assert picks == {"node-0", "node-1", "node-2"}
    first = schedule_pod(make_pod(), infos, rng=random.Random(7)).node_name
    assert all(schedule_pod(make_pod(), infos, rng=random.Random(7)).node_name == first for _ in range(5))


def test_select_host_prefers_max_and_samples_ties() -> None:
    assert select_host([("a", 1), ("b", 5), ("c", 3)], rng=random.Random(0)) == "b"
    seen = {select_host([("a", 5), ("b", 1), ("c", 5)], rng=random.Random(s)) for s in range(40)}
    assert seen == {"a", "c"}
    with pytest.raises(ValueError):
        select_host([], rng=random.Random(0))


# Ported from upstream pkg/scheduler/schedule_one_test.go TestNumFeasibleNodesToFind.
@pytest.mark.parametrize(
    ("percentage", "num_all", "want"),
    [
        pytest.param(0, 10, 10, id="not set, nodes not more than 50"),
        pytest.param(40, 10, 10, id="set, nodes not more than 50"),
        pytest.param(0, 1000, 420, id="not set, nodes more than 50"),
        pytest.param(40, 1000, 400, id="set, nodes more than 50"),
        pytest.param(0, 6000, 300, id="not set, nodes more than 50*125"),
        pytest.param(40, 6000, 2400, id="set, nodes more than 50*125"),
        pytest.param(100, 6000, 6000, id="100 percent"),
        pytest.param(1, 150, 100, id="never fewer than 100"),
    ],
)
def test_num_feasible_nodes_to_find(percentage: int, num_all: int, want: int) -> None:
    assert num_feasible_nodes_to_find(num_all, percentage) == want


def test_feasible_search_stops_early_and_rotates() -> None:
    infos = _infos(*_cluster(150))
    first = schedule_pod(make_pod(), infos, rng=random.Random(0))
    assert (first.evaluated_nodes, first.feasible_nodes, first.next_start_index) == (100, 100, 100)
    assert set(first.scores) == {f"node-{i}" for i in range(100)}
    second = schedule_pod(make_pod(), infos, rng=random.Random(0), start_index=first.next_start_index)
    assert second.next_start_index == 50
    assert set(second.scores) == {f"node-{i}" for i in [*range(100, 150), *range(50)]}
    everything = schedule_pod(make_pod(), infos, rng=random.Random(0), percentage_of_nodes_to_score=100)
    assert everything.evaluated_nodes == 150
