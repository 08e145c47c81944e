"""RollingUpdate decisions: which old pods to delete and which nodes get a new pod now.

Mirrors upstream ``pkg/controller/daemon/update.go`` (``rollingUpdate``, ``findUpdatedPodsOnNode``,
``updatedDesiredNodeCounts``) and ``util/daemonset_util.go`` (``SurgeCount``, ``UnavailableCount``,
``AllowsSurge``). Both percentages round up.

Without surge (``maxSurge`` resolves to 0) just enough old pods are deleted to stay within
``maxUnavailable`` and the manage loop recreates them on the next sync; an old pod that is not
available is always replaced, whatever the budget. With surge, a new pod is created beside each old
one (up to ``maxSurge`` at a time, unlimited for old pods that are not available) and the old pod is
deleted once the new one is available; old pods on nodes the DaemonSet no longer fits are deleted
only while enough pods elsewhere are available.

Assumptions shared with upstream: the manage loop keeps at most one pod (two while surging) per
node, creates missing pods and handles failed ones; pods being deleted are not counted as
unavailable, so an update makes progress while nodes are down. Upstream walks a Go map (random
order); this walks nodes in name order, so the same input always picks the same nodes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.placement import Placement
from kubeds.controllers.daemonset.pods import is_being_deleted, is_pod_available, is_pod_ready, parse_time
from kubeds.controllers.daemonset.podtemplate import get_template_generation, is_pod_updated
from kubeds.models.intstr import IntStrError, scaled_value

__all__ = [
    "RollingUpdateError",
    "allows_surge",
    "find_updated_pods_on_node",
    "get_unavailable_numbers",
    "is_pod_available",
    "rolling_update_decisions",
    "surge_count",
    "surge_wait_seconds",
    "unavailable_count",
    "updated_desired_node_counts",
]

Pod = Mapping[str, Any]
NodeToPods = MutableMapping[str, list[Pod]]


class RollingUpdateError(ValueError):
    """The rolling update cannot be computed; ``str()`` is upstream's message."""


def _rolling(ds: Mapping[str, Any]) -> Mapping[str, Any] | None:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type") != c.ROLLING_UPDATE:
        return None
    return strategy.get("rollingUpdate")


def surge_count(ds: Mapping[str, Any], number_to_schedule: int) -> int:
    """``maxSurge`` scaled to ``number_to_schedule`` (0 unless RollingUpdate with maxSurge set)."""
    rolling = _rolling(ds)
    if rolling is None or rolling.get("maxSurge") is None:
        return 0
    return scaled_value(rolling["maxSurge"], number_to_schedule, round_up=True)


def unavailable_count(ds: Mapping[str, Any], number_to_schedule: int) -> int:
    """``maxUnavailable`` scaled to ``number_to_schedule`` (0 unless RollingUpdate)."""
    rolling = _rolling(ds)
    if rolling is None:
        return 0
    return scaled_value(rolling.get("maxUnavailable"), number_to_schedule, round_up=True)


def allows_surge(ds: Mapping[str, Any]) -> bool:
    """True if the DaemonSet may run two pods on a node (any valid non-zero maxSurge)."""
    try:
        return surge_count(ds, 1) > 0
    except IntStrError:
        return False


def updated_desired_node_counts(
    ds: Mapping[str, Any],
    nodes: Sequence[Mapping[str, Any]],
    node_to_daemon_pods: NodeToPods,
    *,
    placement: Placement | None = None,
) -> tuple[int, int, int]:
    """``(max_surge, max_unavailable, desired)`` over the eligible nodes.

    Like upstream it inserts an empty entry into ``node_to_daemon_pods`` for every eligible node
    without pods, so the rolling update counts those nodes as unavailable. With nodes to run on but
    neither budget, ``max_unavailable`` falls back to 1. Raises :class:`RollingUpdateError`.
    """
    placement = placement or Placement(ds)
    desired = 0
    for node in nodes:
        if not placement.should_run(node)[0]:
            continue
        desired += 1
        node_to_daemon_pods.setdefault(str((node.get("metadata") or {}).get("name") or ""), [])
    try:
        max_unavailable = unavailable_count(ds, desired)
    except IntStrError as err:
        raise RollingUpdateError(c.MSG_INVALID_MAX_UNAVAILABLE.format(error=err)) from None
    try:
        max_surge = surge_count(ds, desired)
    except IntStrError as err:
        raise RollingUpdateError(c.MSG_INVALID_MAX_SURGE.format(error=err)) from None
    if desired > 0 and max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1
    return max_surge, max_unavailable, desired


