"""NodeResourcesFit: does the pod's request fit what is left on the node; LeastAllocated score.

Upstream ``pkg/scheduler/framework/plugins/noderesources/fit.go`` (``fitsRequest``, v1.34) and
``least_allocated.go`` + ``resource_allocation.go``:

* Filter, in upstream's order: ``"Too many pods"`` when the node already holds ``allocatable.pods``
  pods; then, unless the pod requests nothing, ``"Insufficient cpu"``, ``"Insufficient memory"``,
  ``"Insufficient ephemeral-storage"`` and ``"Insufficient <scalar>"`` for each requested resource
  exceeding ``allocatable - requested`` on the node. All reasons are kept. The code is
  ``Unschedulable`` (preemption may free room) unless some request exceeds the node's whole
  allocatable, then ``UnschedulableAndUnresolvable`` (v1.34's ``InsufficientResource.Unresolvable``).
* Score (default strategy LeastAllocated, cpu and memory weight 1): per resource
  ``(allocatable - requested) * 100 // allocatable`` where requested is the node's *non-zero*
  requests plus the pod's non-zero request (0 when over capacity; resources with no allocatable are
  skipped), then the weighted mean with integer division. No normalisation.

Requests are :func:`kubeds.scheduler.plugins.podresources.pod_requests` (init-container max rule,
sidecars, overhead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubeds.scheduler.plugins.normalize import MAX_NODE_SCORE
from kubeds.scheduler.plugins.podresources import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    is_scalar_resource,
    pod_requests,
)
from kubeds.scheduler.plugins.status import FilterResult

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = [
    "DEFAULT_RESOURCES",
    "ERR_REASON_TOO_MANY_PODS",
    "NAME",
    "InsufficientResource",
    "filter",
    "fits_request",
    "insufficient_reason",
    "least_requested_score",
    "score",
]

NAME = "NodeResourcesFit"
ERR_REASON_TOO_MANY_PODS = "Too many pods"
_INSUFFICIENT_FMT = "Insufficient {name}"

# (resource, weight) of the default LeastAllocated scoring strategy.
DEFAULT_RESOURCES: tuple[tuple[str, int], ...] = ((CPU, 1), (MEMORY, 1))


def insufficient_reason(resource: str) -> str:
    return _INSUFFICIENT_FMT.format(name=resource)


class InsufficientResource:
    """One resource the node lacks (upstream ``InsufficientResource``)."""

    __slots__ = ("capacity", "reason", "requested", "resource_name", "used")

    def __init__(self, resource_name: str, reason: str, requested: int, used: int, capacity: int) -> None:
        self.resource_name = resource_name
        self.reason = reason
        self.requested = requested
        self.used = used
        self.capacity = capacity

    @property
    def unresolvable(self) -> bool:
        """The request exceeds the node's whole allocatable: no eviction can make room."""
        return self.resource_name != "pods" and self.requested > self.capacity

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InsufficientResource):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"InsufficientResource{self._key()!r}"

    def _key(self) -> tuple[str, str, int, int, int]:
        return (self.resource_name, self.reason, self.requested, self.used, self.capacity)


def fits_request(request: Mapping[str, int], node_info: NodeInfo) -> list[InsufficientResource]:
    """Every resource ``request`` (a :func:`pod_requests` result) does not fit on the node."""
    out: list[InsufficientResource] = []
    used_pods = len(node_info.pods)
    if used_pods + 1 > node_info.allowed_pod_number:
        out.append(
            InsufficientResource("pods", ERR_REASON_TOO_MANY_PODS, 1, used_pods, node_info.allowed_pod_number)
        )
    if not any(request.values()):
        return out
    alloc, used = node_info.allocatable, node_info.requested
    names = [CPU, MEMORY, EPHEMERAL_STORAGE]
    names += sorted(n for n in request if is_scalar_resource(n))
    for name in names:
        want = request.get(name, 0)
        if want <= 0:
            continue
        have, taken = alloc.get(name, 0), used.get(name, 0)
        if want > have - taken:
            out.append(InsufficientResource(name, insufficient_reason(name), want, taken, have))
    return out


def filter(
    pod: Mapping[str, Any],
    node_info: NodeInfo,
    *,
    request: Mapping[str, int] | None = None,
) -> FilterResult:
    """``request`` is the PreFilter state (``pod_requests(pod)``), computed if omitted."""
    missing = fits_request(pod_requests(pod) if request is None else request, node_info)
    if not missing:
        return FilterResult.success()
    unresolvable = any(m.unresolvable for m in missing)
    return FilterResult.unschedulable(*(m.reason for m in missing), unresolvable=unresolvable)


def least_requested_score(requested: int, capacity: int) -> int:
    """Unused capacity on a 0..100 scale (upstream ``leastRequestedScore``)."""
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def score(
    pod: Mapping[str, Any],
    node_info: NodeInfo,
    *,
    request: Mapping[str, int] | None = None,
    resources: Sequence[tuple[str, int]] = DEFAULT_RESOURCES,
) -> int:
    """LeastAllocated; ``request`` is the PreScore state (``pod_requests(pod, non_zero=True)``)."""
    pod_req = pod_requests(pod, non_zero=True) if request is None else request
    node_score = weight_sum = 0
    for name, weight in resources:
        alloc, req = node_info.allocatable_and_requested(name, pod_req.get(name, 0), non_zero=True)
        if alloc == 0:
            continue
        node_score += least_requested_score(req, alloc) * weight
        weight_sum += weight
    return node_score // weight_sum if weight_sum else 0
