"""NodeShouldRunDaemonPod and claiming, ported from upstream ``daemon_controller_test.go``."""

from __future__ import annotations

from typing import Any

import pytest
from daemonset_builders import SIMPLE_DS_LABEL, SIMPLE_DS_LABEL2, new_daemonset, new_node, new_pod

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.placement import node_should_run_daemon_pod
from kubeds.controllers.daemonset.pods import (
    CLAIM_ADOPT,
    CLAIM_IGNORE,
    CLAIM_OWN,
    CLAIM_RELEASE,
    claim_action,
    nodes_to_daemon_pods,
)


def resource_spec(node_name: str, memory: str, cpu: str) -> dict[str, Any]:
    return {
        "nodeName": node_name,
        "containers": [
            {"name": "c", "image": "x", "resources": {"requests": {"memory": memory, "cpu": cpu}}}
        ],
    }


def ds_with(spec: dict[str, Any]) -> dict[str, Any]:
    ds = new_daemonset("ds")
    ds["spec"]["template"]["spec"] = spec
    return ds


def _affinity(value: str) -> dict[str, Any]:
    expr = {"key": "type", "operator": "In", "values": [value]}
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [expr]}]
            }
        }
    }


HOST_PORT = [{"name": "c", "image": "x", "ports": [{"hostPort": 666}]}]


# TestNodeShouldRunDaemonPod: the node carries the DaemonSet labels and has 100M / 1 CPU allocatable.
@pytest.mark.parametrize(
    ("spec", "unschedulable", "want"),
    [
        pytest.param(resource_spec("", "50M", "0.5"), False, (True, True), id="ShouldRunDaemonPod"),
        pytest.param(resource_spec("", "200M", "0.5"), False, (True, True), id="InsufficientResourceError"),
        pytest.param(
            resource_spec("other-node", "50M", "0.5"), False, (False, False), id="ErrPodNotMatchHostName"
        ),
        pytest.param({"containers": HOST_PORT}, False, (True, True), id="ErrPodNotFitsHostPorts"),
        pytest.param(
            {"containers": [{**HOST_PORT[0], "resources": {"requests": {"memory": "200M"}}}]},
            False,
            (True, True),
            id="InsufficientResourceError with host port",
        ),
        pytest.param(
            {**resource_spec("", "50M", "0.5"), "nodeSelector": SIMPLE_DS_LABEL2},
            False,
            (False, False),
            id="ErrNodeSelectorNotMatch",
        ),
        pytest.param(
            {**resource_spec("", "50M", "0.5"), "nodeSelector": SIMPLE_DS_LABEL},
            False,
            (True, True),
            id="ShouldRunDaemonPod with nodeSelector",
        ),
        pytest.param(
            {**resource_spec("", "50M", "0.5"), "affinity": _affinity("test")},
            False,
            (False, False),
            id="ErrNodeAffinityNotMatch",
        ),
        pytest.param(
            {**resource_spec("", "50M", "0.5"), "affinity": _affinity("production")},
            False,
            (True, True),
            id="ShouldRunDaemonPod with affinity",
        ),
        pytest.param(
            resource_spec("", "50M", "0.5"), True, (True, True), id="ShouldRunDaemonPodOnUnschedulableNode"
        ),
    ],
)
def test_node_should_run_daemon_pod(
    spec: dict[str, Any], unschedulable: bool, want: tuple[bool, bool]
) -> None:
    node = new_node("test-node", SIMPLE_DS_LABEL)
    node["status"]["allocatable"] = {"memory": "100M", "cpu": "1", "pods": "100"}
    if unschedulable:
        node["spec"]["unschedulable"] = True
        node["spec"]["taints"] = [{"key": c.TAINT_NODE_UNSCHEDULABLE, "effect": "NoSchedule"}]
    assert node_should_run_daemon_pod(node, ds_with(spec)) == want


