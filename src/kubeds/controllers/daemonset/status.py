"""DaemonSet status: the seven counters, observedGeneration, and when to write them.

Mirrors upstream ``pkg/controller/daemon/daemon_controller.go`` ``updateDaemonSetStatus`` and
``storeDaemonSetStatus``. For every existing node the DaemonSet should run on:
``desiredNumberScheduled`` counts it; if it has a pod, ``currentNumberScheduled`` counts it and only
the node's first pod (bound first, then oldest) is looked at: Ready → ``numberReady``, Available
(``minReadySeconds``) → ``numberAvailable``, current hash or generation → ``updatedNumberScheduled``.
A node it should not run on but that has a pod counts in ``numberMisscheduled``.
``numberUnavailable = desired - available``. Pods pinned to nodes that do not exist are not counted;
a pod still pending (pinned through affinity, not yet bound) counts as scheduled.

``collisionCount`` is only ever changed by the history code and ``conditions`` are never set by the
controller: both are carried over unchanged. ``observedGeneration`` advances only when the sync
processed this generation (expectations satisfied).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds.controllers.daemonset.placement import Placement
from kubeds.controllers.daemonset.pods import is_pod_available, is_pod_ready, sort_pods_oldest_first
from kubeds.controllers.daemonset.podtemplate import get_template_generation, is_pod_updated

__all__ = [
    "COUNTERS",
    "compute_status",
    "requeue_after_seconds",
    "should_store_status",
    "status_equal",
    "status_from_counts",
]

COUNTERS = (
    "desiredNumberScheduled",
    "currentNumberScheduled",
    "numberMisscheduled",
    "numberReady",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
)
_PRESERVED = ("collisionCount", "conditions")


def compute_status(
    ds: Mapping[str, Any],
    nodes: Sequence[Mapping[str, Any]],
    node_to_daemon_pods: Mapping[str, Sequence[Mapping[str, Any]]],
    hash_: str,
    *,
    now: dt.datetime,
    update_observed_generation: bool = True,
    placement: Placement | None = None,
) -> dict[str, Any]:
    """The status the controller would store for ``ds`` (a new dict; ``ds`` is untouched)."""
    placement = placement or Placement(ds)
    generation = get_template_generation(ds)
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    counts = dict.fromkeys(COUNTERS, 0)
    for node in nodes:
        name = (node.get("metadata") or {}).get("name") or ""
        pods = node_to_daemon_pods.get(name) or ()
        should_run, _ = placement.should_run(node)
        if not should_run:
            if pods:
                counts["numberMisscheduled"] += 1
            continue
        counts["desiredNumberScheduled"] += 1
        if not pods:
            continue
        counts["currentNumberScheduled"] += 1
        pod = pods[0] if len(pods) == 1 else sort_pods_oldest_first(pods)[0]
        if is_pod_ready(pod):
            counts["numberReady"] += 1
            if not min_ready or is_pod_available(pod, min_ready, now):
                counts["numberAvailable"] += 1
        if is_pod_updated(pod, hash_, generation):
            counts["updatedNumberScheduled"] += 1
    counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
    return status_from_counts(ds, counts, update_observed_generation=update_observed_generation)


def status_from_counts(
    ds: Mapping[str, Any], counts: Mapping[str, int], *, update_observed_generation: bool = True
) -> dict[str, Any]:
    """The status dict for the seven ``counts``: observedGeneration, the counters, carried-over fields."""
    old: Mapping[str, Any] = ds.get("status") or {}
    status: dict[str, Any] = {}
    if update_observed_generation:
        status["observedGeneration"] = int((ds.get("metadata") or {}).get("generation") or 0)
    elif old.get("observedGeneration") is not None:
        status["observedGeneration"] = old["observedGeneration"]
    status.update(counts)
    for key in _PRESERVED:
        if old.get(key) is not None:
            status[key] = old[key]
    return status


def status_equal(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """The seven counters of two statuses are equal (a missing counter is 0)."""
    a, b = a or {}, b or {}
    return all(int(a.get(k) or 0) == int(b.get(k) or 0) for k in COUNTERS)


def should_store_status(ds: Mapping[str, Any], new_status: Mapping[str, Any]) -> bool:
    """False when upstream skips the write: counters unchanged and observedGeneration >= generation."""
    old = ds.get("status") or {}
    generation = int((ds.get("metadata") or {}).get("generation") or 0)
    return not (status_equal(old, new_status) and int(old.get("observedGeneration") or 0) >= generation)


def requeue_after_seconds(ds: Mapping[str, Any], status: Mapping[str, Any]) -> float | None:
    """Seconds after which to sync again so pods that become available are counted, else None."""
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    if min_ready > 0 and status.get("numberReady") != status.get("numberAvailable"):
        return float(min_ready)
    return None
