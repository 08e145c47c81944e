"""NodeName filter: a pod that names its node fits only that node.

Upstream ``pkg/scheduler/framework/plugins/nodename/node_name.go`` (v1.34): ``Fits`` is
``pod.spec.nodeName == "" || pod.spec.nodeName == node.name``; a mismatch is
``UnschedulableAndUnresolvable`` (evicting pods cannot change a node's name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubeds.scheduler.plugins.status import FilterResult

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = ["ERR_REASON", "NAME", "filter"]

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


def filter(pod: Mapping[str, Any], node_info: NodeInfo) -> FilterResult:
    wanted = (pod.get("spec") or {}).get("nodeName") or ""
    if not wanted or wanted == node_info.name:
        return FilterResult.success()
    return FilterResult.unschedulable(ERR_REASON, unresolvable=True)
