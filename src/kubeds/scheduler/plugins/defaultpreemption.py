"""DefaultPreemption as a PostFilter: could evicting lower-priority pods make room, and the message.

Upstream ``pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`` and
``pkg/scheduler/framework/preemption/preemption.go`` (v1.34), reduced to the decision:

1. ``PodEligibleToPreemptOthers``: ``preemptionPolicy: Never`` -> "not eligible due to
   preemptionPolicy=Never.";
2. only nodes whose filter status is ``Unschedulable`` (not ``...AndUnresolvable``) are candidates
   ("potential nodes"); every other node counts as "Preemption is not helpful for scheduling";
3. per potential node (``SelectVictimsOnNode``): the victims are the pods with a lower priority;
   none -> "No preemption victims found for incoming pod"; otherwise remove them all and run the
   filters again: a failure keeps the filters' reasons, a success makes the node a candidate;
4. no candidate -> a nested FitError message over all nodes, prefixed ``"preemption: "``.

With candidates, upstream nominates the best one and evicts its minimal victim set; here the
candidates are returned (in node order) and the message is empty, as upstream's successful
PostFilter status has none. Not modelled: PodDisruptionBudgets, victim minimisation and ordering,
the nominated-node "terminating pod" eligibility rule, extenders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubeds.scheduler.messages import fit_error_message, preemption_message, reason_histogram
from kubeds.scheduler.plugins.podresources import pod_priority
from kubeds.scheduler.plugins.status import UNSCHEDULABLE, FilterResult

if TYPE_CHECKING:
    from kubeds.scheduler.framework import NodeInfo

__all__ = [
    "MSG_NOT_ELIGIBLE_NEVER",
    "MSG_NOT_HELPFUL",
    "MSG_NO_VICTIMS",
    "NAME",
    "PostFilterOutcome",
    "post_filter",
]

NAME = "DefaultPreemption"
MSG_NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
MSG_NOT_HELPFUL = "Preemption is not helpful for scheduling"
MSG_NO_VICTIMS = "No preemption victims found for incoming pod"
PREEMPT_NEVER = "Never"


@dataclass(frozen=True)
class PostFilterOutcome:
    """``message`` for the FitError (already ``"preemption: ..."``; "" when preemption can help)."""

    message: str
    candidates: tuple[str, ...] = ()


def post_filter(
    pod: Mapping[str, Any],
    node_infos: Sequence[NodeInfo],
    statuses: Mapping[str, FilterResult],
    *,
    run_filters: Callable[[Mapping[str, Any], NodeInfo], FilterResult],
) -> PostFilterOutcome:
    """Decide preemption for a pod that fit no node; ``statuses`` are the filter rejections by node."""
    if (pod.get("spec") or {}).get("preemptionPolicy") == PREEMPT_NEVER:
        return PostFilterOutcome(preemption_message(MSG_NOT_ELIGIBLE_NEVER))
    priority = pod_priority(pod)
    dry_run: dict[str, FilterResult] = {}
    candidates: list[str] = []
    for node_info in node_infos:
        status = statuses.get(node_info.name)
        if status is None or status.code != UNSCHEDULABLE:
            continue
        victims = [p for p in node_info.pods.values() if pod_priority(p) < priority]
        if not victims:
            dry_run[node_info.name] = FilterResult.unschedulable(MSG_NO_VICTIMS, unresolvable=True)
            continue
        trial = node_info.clone()
        for victim in victims:
            trial.remove_pod(victim)
        result = run_filters(pod, trial)
        if result.is_success:
            candidates.append(node_info.name)
        else:
            dry_run[node_info.name] = result
    if candidates:
        return PostFilterOutcome("", tuple(candidates))
    histogram = reason_histogram(
        dry_run.values(), absent_reasons=(MSG_NOT_HELPFUL,), absent_count=len(node_infos) - len(dry_run)
    )
    return PostFilterOutcome(preemption_message(fit_error_message(len(node_infos), histogram)))
