from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import pytest

from kubeds.nodes.templates import (
    derive_node_ip,
    derive_pod_cidr,
    desired_node_conditions,
    format_micro_time,
    lease_renew_interval,
    new_lease,
    new_node,
    node_internal_ip,
    node_status_conditions,
    renew_lease,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(seconds=10)


def _by_type(conds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in conds}


def test_new_node_standard_labels_merge_user_labels() -> None:
    node = new_node("n1", labels={"role": "edge", "kubernetes.io/arch": "arm64"}, internal_ip="172.18.0.5")
    assert node["apiVersion"] == "v1" and node["kind"] == "Node"
    assert node["metadata"]["name"] == "n1"
    assert node["metadata"]["labels"] == {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "arm64",
        "kubernetes.io/hostname": "n1",
        "kubernetes.io/os": "linux",
        "role": "edge",
    }


def test_new_node_capacity_addresses_info() -> None:
    taints = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    node = new_node("n1", cpu="8", memory="32Gi", pods="50", taints=taints, internal_ip="172.18.1.7")
    status = node["status"]
    want = {
        "cpu": "8",
        "memory": "32Gi",
        "pods": "50",
        "ephemeral-storage": "100Gi",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    }
    assert status["capacity"] == want and status["allocatable"] == want
    assert status["capacity"] is not status["allocatable"]
    assert status["addresses"] == [
        {"address": "172.18.1.7", "type": "InternalIP"},
        {"address": "n1", "type": "Hostname"},
    ]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    info = status["nodeInfo"]
    assert info["kubeletVersion"] == "v1.32.0" and info["kubeProxyVersion"] == "v1.32.0"
    assert info["operatingSystem"] == "linux" and info["architecture"] == "amd64"
    assert info["containerRuntimeVersion"].startswith("containerd://")
    for key in ("osImage", "kernelVersion", "machineID", "systemUUID", "bootID"):
        assert info[key]
    assert len(info["machineID"]) == 32
    assert node["spec"] == {"taints": taints, "podCIDR": "10.1.7.0/24", "podCIDRs": ["10.1.7.0/24"]}
    assert "conditions" not in status


def test_new_node_identifiers_are_stable_and_distinct() -> None:
    a1, a2, b = (new_node(n, internal_ip="172.18.0.2") for n in ("a", "a", "b"))
    assert a1["status"]["nodeInfo"] == a2["status"]["nodeInfo"]
    for key in ("machineID", "systemUUID", "bootID"):
        assert a1["status"]["nodeInfo"][key] != b["status"]["nodeInfo"][key]


def test_new_node_kubelet_version() -> None:
    info = new_node("n", internal_ip="10.1.1.1", kubelet_version="v1.30.2")["status"]["nodeInfo"]
    assert info["kubeletVersion"] == "v1.30.2"


# Reasons and messages of pkg/kubelet/nodestatus/setters.go (and the route controller).
@pytest.mark.parametrize(
    ("kwargs", "ctype", "status", "reason", "message"),
    [
        ({}, "Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ({"ready": False}, "Ready", "False", "KubeletNotReady", "container runtime is down"),
        (
            {},
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            {"memory_pressure": True},
            "MemoryPressure",
            "True",
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        ),
        ({}, "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        (
            {"disk_pressure": True},
            "DiskPressure",
            "True",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
        ),
        ({}, "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        (
            {"pid_pressure": True},
            "PIDPressure",
            "True",
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
        ),
        ({}, "NetworkUnavailable", "False", "RouteCreated", "RouteController created a route"),
        (
            {"network_unavailable": True},
            "NetworkUnavailable",
            "True",
            "NoRouteCreated",
            "RouteController failed to create a route",
        ),
    ],
)
def test_node_condition_texts(
    kwargs: dict[str, Any], ctype: str, status: str, reason: str, message: str
) -> None:
    cond = _by_type(node_status_conditions(now=T0, **kwargs))[ctype]
    assert (cond["status"], cond["reason"], cond["message"]) == (status, reason, message)
    assert cond["lastHeartbeatTime"] == cond["lastTransitionTime"] == "2026-01-01T00:00:00Z"


def test_node_conditions_order_and_ready_last() -> None:
    types = [c["type"] for c in node_status_conditions(now=T0)]
    assert types == ["NetworkUnavailable", "MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]


def test_node_conditions_transition_time_kept_when_unchanged() -> None:
    first = node_status_conditions(now=T0)
    second = _by_type(node_status_conditions(now=T1, disk_pressure=True, previous=first))
    assert second["Ready"]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert second["Ready"]["lastHeartbeatTime"] == "2026-01-01T00:00:10Z"
    assert second["DiskPressure"]["lastTransitionTime"] == "2026-01-01T00:00:10Z"
    assert second["DiskPressure"]["status"] == "True"


def test_node_conditions_keep_foreign_conditions_in_place() -> None:
    foreign = {"type": "KernelDeadlock", "status": "False", "lastTransitionTime": "x"}
    previous = [
        {"type": "Ready", "status": "Unknown", "lastTransitionTime": "y"},
        foreign,
    ]
    conds = node_status_conditions(now=T1, previous=previous)
    assert [c["type"] for c in conds] == [
        "Ready",
        "KernelDeadlock",
        "NetworkUnavailable",
        "MemoryPressure",
        "DiskPressure",
        "PIDPressure",
    ]
    assert conds[1] == foreign
    assert conds[0]["status"] == "True" and conds[0]["lastTransitionTime"] == "2026-01-01T00:00:10Z"


@pytest.mark.parametrize(
    ("annotations", "want"),
    [
        ({}, {}),
        ({"kubeds.io/condition-DiskPressure": "True"}, {"disk_pressure": True}),
        ({"kubeds.io/condition-Ready": "false"}, {"ready": False}),
        ({"kubeds.io/condition-MemoryPressure": "maybe"}, {}),
        ({"kubeds.io/condition-NetworkUnavailable": "True", "other": "True"}, {"network_unavailable": True}),
    ],
)
def test_desired_node_conditions(annotations: dict[str, str], want: dict[str, bool]) -> None:
    base = {
        "ready": True,
        "memory_pressure": False,
        "disk_pressure": False,
        "pid_pressure": False,
        "network_unavailable": False,
    }
    assert desired_node_conditions({"metadata": {"annotations": annotations}}) == {**base, **want}


def test_new_lease() -> None:
    now = dt.datetime(2026, 1, 1, 0, 0, 5, 123456, tzinfo=dt.UTC)
    assert new_lease("n1", "uid-1", now=now) == {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": "n1",
            "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "uid-1"}],
        },
        "spec": {
            "holderIdentity": "n1",
            "leaseDurationSeconds": 40,
            "renewTime": "2026-01-01T00:00:05.123456Z",
        },
    }


def test_new_lease_without_uid_has_no_owner_and_custom_duration() -> None:
    lease = new_lease("n1", "", now=T0, duration=90)
    assert "ownerReferences" not in lease["metadata"]
    assert lease["spec"]["leaseDurationSeconds"] == 90
    assert lease["spec"]["renewTime"] == "2026-01-01T00:00:00.000000Z"


def test_renew_lease_only_moves_renew_time() -> None:
    lease = new_lease("n1", "u", now=T0)
    renewed = renew_lease(lease, now=T1)
    assert renewed["spec"] == {**lease["spec"], "renewTime": "2026-01-01T00:00:10.000000Z"}
    assert lease["spec"]["renewTime"] == "2026-01-01T00:00:00.000000Z"
    assert renewed["metadata"] == lease["metadata"]


def test_micro_time_converts_to_utc() -> None:
    t = dt.datetime(2026, 1, 1, 2, 0, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_micro_time(t) == "2026-01-01T00:00:00.000005Z"


def test_lease_renew_interval_is_a_quarter() -> None:
    assert lease_renew_interval(40) == 10.0
    assert lease_renew_interval() == 10.0


def test_derived_addresses() -> None:
    ip = derive_node_ip("node-17")
    assert ip == derive_node_ip("node-17") != derive_node_ip("node-18")
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("172.16.0.0/12")
    assert derive_pod_cidr("172.18.3.200") == "10.3.200.0/24"
    assert ipaddress.ip_network(derive_pod_cidr("fd00::1:2")).prefixlen == 80
    assert node_internal_ip({"metadata": {"name": "node-17"}}) == ip
    node = {
        "status": {
            "addresses": [{"type": "Hostname", "address": "h"}, {"type": "InternalIP", "address": "1.2.3.4"}]
        }
    }
    assert node_internal_ip(node) == "1.2.3.4"
