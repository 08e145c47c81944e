"""Pod-level facts the DaemonSet decisions share: readiness, availability, ordering, grouping, claiming.

Mirrors upstream ``pkg/api/v1/pod/util.go`` (``IsPodReady``, ``IsPodAvailable``, ``IsPodTerminal``),
``pkg/controller/daemon/daemon_controller.go`` (``podByCreationTimestampAndPhase``,
``getNodesToDaemonPods``, ``failedPodsBackoffKey``) and ``pkg/controller/controller_ref_manager.go``
(``ClaimObject``: whether an object is owned, adopted, released or ignored).

Claiming needs writes (adoption and release are PATCHes, adoption after an uncached re-check that
the DaemonSet still exists), so :func:`claim_action` only decides; the controller executes. Times are
``metav1.Time`` RFC 3339 strings; a missing timestamp is Go's zero time, older than any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubeds.controllers.daemonset.podtemplate import TargetNodeError, get_target_node_name
from kubeds.models.labels import SelectorError, selector_from_dict

__all__ = [
    "CLAIM_ADOPT",
    "CLAIM_IGNORE",
    "CLAIM_OWN",
    "CLAIM_RELEASE",
    "ZERO_TIME",
    "claim_action",
    "claimed",
    "failed_pods_backoff_key",
    "is_being_deleted",
    "is_pod_available",
    "is_pod_ready",
    "is_pod_terminal",
    "nodes_to_daemon_pods",
    "parse_time",
    "pod_age_key",
    "sort_pods_oldest_first",
]

ZERO_TIME = dt.datetime(1, 1, 1, tzinfo=dt.UTC)

CLAIM_OWN = "own"  # controlled by the DaemonSet and still selected
CLAIM_ADOPT = "adopt"  # orphan the DaemonSet should adopt (PATCH in a controllerRef)
CLAIM_RELEASE = "release"  # controlled but no longer selected (PATCH the ownerReference away)
CLAIM_IGNORE = "ignore"  # not the DaemonSet's business


def parse_time(value: object) -> dt.datetime | None:
    """A ``metav1.Time`` string as an aware datetime; None when missing or unparsable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def is_being_deleted(obj: Mapping[str, Any]) -> bool:
    """``metadata.deletionTimestamp`` is set."""
    return _meta(obj).get("deletionTimestamp") is not None


def is_pod_terminal(pod: Mapping[str, Any]) -> bool:
    """Phase Succeeded or Failed."""
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _ready_condition(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond  # type: ignore[no-any-return]
    return None


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    """The ``Ready`` condition is ``True``."""
    cond = _ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: dt.datetime) -> bool:
    """Ready, and (minReadySeconds is 0 or Ready since strictly more than minReadySeconds before now)."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    cond = _ready_condition(pod) or {}
    since = parse_time(cond.get("lastTransitionTime"))
    if since is None:
        return False
    return since + dt.timedelta(seconds=min_ready_seconds) < now


def pod_age_key(pod: Mapping[str, Any]) -> tuple[int, dt.datetime, str]:
    """Sort key of ``podByCreationTimestampAndPhase``: bound pods first, then oldest, then by name."""
    meta = _meta(pod)
    bound = 0 if (pod.get("spec") or {}).get("nodeName") else 1
    created = parse_time(meta.get("creationTimestamp")) or ZERO_TIME
    return bound, created, str(meta.get("name") or "")


def sort_pods_oldest_first(pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pods ordered by :func:`pod_age_key` (the one a node keeps comes first)."""
    return sorted(pods, key=pod_age_key)


def nodes_to_daemon_pods(
    pods: Iterable[Mapping[str, Any]], *, include_deleted_terminal: bool = False
) -> dict[str, list[Mapping[str, Any]]]:
    """Claimed daemon pods grouped by target node (``getNodesToDaemonPods`` after the claim).

    Pods naming no target node are left out (upstream logs and skips them); so are terminal pods
    being deleted unless ``include_deleted_terminal`` (history cleanup counts them as live).
    """
    result: dict[str, list[Mapping[str, Any]]] = {}
    for pod in pods:
        if not include_deleted_terminal and is_being_deleted(pod) and is_pod_terminal(pod):
            continue
        try:
            node_name = get_target_node_name(pod)
        except TargetNodeError:
            continue
        result.setdefault(node_name, []).append(pod)
    return result


def failed_pods_backoff_key(ds: Mapping[str, Any], node_name: str) -> str:
    """``<ds uid>/<status.observedGeneration>/<node>``: the failed-pod backoff entry for a node."""
    generation = int((ds.get("status") or {}).get("observedGeneration") or 0)
    return f"{_meta(ds).get('uid') or ''}/{generation}/{node_name}"


def _controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def claim_action(ds: Mapping[str, Any], obj: Mapping[str, Any]) -> str:
    """What ``ClaimObject`` does with ``obj`` (a pod or a ControllerRevision) for ``ds``.

    Returns one of :data:`CLAIM_OWN`, :data:`CLAIM_ADOPT`, :data:`CLAIM_RELEASE`,
    :data:`CLAIM_IGNORE`. An invalid selector selects nothing (the sync fails earlier upstream).
    """
    ds_meta = _meta(ds)
    labels: Mapping[str, str] = _meta(obj).get("labels") or {}
    try:
        selector = selector_from_dict((ds.get("spec") or {}).get("selector"))
        selected = selector.matches(labels)
    except SelectorError:
        selected = False
    ref = _controller_ref(obj)
    ds_deleting = ds_meta.get("deletionTimestamp") is not None
    if ref is not None:
        if ref.get("uid") != ds_meta.get("uid"):
            return CLAIM_IGNORE
        if selected:
            return CLAIM_OWN
        return CLAIM_IGNORE if ds_deleting else CLAIM_RELEASE
    if ds_deleting or not selected or is_being_deleted(obj):
        return CLAIM_IGNORE
    if _meta(obj).get("namespace") != ds_meta.get("namespace"):
        return CLAIM_IGNORE
    return CLAIM_ADOPT


def claimed(ds: Mapping[str, Any], objs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The objects a successful claim leaves owned: owned ones plus adopted orphans."""
    return [o for o in objs if claim_action(ds, o) in (CLAIM_OWN, CLAIM_ADOPT)]
