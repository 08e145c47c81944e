"""NodePorts filter: a pod's host ports must be free on the node.

Upstream ``pkg/scheduler/framework/plugins/nodeports/node_ports.go`` and ``HostPortInfo.CheckConflict``
(``pkg/scheduler/framework/types.go``), v1.34: every app-container port with ``hostPort > 0`` is
checked against the node's used ``(hostIP, protocol, hostPort)`` triples (protocol defaults to TCP,
hostIP to ``0.0.0.0``). A wanted ``0.0.0.0`` conflicts with the same protocol/port on any IP; a
specific IP conflicts with the same IP or ``0.0.0.0``. A conflict is ``Unschedulable`` (evicting the
holder frees the port).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubeds.scheduler.plugins.podresources import pod_host_ports
from kubeds.scheduler.plugins.status import FilterResult

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = ["ERR_REASON", "NAME", "filter", "fits_ports"]

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"


def fits_ports(wanted: Sequence[tuple[str, str, int]], node_info: NodeInfo) -> bool:
    return not any(node_info.port_conflict(ip, protocol, port) for ip, protocol, port in wanted)


def filter(
    pod: Mapping[str, Any],
    node_info: NodeInfo,
    *,
    wanted: Sequence[tuple[str, str, int]] | None = None,
) -> FilterResult:
    """``wanted`` is the PreFilter state (``list(pod_host_ports(pod))``), computed if omitted."""
    ports = list(pod_host_ports(pod)) if wanted is None else wanted
    if fits_ports(ports, node_info):
        return FilterResult.success()
    return FilterResult.unschedulable(ERR_REASON)
