"""Defaulting of the cluster-level and small kinds: Node, Namespace, PDB, PriorityClass, Event, Lease.

Mirrors ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_NodeStatus``: allocatable defaults to
capacity; ``SetDefaults_Namespace``: the immutable ``kubernetes.io/metadata.name`` label;
``SetDefaults_NamespaceStatus``: phase Active), the namespace strategy's ``kubernetes`` finalizer
(``pkg/registry/core/namespace/strategy.go`` PrepareForCreate), ``pkg/apis/scheduling/v1/defaults.go``
(``preemptionPolicy``), and the zero values Go's JSON encoding writes for non-``omitempty`` fields
(PDB status counters, ``PriorityClass.value``, Event timestamps and reporting fields, Node
``nodeInfo``/``daemonEndpoints``, ``Lease.spec``).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = [
    "default_event",
    "default_lease",
    "default_namespace",
    "default_node",
    "default_pdb",
    "default_priority_class",
]

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
FINALIZER_KUBERNETES = "kubernetes"
# NodeSystemInfo fields (all plain strings without omitempty).
_NODE_INFO_FIELDS = (
    "architecture",
    "bootID",
    "containerRuntimeVersion",
    "kernelVersion",
    "kubeProxyVersion",
    "kubeletVersion",
    "machineID",
    "operatingSystem",
    "osImage",
    "systemUUID",
)
_PDB_STATUS_COUNTERS = ("currentHealthy", "desiredHealthy", "disruptionsAllowed", "expectedPods")


def _sub(obj: dict[str, Any], name: str) -> dict[str, Any]:
    value = obj.get(name)
    if not isinstance(value, dict):
        value = obj[name] = {}
    return value


def default_node(node: dict[str, Any]) -> None:
    _sub(node, "spec")
    status = _sub(node, "status")
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = copy.deepcopy(status["capacity"])
    endpoints = _sub(status, "daemonEndpoints")
    _sub(endpoints, "kubeletEndpoint").setdefault("Port", 0)
    info = _sub(status, "nodeInfo")
    for name in _NODE_INFO_FIELDS:
        info.setdefault(name, "")


def default_namespace(namespace: dict[str, Any]) -> None:
    metadata = _sub(namespace, "metadata")
    name = metadata.get("name")
    if name:
        labels = metadata.get("labels")
        if not isinstance(labels, dict):
            labels = metadata["labels"] = {}
        labels[NAMESPACE_NAME_LABEL] = name
    spec = _sub(namespace, "spec")
    if spec.get("finalizers") is None:
        spec["finalizers"] = [FINALIZER_KUBERNETES]
    status = _sub(namespace, "status")
    if not status.get("phase"):
        status["phase"] = "Active"


def default_pdb(pdb: dict[str, Any]) -> None:
    _sub(pdb, "spec")
    status = _sub(pdb, "status")
    for name in _PDB_STATUS_COUNTERS:
        status.setdefault(name, 0)


def default_priority_class(pc: dict[str, Any]) -> None:
    pc.setdefault("value", 0)
    if pc.get("preemptionPolicy") is None:
        pc["preemptionPolicy"] = "PreemptLowerPriority"


def default_event(event: dict[str, Any]) -> None:
    _sub(event, "involvedObject")
    _sub(event, "source")
    for name in ("firstTimestamp", "lastTimestamp", "eventTime"):
        event.setdefault(name, None)
    for name in ("reportingComponent", "reportingInstance"):
        event.setdefault(name, "")


def default_lease(lease: dict[str, Any]) -> None:
    _sub(lease, "spec")
