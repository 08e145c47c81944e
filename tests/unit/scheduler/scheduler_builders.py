"""Builders for the scheduler tests, after upstream ``pkg/scheduler/testing/wrappers.go``
(``MakePod``, ``MakeNode``) and the per-plugin helpers (``newResourcePod``, ``newPod(host, ports)``,
``nodeWithTaints``, ``podWithTolerations``)."""

from __future__ import annotations

import itertools
from typing import Any

from kubeds.scheduler.framework import NodeInfo

_uid = itertools.count()


def make_pod(
    name: str = "",
    *,
    requests: list[dict[str, Any]] | None = None,
    init_requests: list[dict[str, Any]] | None = None,
    node_name: str = "",
    tolerations: list[dict[str, Any]] | None = None,
    node_selector: dict[str, str] | None = None,
    affinity: dict[str, Any] | None = None,
    ports: list[dict[str, Any]] | None = None,
    priority: int | None = None,
    overhead: dict[str, Any] | None = None,
    **spec_extra: Any,
) -> dict[str, Any]:
    """A pod with one container per ``requests`` entry (one empty container by default)."""
    containers: list[dict[str, Any]] = [
        {"name": f"c{i}", "resources": {"requests": r}} for i, r in enumerate(requests or [{}])
    ]
    if ports:
        containers[0]["ports"] = ports
    spec: dict[str, Any] = {"containers": containers, **spec_extra}
    if init_requests:
        spec["initContainers"] = [
            {"name": f"i{i}", "resources": {"requests": r}} for i, r in enumerate(init_requests)
        ]
    for key, val in (
        ("nodeName", node_name),
        ("tolerations", tolerations),
        ("nodeSelector", node_selector),
        ("affinity", affinity),
        ("priority", priority),
        ("overhead", overhead),
    ):
        if val:
            spec[key] = val
    n = next(_uid)
    return {
        "metadata": {"name": name or f"pod-{n}", "namespace": "default", "uid": f"uid-{n}"},
        "spec": spec,
    }


def make_node(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
    allocatable: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    alloc = allocatable if allocatable is not None else {"cpu": "4", "memory": "16Gi", "pods": "110"}
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
        "status": {"allocatable": alloc, "capacity": alloc},
    }


def node_info(node: dict[str, Any], *pods: dict[str, Any]) -> NodeInfo:
    return NodeInfo(node, pods)


def affinity_required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}
    }


def affinity_preferred(*weighted: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    prefs = [{"weight": w, "preference": term} for w, term in weighted]
    return {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": prefs}}


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


def daemon_affinity(node_name: str) -> dict[str, Any]:
    """What the DaemonSet controller sets on its pods (ReplaceDaemonSetPodNodeNameNodeAffinity)."""
    return affinity_required({"matchFields": [expr("metadata.name", "In", node_name)]})