def get_unavailable_numbers(
    ds: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]], node_to_daemon_pods: Mapping[str, list[Pod]]
) -> tuple[int, int, int, int]:
    """``(max_surge, max_unavailable, desired, empty_nodes_added)`` without touching the input map.

    The shape upstream's ``TestGetUnavailableNumbers`` checks (it counts the empty entries added).
    """
    copied: dict[str, list[Pod]] = {k: list(v) for k, v in node_to_daemon_pods.items()}
    max_surge, max_unavailable, desired = updated_desired_node_counts(ds, nodes, copied)
    added = sum(1 for k in copied if k not in node_to_daemon_pods)
    return max_surge, max_unavailable, desired, added


def find_updated_pods_on_node(
    ds: Mapping[str, Any], pods: Sequence[Pod], hash_: str
) -> tuple[Pod | None, Pod | None, bool]:
    """``(new_pod, old_pod, ok)`` among the node's pods not being deleted; ok is False with excess pods."""
    generation = get_template_generation(ds)
    new_pod: Pod | None = None
    old_pod: Pod | None = None
    for pod in pods:
        if is_being_deleted(pod):
            continue
        if is_pod_updated(pod, hash_, generation):
            if new_pod is not None:
                return None, None, False
            new_pod = pod
        else:
            if old_pod is not None:
                return None, None, False
            old_pod = pod
    return new_pod, old_pod, True


def _name(pod: Pod) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")


def rolling_update_decisions(
    ds: Mapping[str, Any],
    nodes: Sequence[Mapping[str, Any]],
    node_to_daemon_pods: Mapping[str, list[Pod]],
    hash_: str,
    *,
    now: dt.datetime,
    placement: Placement | None = None,
) -> tuple[list[str], list[str]]:
    """``(old_pods_to_delete, nodes_needing_new_pods)`` for one RollingUpdate pass.

    ``node_to_daemon_pods`` is the claimed pods by target node, without terminal pods being deleted
    (:func:`kubeds.controllers.daemonset.pods.nodes_to_daemon_pods`); it is not modified. Raises
    :class:`RollingUpdateError` for an invalid budget or, while surging, for an old pod on a node
    that no longer exists (as upstream, until pod GC removes it).
    """
    placement = placement or Placement(ds)
    # Only new (empty) entries are added and no list is modified: a shallow copy keeps the input intact.
    mapping: dict[str, list[Pod]] = dict(node_to_daemon_pods)
    try:
        max_surge, max_unavailable, desired = updated_desired_node_counts(
            ds, nodes, mapping, placement=placement
        )
    except RollingUpdateError as err:
        raise RollingUpdateError(c.MSG_UNAVAILABLE_NUMBERS.format(error=err)) from None
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    order = sorted(mapping)
    if max_surge == 0:
        return _without_surge(ds, mapping, order, hash_, max_unavailable, min_ready, now), []
    nodes_by_name = {str((n.get("metadata") or {}).get("name") or ""): n for n in nodes}
    return _with_surge(
        ds, mapping, order, hash_, max_surge, desired, min_ready, now, placement, nodes_by_name
    )


def _without_surge(
    ds: Mapping[str, Any],
    mapping: Mapping[str, list[Pod]],
    order: list[str],
    hash_: str,
    max_unavailable: int,
    min_ready: int,
    now: dt.datetime,
) -> list[str]:
    num_unavailable = 0
    allowed_replacements: list[str] = []
    candidates: list[str] = []
    for node_name in order:
        new_pod, old_pod, ok = find_updated_pods_on_node(ds, mapping[node_name], hash_)
        if not ok:
            # Excess pods: the manage loop prunes them; count the node as unavailable meanwhile.
            num_unavailable += 1
            continue
        if (old_pod is None) == (new_pod is None):
            num_unavailable += 1
        elif new_pod is not None:
            if not is_pod_available(new_pod, min_ready, now):
                num_unavailable += 1
        elif old_pod is not None:
            if not is_pod_available(old_pod, min_ready, now):
                allowed_replacements.append(_name(old_pod))
                num_unavailable += 1
            elif num_unavailable < max_unavailable:
                candidates.append(_name(old_pod))
    remaining = min(max(max_unavailable - num_unavailable, 0), len(candidates))
    return allowed_replacements + candidates[:remaining]


