"""Pod strategy: status and QoS on create, status kept on update, graceful deletion, field labels.

Mirrors ``pkg/registry/core/pod/strategy.go``: ``PrepareForCreate`` sets ``status`` to
``{phase: Pending, qosClass}`` (QoS from ``pkg/apis/core/helper/qos``), ``PrepareForUpdate``
keeps the old status, the status strategy keeps the old spec and ownerReferences but lets labels
and annotations through, ``CheckGracefulDelete`` picks the grace period (the request's, else
``spec.terminationGracePeriodSeconds``; 0 when the pod is unbound or already terminal; negative
becomes 1) and ``PodToSelectableFields`` lists the field labels.
"""

from __future__ import annotations

import copy
from typing import Any

from kubeds.apiserver.registry.base import Strategy, nested_str

__all__ = ["PodStrategy", "qos_class"]

DEFAULT_GRACE_SECONDS = 30
TERMINAL_PHASES = ("Succeeded", "Failed")


def _resources(container: dict[str, Any], which: str) -> dict[str, Any]:
    res = container.get("resources") or {}
    value = res.get(which) or {}
    return value if isinstance(value, dict) else {}


def qos_class(pod: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, from the cpu/memory requests and limits."""
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        if not isinstance(c, dict):
            continue
        req = {k: v for k, v in _resources(c, "requests").items() if k in ("cpu", "memory")}
        lim = {k: v for k, v in _resources(c, "limits").items() if k in ("cpu", "memory")}
        if req or lim:
            any_set = True
        if set(lim) != {"cpu", "memory"}:
            guaranteed = False
        for k, v in req.items():
            if str(lim.get(k)) != str(v):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


class PodStrategy(Strategy):
    kind = "Pod"
    has_status = True
    return_deleted_object = True
    extra_field_labels = (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    )

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        return {"phase": "Pending", "qosClass": qos_class(obj)}

    def extra_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        fields = super().extra_fields(obj)
        fields["spec.hostNetwork"] = "true" if (obj.get("spec") or {}).get("hostNetwork") else "false"
        ips = (obj.get("status") or {}).get("podIPs") or []
        fields["status.podIPs"] = nested_str(ips[0], "ip") if ips and isinstance(ips[0], dict) else ""
        return fields

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        new_meta = new.get("metadata") or {}
        labels, annotations = new_meta.get("labels"), new_meta.get("annotations")
        super().prepare_for_status_update(new, old)
        meta = new.setdefault("metadata", {})
        for key, value in (("labels", labels), ("annotations", annotations)):
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = copy.deepcopy(value)

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        spec = obj.get("spec") or {}
        if requested is not None:
            period = requested
        else:
            tgps = spec.get("terminationGracePeriodSeconds")
            period = int(tgps) if isinstance(tgps, int) else DEFAULT_GRACE_SECONDS
        if not spec.get("nodeName"):
            period = 0
        if (obj.get("status") or {}).get("phase") in TERMINAL_PHASES:
            period = 0
        if period < 0:
            period = 1
        return period
