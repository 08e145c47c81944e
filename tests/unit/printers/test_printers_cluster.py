"""Rows of Node, Event, Namespace, Lease, PriorityClass, ConfigMap, ServiceAccount and the default row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubeds.apiserver.printers import row_cells

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
Json = dict[str, Any]


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def node(
    name: str, *, conditions: list[Json] | None = None, unschedulable: bool = False, **status: Any
) -> Json:
    obj: Json = {"metadata": {"name": name}, "spec": {}, "status": dict(status)}
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    if unschedulable:
        obj["spec"]["unschedulable"] = True
    return obj


READY = {"type": "Ready", "status": "True"}
NOT_READY = {"type": "Ready", "status": "False"}

# Ported from TestPrintNodeStatus in pkg/printers/internalversion/printers_test.go, plus the
# Unknown status the node lifecycle controller sets when heartbeats stop.
NODE_STATUS_CASES = [
    (node("foo1", conditions=[READY]), "Ready"),
    (node("foo2", conditions=[READY], unschedulable=True), "Ready,SchedulingDisabled"),
    (node("foo3", conditions=[READY, READY]), "Ready"),
    (node("foo4", conditions=[NOT_READY]), "NotReady"),
    (node("foo5", conditions=[NOT_READY], unschedulable=True), "NotReady,SchedulingDisabled"),
    (node("foo6", conditions=[{"type": "InvalidValue", "status": "True"}]), "Unknown"),
    (node("foo7", conditions=[{}]), "Unknown"),
    (
        node("foo8", conditions=[{"type": "InvalidValue", "status": "True"}], unschedulable=True),
        "Unknown,SchedulingDisabled",
    ),
    (node("foo9", conditions=[{}], unschedulable=True), "Unknown,SchedulingDisabled"),
    (
        node("lost", conditions=[{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}]),
        "NotReady",
    ),
]


@pytest.mark.parametrize(("obj", "status"), NODE_STATUS_CASES)
def test_node_status(obj: Json, status: str) -> None:
    assert row_cells("Node", obj, now=NOW)[:5] == [obj["metadata"]["name"], status, "<none>", "<unknown>", ""]


# Ported from TestPrintNodeRole (same file).
@pytest.mark.parametrize(
    ("labels", "roles"),
    [
        ({}, "<none>"),
        (
            {
                "node-role.kubernetes.io/master": "",
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/proxy": "",
                "kubernetes.io/role": "node",
            },
            "control-plane,master,node,proxy",
        ),
        ({"kubernetes.io/role": "node"}, "node"),
        ({"node-role.kubernetes.io/": "", "kubernetes.io/role": ""}, "<none>"),
    ],
)
def test_node_roles(labels: dict[str, str], roles: str) -> None:
    obj = node("n")
    obj["metadata"]["labels"] = labels
    assert row_cells("Node", obj, now=NOW)[2] == roles


# Ported from TestPrintNodeExternalIP / TestPrintNodeInternalIP / TestPrintNodeOSImage (same file).
@pytest.mark.parametrize(
    ("status", "wide"),
    [
        (
            {"addresses": [{"type": "ExternalIP", "address": "1.1.1.1"}]},
            ["<none>", "1.1.1.1", "<unknown>", "<unknown>", "<unknown>"],
        ),
        (
            {"addresses": [{"type": "InternalIP", "address": "1.1.1.1"}]},
            ["1.1.1.1", "<none>", "<unknown>", "<unknown>", "<unknown>"],
        ),
        (
            {
                "addresses": [
                    {"type": "ExternalIP", "address": "2.2.2.2"},
                    {"type": "InternalIP", "address": "3.3.3.3"},
                    {"type": "ExternalIP", "address": "4.4.4.4"},
                ]
            },
            ["3.3.3.3", "2.2.2.2", "<unknown>", "<unknown>", "<unknown>"],
        ),
        (
            {"nodeInfo": {"osImage": "fake-os-image"}},
            ["<none>", "<none>", "fake-os-image", "<unknown>", "<unknown>"],
        ),
        (
            {"nodeInfo": {"kernelVersion": "fake-kernel"}},
            ["<none>", "<none>", "<unknown>", "fake-kernel", "<unknown>"],
        ),
        (
            {"nodeInfo": {"containerRuntimeVersion": "foo://1.2.3"}},
            ["<none>", "<none>", "<unknown>", "<unknown>", "foo://1.2.3"],
        ),
    ],
)
def test_node_wide_columns(status: Json, wide: list[str]) -> None:
    assert row_cells("Node", node("foo1", **status), now=NOW)[5:] == wide


def test_simulated_node_row() -> None:
    obj = node(
        "node-1",
        conditions=[{"type": "MemoryPressure", "status": "False"}, READY],
        unschedulable=True,
        addresses=[{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "node-1"}],
        nodeInfo={
            "kubeletVersion": "v1.32.0",
            "osImage": "kubeds",
            "kernelVersion": "6.1.0",
            "containerRuntimeVersion": "kubeds://0.1.0",
        },
    )
    obj["metadata"]["creationTimestamp"] = ago(5 * 86400)
    obj["metadata"]["labels"] = {
        "kubernetes.io/hostname": "node-1",
        "node-role.kubernetes.io/control-plane": "",
    }
    assert row_cells("Node", obj, now=NOW) == [
        "node-1",
        "Ready,SchedulingDisabled",
        "control-plane",
        "5d",
        "v1.32.0",
        "10.0.0.1",
        "<none>",
        "kubeds",
        "6.1.0",
        "kubeds://0.1.0",
    ]


def event(name: str, **fields: Any) -> Json:
    base: Json = {
        "metadata": {"name": name},
        "source": {"component": "kubelet", "host": "Node1"},
        "involvedObject": {
            "kind": "Deployment",
            "name": "Deployment Name",
            "fieldPath": "spec.containers{foo}",
        },
        "reason": "Event Reason",
        "message": "Message Data",
        "type": "Warning",
    }
    return {**base, **fields}


DAYS_2, DAYS_3 = ago(2 * 86400), ago(3 * 86400)
MICRO_3 = (NOW - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
OBJ = [
    "Warning",
    "Event Reason",
    "deployment/Deployment Name",
    "spec.containers{foo}",
    "kubelet, Node1",
    "Message Data",
]

# Ported from TestPrintEvent (same file).
EVENT_CASES = [
    (
        event(
            "event1",
            source={"component": "kubelet"},
            type="Normal",
            involvedObject={"kind": "Pod", "name": "Pod Name", "fieldPath": "spec.containers{foo}"},
            firstTimestamp=DAYS_3,
            lastTimestamp=DAYS_2,
            count=6,
        ),
        [
            "2d",
            "Normal",
            "Event Reason",
            "pod/Pod Name",
            "spec.containers{foo}",
            "kubelet",
            "Message Data",
            "3d",
            6,
            "event1",
        ],
    ),
    (event("event2", firstTimestamp=DAYS_3, lastTimestamp=DAYS_2, count=6), ["2d", *OBJ, "3d", 6, "event2"]),
    (event("event3", eventTime=MICRO_3, lastTimestamp=DAYS_3, count=1), ["3d", *OBJ, "3d", 1, "event3"]),
    (event("event4", eventTime=MICRO_3, firstTimestamp=DAYS_3, count=1), ["3d", *OBJ, "3d", 1, "event4"]),
    (event("event5", eventTime=MICRO_3, count=1), ["3d", *OBJ, "3d", 1, "event5"]),
    (
        event("event6", eventTime=MICRO_3, series={"count": 2, "lastObservedTime": ago(2 * 86400)}),
        ["2d", *OBJ, "3d", 2, "event6"],
    ),
    (event("event7", eventTime=MICRO_3), ["3d", *OBJ, "3d", 1, "event7"]),
    (
        event(
            "event2",
            source={},
            reportingComponent="kubelet",
            reportingInstance="test",
            firstTimestamp=DAYS_3,
            lastTimestamp=DAYS_2,
            count=6,
        ),
        [
            "2d",
            "Warning",
            "Event Reason",
            "deployment/Deployment Name",
            "spec.containers{foo}",
            "kubelet, test",
            "Message Data",
            "3d",
            6,
            "event2",
        ],
    ),
]


@pytest.mark.parametrize(("obj", "cells"), EVENT_CASES)
def test_event_row(obj: Json, cells: list[Any]) -> None:
    assert row_cells("Event", obj, now=NOW) == cells


def test_event_about_a_cluster_scoped_kind_without_name_and_padded_message() -> None:
    obj = event("e", involvedObject={"kind": "Node"}, message="  cordoned \n", firstTimestamp=ago(30))
    assert row_cells("Event", obj, now=NOW)[:7] == [
        "30s",
        "Warning",
        "Event Reason",
        "node",
        "",
        "kubelet, Node1",
        "cordoned",
    ]


# Ported from TestPrintNamespace, TestPrintServiceAccount (same file); the rest follow the same shape.
@pytest.mark.parametrize(
    ("kind", "obj", "cells"),
    [
        (
            "Namespace",
            {
                "metadata": {"name": "namespace1", "creationTimestamp": ago(-1.9)},
                "status": {"phase": "FooStatus"},
            },
            ["namespace1", "FooStatus", "0s"],
        ),
        ("Namespace", {"metadata": {"name": "namespace2"}}, ["namespace2", "", "<unknown>"]),
        (
            "ServiceAccount",
            {"metadata": {"name": "sa1", "creationTimestamp": ago(-1.9)}, "secrets": []},
            ["sa1", 0, "0s"],
        ),
        (
            "ServiceAccount",
            {
                "metadata": {"name": "sa1", "creationTimestamp": ago(-1.9)},
                "secrets": [{"name": "Secret1"}, {"name": "Secret2"}],
            },
            ["sa1", 2, "0s"],
        ),
        (
            "ConfigMap",
            {
                "metadata": {"name": "kube-proxy", "creationTimestamp": ago(600)},
                "data": {"config.conf": "x", "kubeconfig.conf": "y"},
                "binaryData": {"b": "AA=="},
            },
            ["kube-proxy", 3, "10m"],
        ),
        ("ConfigMap", {"metadata": {"name": "empty"}}, ["empty", 0, "<unknown>"]),
        (
            "Lease",
            {
                "metadata": {"name": "node-1", "creationTimestamp": ago(3600)},
                "spec": {"holderIdentity": "node-1"},
            },
            ["node-1", "node-1", "60m"],
        ),
        ("Lease", {"metadata": {"name": "free"}, "spec": {}}, ["free", "", "<unknown>"]),
        (
            "PriorityClass",
            {
                "metadata": {"name": "system-node-critical", "creationTimestamp": ago(86400)},
                "value": 2000001000,
                "preemptionPolicy": "PreemptLowerPriority",
            },
            ["system-node-critical", 2000001000, False, "24h", "PreemptLowerPriority"],
        ),
        (
            "PriorityClass",
            {"metadata": {"name": "default"}, "value": 0, "globalDefault": True},
            ["default", 0, True, "<unknown>", ""],
        ),
    ],
)
def test_simple_rows(kind: str, obj: Json, cells: list[Any]) -> None:
    assert row_cells(kind, obj, now=NOW) == cells


def test_default_row_is_name_and_rfc3339_creation_time() -> None:
    obj = {"metadata": {"name": "x", "creationTimestamp": "2026-02-27T10:11:12.345678+00:00"}}
    assert row_cells("Widget", obj, now=NOW) == ["x", "2026-02-27T10:11:12Z"]
    assert row_cells("Widget", {"metadata": {"name": "y"}}, now=NOW) == ["y", "0001-01-01T00:00:00Z"]
