"""NodeResourcesBalancedAllocation score: prefer nodes whose cpu and memory use stay even.

Upstream ``pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go`` (v1.34): for each
resource (cpu, memory) the fraction ``(node requested + pod request) / allocatable``, capped at 1,
using *actual* requests (``useRequested``); with two resources ``std = |f1 - f2| / 2``, with more the
population standard deviation; the score is ``int((1 - std) * 100)`` in float64 as upstream.
A best-effort pod (no cpu or memory request) is skipped (every node scores 0), which v1.33+ does to
stop such pods piling onto one node (kubernetes issue 129138). No normalisation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubeds.scheduler.plugins.normalize import MAX_NODE_SCORE
from kubeds.scheduler.plugins.podresources import CPU, MEMORY, pod_requests

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = ["DEFAULT_RESOURCES", "NAME", "balanced_resource_score", "is_best_effort", "score"]

NAME = "NodeResourcesBalancedAllocation"
DEFAULT_RESOURCES: tuple[str, ...] = (CPU, MEMORY)


def is_best_effort(request: Mapping[str, int], resources: Sequence[str] = DEFAULT_RESOURCES) -> bool:
    return all(request.get(name, 0) == 0 for name in resources)


def balanced_resource_score(requested: Sequence[int], allocatable: Sequence[int]) -> int:
    """Upstream ``balancedResourceScore`` over parallel lists."""
    fractions: list[float] = []
    for req, alloc in zip(requested, allocatable, strict=True):
        if alloc == 0:
            continue
        fractions.append(min(float(req) / float(alloc), 1.0))
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) * (f - mean) for f in fractions) / len(fractions))
    return int((1 - std) * float(MAX_NODE_SCORE))


def score(
    pod: Mapping[str, Any],
    node_info: NodeInfo,
    *,
    request: Mapping[str, int] | None = None,
    resources: Sequence[str] = DEFAULT_RESOURCES,
) -> int:
    """``request`` is the PreScore state (``pod_requests(pod)``), computed if omitted."""
    pod_req = pod_requests(pod) if request is None else request
    if is_best_effort(pod_req, resources):
        return 0
    requested: list[int] = []
    allocatable: list[int] = []
    for name in resources:
        alloc, req = node_info.allocatable_and_requested(name, pod_req.get(name, 0), non_zero=False)
        requested.append(req if alloc else 0)
        allocatable.append(alloc)
    return balanced_resource_score(requested, allocatable)
