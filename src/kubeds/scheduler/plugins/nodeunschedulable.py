"""NodeUnschedulable filter: cordoned nodes (``spec.unschedulable``) take no new pods.

Upstream ``pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go`` (v1.34): a pod
that tolerates the taint ``node.kubernetes.io/unschedulable:NoSchedule`` also tolerates
``spec.unschedulable`` (DaemonSet pods carry that toleration, so they land on cordoned nodes);
otherwise the node is rejected ``UnschedulableAndUnresolvable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubeds.models.taints import NO_SCHEDULE, tolerations_tolerate_taint
from kubeds.scheduler.plugins.status import FilterResult

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = ["ERR_REASON_UNSCHEDULABLE", "NAME", "TAINT_NODE_UNSCHEDULABLE", "filter"]

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"

_UNSCHEDULABLE_TAINT = {"key": TAINT_NODE_UNSCHEDULABLE, "effect": NO_SCHEDULE}


def filter(pod: Mapping[str, Any], node_info: NodeInfo) -> FilterResult:
    if not (node_info.node.get("spec") or {}).get("unschedulable"):
        return FilterResult.success()
    tolerations = (pod.get("spec") or {}).get("tolerations")
    if tolerations_tolerate_taint(tolerations, _UNSCHEDULABLE_TAINT):
        return FilterResult.success()
    return FilterResult.unschedulable(ERR_REASON_UNSCHEDULABLE, unresolvable=True)
