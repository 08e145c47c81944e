"""NodeAffinity: ``nodeSelector`` + required node affinity filter, preferred-terms score.

Upstream ``pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go`` (v1.34), on top of
:mod:`kubeds.models.affinity` (``component-helpers/scheduling/corev1/nodeaffinity``):

* PreFilter (:func:`pre_filter`): when every required term names nodes through
  ``matchFields: metadata.name In [...]`` (the DaemonSet controller's pods do), only those nodes are
  evaluated (the union over terms of the intersection within a term); a term without such a field
  makes every node eligible; terms whose name sets are all empty conflict ->
  ``UnschedulableAndUnresolvable`` "pod affinity terms conflict".
* Filter: ``RequiredNodeAffinity.Match`` (parse errors ignored) else ``UnschedulableAndUnresolvable``
  "node(s) didn't match Pod's node affinity/selector".
* Score: sum of weights of matching preferred terms, normalised to 0..100 (not reversed).

Not modelled: the scheduler-profile ``addedAffinity`` argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubeds.models.affinity import RequiredNodeAffinity, preferred_affinity_score
from kubeds.scheduler.plugins.normalize import default_normalize_score
from kubeds.scheduler.plugins.status import FilterResult

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = [
    "ERR_REASON_CONFLICT",
    "ERR_REASON_POD",
    "NAME",
    "PreFilterResult",
    "filter",
    "normalize",
    "pre_filter",
    "score",
]

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_CONFLICT = "pod affinity terms conflict"

_OBJECT_NAME_FIELD = "metadata.name"


@dataclass(frozen=True)
class PreFilterResult:
    """``node_names`` None = all nodes; ``status`` set = the pod fits no node at all."""

    node_names: frozenset[str] | None = None
    status: FilterResult | None = None


def _node_affinity(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}


def pre_filter(pod: Mapping[str, Any]) -> PreFilterResult:
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    terms: Sequence[Mapping[str, Any]] = (required or {}).get("nodeSelectorTerms") or []
    if not terms:
        return PreFilterResult()
    names: set[str] = set()
    for term in terms:
        term_names: set[str] | None = None
        for req in term.get("matchFields") or ():
            if req.get("key") == _OBJECT_NAME_FIELD and req.get("operator") == "In":
                values = {str(v) for v in req.get("values") or ()}
                term_names = values if term_names is None else term_names & values
        if term_names is None:
            return PreFilterResult()  # terms are ORed: this one does not restrict by name
        names |= term_names
    if not names:
        return PreFilterResult(status=FilterResult.unschedulable(ERR_REASON_CONFLICT, unresolvable=True))
    return PreFilterResult(node_names=frozenset(names))


def filter(
    pod: Mapping[str, Any],
    node_info: NodeInfo,
    *,
    required: RequiredNodeAffinity | None = None,
) -> FilterResult:
    """``required`` is the PreFilter state (``RequiredNodeAffinity.from_pod(pod)``), built if omitted."""
    req = RequiredNodeAffinity.from_pod(pod) if required is None else required
    if req.matches(node_info.node):
        return FilterResult.success()
    return FilterResult.unschedulable(ERR_REASON_POD, unresolvable=True)


def score(pod: Mapping[str, Any], node_info: NodeInfo) -> int:
    return preferred_affinity_score(pod, node_info.node)


def normalize(scores: Sequence[int]) -> list[int]:
    return default_normalize_score(scores)
