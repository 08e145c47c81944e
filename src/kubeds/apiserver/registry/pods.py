"""Pod strategy: status and QoS on create, status kept on update, graceful deletion, field labels.

Mirrors ``pkg/registry/core/pod/strategy.go``: ``PrepareForCreate`` sets ``status`` to
``{phase: Pending, qosClass}`` (QoS from ``pkg/apis/core/helper/qos``), ``PrepareForUpdate``
keeps the old status, the status strategy keeps the old spec and ownerReferences but lets labels
and annotations through, ``CheckGracefulDelete`` picks the grace period (the request's, else
``spec.terminationGracePeriodSeconds``; 0 when the pod is unbound or already terminal; negative
becomes 1) and ``PodToSelectableFields`` lists the field labels.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.registry.base import Strategy, field_str, nested_str

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
        # Written out (not the generic walk): every pod watch event with a field selector needs it.
        spec, status = obj.get("spec"), obj.get("status")
        if not isinstance(spec, dict):
            spec = {}
        if not isinstance(status, dict):
            status = {}
        ips = status.get("podIPs") or []
        return {
            "spec.nodeName": field_str(spec.get("nodeName")),
            "spec.restartPolicy": field_str(spec.get("restartPolicy")),
            "spec.schedulerName": field_str(spec.get("schedulerName")),
            "spec.serviceAccountName": field_str(spec.get("serviceAccountName")),
            "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
            "status.phase": field_str(status.get("phase")),
            "status.podIP": field_str(status.get("podIP")),
            "status.podIPs": nested_str(ips[0], "ip")
            if isinstance(ips, list) and ips and isinstance(ips[0], dict)
            else "",
            "status.nominatedNodeName": field_str(status.get("nominatedNodeName")),
        }

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        new_meta = new.get("metadata") or {}
        labels, annotations = new_meta.get("labels"), new_meta.get("annotations")
        super().prepare_for_status_update(new, old)
        meta = new.setdefault("metadata", {})
        for key, value in (("labels", labels), ("annotations", annotations)):
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value  # the request's own map: nothing else holds it

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