# Taints vs tolerations (daemonset-semantics §1.4 step 3-4; seed S4, S5).
@pytest.mark.parametrize(
    ("taints", "tolerations", "host_network", "want"),
    [
        pytest.param(
            [{"key": "k", "value": "v", "effect": "NoSchedule"}],
            [],
            False,
            (False, True),
            id="NoSchedule keeps running",
        ),
        pytest.param(
            [{"key": "k", "value": "v", "effect": "NoExecute"}],
            [],
            False,
            (False, False),
            id="NoExecute evicts",
        ),
        pytest.param(
            [{"key": "k", "effect": "PreferNoSchedule"}],
            [],
            False,
            (True, True),
            id="PreferNoSchedule ignored",
        ),
        pytest.param(
            [{"key": "k", "value": "v", "effect": "NoExecute"}, {"key": "j", "effect": "NoSchedule"}],
            [{"operator": "Exists"}],
            False,
            (True, True),
            id="Exists without key tolerates everything",
        ),
        pytest.param(
            [{"key": "k", "value": "v", "effect": "NoSchedule"}, {"key": "j", "effect": "NoExecute"}],
            [{"key": "j", "operator": "Exists", "effect": "NoExecute"}],
            False,
            (False, True),
            id="NoSchedule untolerated, NoExecute tolerated",
        ),
        pytest.param(
            [{"key": c.TAINT_NODE_NETWORK_UNAVAILABLE, "effect": "NoSchedule"}],
            [],
            False,
            (False, True),
            id="network-unavailable not tolerated without hostNetwork",
        ),
        pytest.param(
            [{"key": c.TAINT_NODE_NETWORK_UNAVAILABLE, "effect": "NoSchedule"}],
            [],
            True,
            (True, True),
            id="network-unavailable tolerated with hostNetwork",
        ),
        pytest.param(
            [
                {"key": c.TAINT_NODE_NOT_READY, "effect": "NoExecute"},
                {"key": c.TAINT_NODE_UNREACHABLE, "effect": "NoExecute"},
            ],
            [],
            False,
            (True, True),
            id="not-ready and unreachable tolerated by default",
        ),
    ],
)
def test_taints(
    taints: list[Any], tolerations: list[Any], host_network: bool, want: tuple[bool, bool]
) -> None:
    node = new_node("n")
    node["spec"]["taints"] = taints
    ds = new_daemonset("ds")
    ds["spec"]["template"]["spec"]["tolerations"] = tolerations
    ds["spec"]["template"]["spec"]["hostNetwork"] = host_network
    assert node_should_run_daemon_pod(node, ds) == want


def test_get_nodes_to_daemon_pods() -> None:
    # TestGetNodesToDaemonPods: claim decisions plus grouping, with and without deleted terminal pods.
    ds = new_daemonset("foo")
    ds2 = new_daemonset("foo2")
    owned = new_pod("matching-owned-0-", "node-0", SIMPLE_DS_LABEL, ds)
    orphan = new_pod("matching-orphan-0-", "node-0", SIMPLE_DS_LABEL)
    owned_succeeded = new_pod("matching-owned-succeeded-", "node-1", SIMPLE_DS_LABEL, ds)
    owned_succeeded["status"] = {"phase": "Succeeded"}
    owned_failed = new_pod("matching-owned-failed-", "node-1", SIMPLE_DS_LABEL, ds)
    owned_failed["status"] = {"phase": "Failed"}
    deleted_terminal = new_pod("matching-owned-deleted-terminal-", "node-1", SIMPLE_DS_LABEL, ds)
    deleted_terminal["status"] = {"phase": "Failed"}
    deleted_terminal["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    released = new_pod("non-matching-owned-", "node-0", SIMPLE_DS_LABEL2, ds)
    foreign_orphan = new_pod("non-matching-orphan-", "node-1", SIMPLE_DS_LABEL2)
    other_owner = new_pod("matching-owned-by-other-", "node-0", SIMPLE_DS_LABEL, ds2)

    assert [claim_action(ds, p) for p in (owned, orphan, released, foreign_orphan, other_owner)] == [
        CLAIM_OWN,
        CLAIM_ADOPT,
        CLAIM_RELEASE,
        CLAIM_IGNORE,
        CLAIM_IGNORE,
    ]
    pods = [owned, orphan, owned_succeeded, owned_failed, deleted_terminal]
    grouped = nodes_to_daemon_pods(pods)
    assert {k: [p["metadata"]["name"] for p in v] for k, v in grouped.items()} == {
        "node-0": [owned["metadata"]["name"], orphan["metadata"]["name"]],
        "node-1": [owned_succeeded["metadata"]["name"], owned_failed["metadata"]["name"]],
    }
    assert len(nodes_to_daemon_pods(pods, include_deleted_terminal=True)["node-1"]) == 3


@pytest.mark.parametrize(
    ("mutate", "want"),
    [
        pytest.param(lambda ds, p: None, CLAIM_ADOPT, id="orphan adopted"),
        pytest.param(
            lambda ds, p: ds["metadata"].__setitem__("deletionTimestamp", "2026-01-01T00:00:00Z"),
            CLAIM_IGNORE,
            id="DaemonSet being deleted adopts nothing",
        ),
        pytest.param(
            lambda ds, p: p["metadata"].__setitem__("deletionTimestamp", "2026-01-01T00:00:00Z"),
            CLAIM_IGNORE,
            id="pod being deleted",
        ),
        pytest.param(
            lambda ds, p: p["metadata"].__setitem__("namespace", "other"), CLAIM_IGNORE, id="other namespace"
        ),
    ],
)
def test_claim_orphans(mutate: Any, want: str) -> None:
    # ClaimObject for orphans; TestControlledHistories' namespace case uses the same rule.
    ds = new_daemonset("foo")
    pod = new_pod("p-", "node-0", SIMPLE_DS_LABEL)
    mutate(ds, pod)
    assert claim_action(ds, pod) == want
