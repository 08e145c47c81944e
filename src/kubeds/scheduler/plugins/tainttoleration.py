"""TaintToleration: filter on NoSchedule/NoExecute taints, score on PreferNoSchedule taints.

Upstream ``pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go`` (v1.34; the
reason wording is the one used since v1.25, ``"node(s) had untolerated taint {%s: %s}"`` with the
first untolerated taint's key and value - before v1.25 it was "node(s) had taints that the pod
didn't tolerate"):

* Filter: the first taint (node order) with effect NoSchedule or NoExecute that no toleration of
  the pod tolerates rejects the node ``UnschedulableAndUnresolvable``; PreferNoSchedule never filters.
* Score: the number of PreferNoSchedule taints not tolerated by the pod's tolerations whose effect is
  empty or PreferNoSchedule; normalised *reversed* (fewer such taints -> higher score).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubeds.models.taints import (
    NO_EXECUTE,
    NO_SCHEDULE,
    PREFER_NO_SCHEDULE,
    find_matching_untolerated_taint,
    tolerations_tolerate_taint,
)
from kubeds.scheduler.plugins.normalize import default_normalize_score
from kubeds.scheduler.plugins.status import FilterResult

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = ["ERR_REASON_FMT", "NAME", "filter", "normalize", "prefer_no_schedule_tolerations", "score"]

NAME = "TaintToleration"
ERR_REASON_FMT = "node(s) had untolerated taint {{{key}: {value}}}"

_DO_NOT_SCHEDULE = frozenset((NO_SCHEDULE, NO_EXECUTE))


def _taints(node_info: NodeInfo) -> list[Mapping[str, Any]]:
    return (node_info.node.get("spec") or {}).get("taints") or []


def _tolerations(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return (pod.get("spec") or {}).get("tolerations") or []


def filter(pod: Mapping[str, Any], node_info: NodeInfo) -> FilterResult:
    taint = find_matching_untolerated_taint(_taints(node_info), _tolerations(pod), effects=_DO_NOT_SCHEDULE)
    if taint is None:
        return FilterResult.success()
    reason = ERR_REASON_FMT.format(key=taint.get("key") or "", value=taint.get("value") or "")
    return FilterResult.unschedulable(reason, unresolvable=True)


def prefer_no_schedule_tolerations(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Tolerations whose effect is empty or PreferNoSchedule (upstream PreScore state)."""
    return [t for t in _tolerations(pod) if (t.get("effect") or "") in ("", PREFER_NO_SCHEDULE)]


def score(
    pod: Mapping[str, Any],
    node_info: NodeInfo,
    *,
    tolerations: Sequence[Mapping[str, Any]] | None = None,
) -> int:
    """Count of intolerable PreferNoSchedule taints (``tolerations`` = precomputed PreScore state)."""
    tols = prefer_no_schedule_tolerations(pod) if tolerations is None else tolerations
    return sum(
        1
        for taint in _taints(node_info)
        if taint.get("effect") == PREFER_NO_SCHEDULE and not tolerations_tolerate_taint(tols, taint)
    )


def normalize(scores: Sequence[int]) -> list[int]:
    return default_normalize_score(scores, reverse=True)