def _with_surge(
    ds: Mapping[str, Any],
    mapping: Mapping[str, list[Pod]],
    order: list[str],
    hash_: str,
    max_surge: int,
    desired: int,
    min_ready: int,
    now: dt.datetime,
    placement: Placement,
    nodes_by_name: Mapping[str, Mapping[str, Any]],
) -> tuple[list[str], list[str]]:
    old_pods_to_delete: list[str] = []
    should_not_run_to_delete: list[str] = []
    candidate_new_nodes: list[str] = []
    allowed_new_nodes: list[str] = []
    num_surge = 0
    num_available = 0

    def should_run(node_name: str) -> bool:
        node = nodes_by_name.get(node_name)
        if node is None:
            raise RollingUpdateError(c.MSG_NODE_FOR_NAME.format(node=node_name))
        return placement.should_run(node)[0]

    for node_name in order:
        new_pod, old_pod, ok = find_updated_pods_on_node(ds, mapping[node_name], hash_)
        if not ok:
            num_surge += 1
            continue
        # Availability counts every node, even those being sunset by scheduling constraints.
        if old_pod is not None:
            if is_pod_available(old_pod, min_ready, now):
                num_available += 1
        elif new_pod is not None and is_pod_available(new_pod, min_ready, now):
            num_available += 1

        if old_pod is None:
            continue  # the manage loop creates a missing pod
        if new_pod is None:
            if not is_pod_available(old_pod, min_ready, now):
                if not should_run(node_name):
                    old_pods_to_delete.append(_name(old_pod))
                else:
                    allowed_new_nodes.append(node_name)
            elif not should_run(node_name):
                should_not_run_to_delete.append(_name(old_pod))
            elif num_surge < max_surge:
                candidate_new_nodes.append(node_name)
        elif not is_pod_available(new_pod, min_ready, now):
            num_surge += 1  # waiting for the surged pod to become available
        else:
            old_pods_to_delete.append(_name(old_pod))

    # With surge the owner expects full availability: only sunset pods on nodes the DaemonSet left
    # while enough pods elsewhere are available.
    deletable = num_available - desired
    if deletable > 0:
        old_pods_to_delete.extend(should_not_run_to_delete[:deletable])
    remaining = min(max(max_surge - num_surge, 0), len(candidate_new_nodes))
    return old_pods_to_delete, allowed_new_nodes + candidate_new_nodes[:remaining]


# The old pod is deleted once the new one has been available a little while: availability is
# judged on whole-second timestamps with a strict comparison, so one more second (upstream's
# updatePod handler adds the same second when it requeues after minReadySeconds).
SURGE_REQUEUE_SLACK = 1.0


def surge_wait_seconds(
    ds: Mapping[str, Any], node_to_daemon_pods: Mapping[str, Sequence[Pod]], hash_: str, *, now: dt.datetime
) -> float | None:
    """Seconds until the first surged pod that is Ready but not yet available will be, or None.

    Not a step of upstream's ``rollingUpdate``: there, the pod handler requeues the DaemonSet
    ``minReadySeconds + 1`` after a pod turns Ready, and nothing else wakes the sync while an old
    pod waits for its new neighbour (the status resync looks at the oldest pod of each node only,
    which is the old, available one). The delaying queue keeps the earliest pending time of a key,
    so an earlier pending requeue (the old pods turning Ready just before the update started)
    swallows that one; on a real node later kubelet status updates hide this, on simulated nodes
    nothing follows and the rollout stalled. The controller requeues after this many seconds.
    """
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    if min_ready <= 0:
        return None
    waits: list[float] = []
    for pods in node_to_daemon_pods.values():
        new_pod, old_pod, ok = find_updated_pods_on_node(ds, pods, hash_)
        if not ok or new_pod is None or old_pod is None or not is_pod_ready(new_pod):
            continue
        if is_pod_available(new_pod, min_ready, now):
            continue
        since = None
        for cond in (new_pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                since = parse_time(cond.get("lastTransitionTime"))
        remaining = float(min_ready) if since is None else (since - now).total_seconds() + min_ready
        waits.append(max(remaining, 0.0) + SURGE_REQUEUE_SLACK)
    return min(waits) if waits else None
