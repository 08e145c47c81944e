"""The manage, rolling-update and status decisions, read from a :class:`~.dsview.DaemonSetView`.

Each function returns exactly what its whole-cluster counterpart returns for the same cluster, with
nodes taken in name order: :func:`view_manage_plan` ↔ :func:`.decisions.manage_decisions`,
:func:`view_rolling_update` ↔ :func:`.rolling.rolling_update_decisions`, :func:`view_status` ↔
:func:`.status.compute_status`, :func:`view_surge_wait` ↔ :func:`.rolling.surge_wait_seconds`
(upstream ``manage``, ``rollingUpdate`` and ``updateDaemonSetStatus`` of
``pkg/controller/daemon/daemon_controller.go`` and ``update.go``). The cost is that of the nodes acted
on, not of the cluster:

* manage runs ``podsShouldBeOnNode`` only on nodes tagged :data:`~.nodeview.TAG_MANAGE` (more than
  one pod, a pod that is terminal or being deleted, or a pod where it may not stay); the nodes tagged
  :data:`~.nodeview.TAG_CREATE` simply need a pod;
* the rolling update is skipped when no node has an old pod (every sync of a first rollout). Both of
  upstream's loops only ever take *the first* candidates in walk order while a running count stays
  under the budget, and the count only grows, so the answer is "all forced replacements, plus the
  first ``budget - total`` candidates": the totals are counters and the candidates sorted node sets;
* the status is the counters.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Mapping
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.decisions import (
    ManagePlan,
    pods_should_be_on_node,
    unscheduled_pods_without_node,
)
from kubeds.controllers.daemonset.dsview import DaemonSetView
from kubeds.controllers.daemonset.nodeview import (
    COUNT_FIELDS,
    TAG_CREATE,
    TAG_MANAGE,
    TAG_MISSING,
    TAG_OLD_AVAILABLE,
    TAG_OLD_UNAVAILABLE,
    TAG_SURGE_CANDIDATE,
    TAG_SURGE_DELETE_OLD,
    TAG_SURGE_MISSING,
    TAG_SURGE_NEW_NOW,
    TAG_SURGE_SUNSET,
    TAG_SURGE_WAIT,
)
from kubeds.controllers.daemonset.rolling import (
    RollingUpdateError,
    surge_count,
    surge_wait_seconds,
    unavailable_count,
)
from kubeds.controllers.daemonset.status import COUNTERS, status_from_counts
from kubeds.models.intstr import IntStrError

__all__ = ["view_counters", "view_manage_plan", "view_rolling_update", "view_status", "view_surge_wait"]

Obj = Mapping[str, Any]

_I = {name: i for i, name in enumerate(COUNT_FIELDS)}
_DESIRED = _I["desiredNumberScheduled"]
_OLD_NODES = _I["old_nodes"]
_UNAVAILABLE = _I["unavailable"]
_SURGING = _I["surging"]
_SURGE_AVAILABLE = _I["surge_available"]


def view_manage_plan(
    ds: Obj,
    view: DaemonSetView,
    *,
    node: Callable[[str], Obj | None],
    hash_: str,
    now: dt.datetime,
    backoff_active: Callable[[str], bool],
) -> ManagePlan:
    """``manage`` before ``syncNodes``; ``node(name)`` is the cached Node object."""
    plan = ManagePlan()
    creates = view.tags[TAG_CREATE]
    checks = view.tags[TAG_MANAGE]
    if not checks:
        plan.nodes_needing_pods.extend(creates)
    else:
        for name in heapq.merge(creates, checks):
            if name in creates:
                plan.nodes_needing_pods.append(name)
                continue
            node_obj = node(name)
            if node_obj is None:  # deleted since the refresh: manage walks existing nodes only
                continue
            summary = view.summaries[name]
            plan.extend(
                pods_should_be_on_node(
                    node_obj,
                    ds,
                    summary.pods,
                    hash_=hash_,
                    now=now,
                    backoff_active=backoff_active,
                    placement=view.placement,
                )
            )
    missing = view.tags[TAG_MISSING]
    if missing:
        plan.pods_to_delete.extend(
            unscheduled_pods_without_node((), {name: view.summaries[name].pods for name in missing})
        )
    return plan


def _budgets(ds: Obj, desired: int) -> tuple[int, int]:
    """``(max_surge, max_unavailable)`` as ``updatedDesiredNodeCounts`` computes them."""
    try:
        max_unavailable = unavailable_count(ds, desired)
    except IntStrError as err:
        inner = c.MSG_INVALID_MAX_UNAVAILABLE.format(error=err)
        raise RollingUpdateError(c.MSG_UNAVAILABLE_NUMBERS.format(error=inner)) from None
    try:
        max_surge = surge_count(ds, desired)
    except IntStrError as err:
        inner = c.MSG_INVALID_MAX_SURGE.format(error=err)
        raise RollingUpdateError(c.MSG_UNAVAILABLE_NUMBERS.format(error=inner)) from None
    if desired > 0 and max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1
    return max_surge, max_unavailable


def _old_pod_names(view: DaemonSetView, names: Any) -> list[str]:
    result: list[str] = []
    for name in names:
        old = view.summaries[name].old
        assert old is not None
        result.append(old.name)
    return result


def view_rolling_update(ds: Obj, view: DaemonSetView) -> tuple[list[str], list[str]]:
    """``(old_pods_to_delete, nodes_needing_new_pods)``; raises :class:`RollingUpdateError`."""
    desired = view.totals[_DESIRED]
    max_surge, max_unavailable = _budgets(ds, desired)
    if view.totals[_OLD_NODES] == 0:
        return [], []  # nothing is out of date
    tags = view.tags
    if max_surge == 0:
        allowed = _old_pod_names(view, tags[TAG_OLD_UNAVAILABLE])
        remaining = max_unavailable - view.totals[_UNAVAILABLE]
        return allowed + _old_pod_names(view, tags[TAG_OLD_AVAILABLE].first(remaining)), []
    if tags[TAG_SURGE_MISSING]:
        raise RollingUpdateError(c.MSG_NODE_FOR_NAME.format(node=next(iter(tags[TAG_SURGE_MISSING]))))
    to_delete = _old_pod_names(view, tags[TAG_SURGE_DELETE_OLD])
    deletable = view.totals[_SURGE_AVAILABLE] - desired
    if deletable > 0:
        to_delete.extend(_old_pod_names(view, tags[TAG_SURGE_SUNSET].first(deletable)))
    remaining = max_surge - view.totals[_SURGING]
    return to_delete, [*tags[TAG_SURGE_NEW_NOW], *tags[TAG_SURGE_CANDIDATE].first(remaining)]


def view_surge_wait(ds: Obj, view: DaemonSetView, *, now: dt.datetime) -> float | None:
    """Seconds until the first surged pod that is Ready but not yet available will be, or None."""
    waiting = view.tags[TAG_SURGE_WAIT]
    if not waiting:
        return None
    return surge_wait_seconds(ds, {n: list(view.summaries[n].pods) for n in waiting}, view.hash, now=now)


def view_counters(view: DaemonSetView) -> dict[str, int]:
    """The seven status counters."""
    counts = {name: view.totals[_I[name]] for name in COUNTERS if name != "numberUnavailable"}
    counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
    return counts


def view_status(ds: Obj, view: DaemonSetView, *, update_observed_generation: bool = True) -> dict[str, Any]:
    """The status the controller would store (``compute_status`` from the counters)."""
    return status_from_counts(ds, view_counters(view), update_observed_generation=update_observed_generation)
