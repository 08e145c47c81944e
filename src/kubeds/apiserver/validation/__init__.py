"""Validation of every served kind: what the API server calls after defaulting and admission.

Upstream each registry strategy (``pkg/registry/<group>/<kind>/strategy.go``) calls the kind's
``Validate``/``ValidateUpdate`` (main resource) or its status strategy's ``ValidateUpdate``; the
functions here are that dispatch, keyed by Kind. Errors come back as upstream-shaped
:class:`~kubeds.models.fielderrors.FieldError` lists (empty when valid), deduplicated in order
(upstream's update paths can validate the same spec twice). Kinds with no rules return ``[]`` after
the generic ObjectMeta checks.

Callers are expected to have done what upstream's ``rest.BeforeCreate``/``BeforeUpdate`` do before
validation: fill the namespace from the URL, copy uid/creationTimestamp/generation/resourceVersion
from the old object on update, and (for status) copy the old spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeds.apiserver import resources
from kubeds.apiserver.validation import apps, core, meta, pod, policy
from kubeds.models.fielderrors import FieldError, Path

__all__ = ["validate_create", "validate_status_update", "validate_update"]

Create = Callable[[dict[str, Any]], list[FieldError]]
Update = Callable[[dict[str, Any], dict[str, Any]], list[FieldError]]


def _validate_binding(binding: dict[str, Any]) -> list[FieldError]:
    target = binding.get("target") if isinstance(binding.get("target"), dict) else {}
    assert isinstance(target, dict)
    errs: list[FieldError] = []
    kind = target.get("kind") or ""
    if kind and kind != "Node":
        errs.append(FieldError.not_supported("target.kind", kind, ["Node", "<empty>"]))
    if not target.get("name"):
        errs.append(FieldError.required("target.name"))
    return errs


def _validate_scale(scale: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(scale.get("metadata"), namespaced=True)
    spec = scale.get("spec") if isinstance(scale.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    errs.extend(meta.validate_nonnegative(spec.get("replicas"), Path("spec", "replicas")))
    return errs


_CREATE: dict[str, Create] = {
    "Pod": pod.validate_pod,
    "DaemonSet": apps.validate_daemonset,
    "Deployment": apps.validate_deployment,
    "ReplicaSet": apps.validate_replicaset,
    "ControllerRevision": apps.validate_controller_revision,
    "Node": core.validate_node,
    "Namespace": core.validate_namespace,
    "ConfigMap": core.validate_config_map,
    "ServiceAccount": core.validate_service_account,
    "Event": core.validate_event,
    "PodDisruptionBudget": policy.validate_pdb,
    "PriorityClass": policy.validate_priority_class,
    "Lease": policy.validate_lease,
    "Binding": _validate_binding,
    "Scale": _validate_scale,
}

_UPDATE: dict[str, Update] = {
    "Pod": pod.validate_pod_update,
    "DaemonSet": apps.validate_daemonset_update,
    "Deployment": apps.validate_deployment_update,
    "ReplicaSet": apps.validate_replicaset_update,
    "ControllerRevision": apps.validate_controller_revision_update,
    "Node": core.validate_node_update,
    "Namespace": core.validate_namespace_update,
    "ConfigMap": core.validate_config_map_update,
    "ServiceAccount": core.validate_service_account_update,
    "Event": lambda new, old: core.validate_event(new),
    "PodDisruptionBudget": policy.validate_pdb_update,
    "PriorityClass": policy.validate_priority_class_update,
    "Lease": policy.validate_lease_update,
    "Scale": lambda new, old: _validate_scale(new),
}

_STATUS_UPDATE: dict[str, Update] = {
    "Pod": pod.validate_pod_status_update,
    "DaemonSet": apps.validate_daemonset_status_update,
    "Deployment": apps.validate_deployment_status_update,
    "ReplicaSet": apps.validate_replicaset_status_update,
    "Node": core.validate_node_update,
    "Namespace": core.validate_namespace_status_update,
    "PodDisruptionBudget": policy.validate_pdb_status_update,
}

_NAMESPACED = {r.kind: r.namespaced for r in resources.RESOURCES}


def _dedupe(errs: list[FieldError]) -> list[FieldError]:
    seen: set[str] = set()
    out = []
    for e in errs:
        key = f"{e.type.name}|{e}"
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def validate_create(kind: str, obj: dict[str, Any]) -> list[FieldError]:
    """Validate a new object of Kind ``kind`` (already defaulted)."""
    fn = _CREATE.get(kind)
    if fn is None:
        return meta.validate_object_meta(obj.get("metadata"), namespaced=_NAMESPACED.get(kind, True))
    return _dedupe(fn(obj))


def validate_update(kind: str, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """Validate a replacement of ``old`` by ``new`` through the main resource."""
    fn = _UPDATE.get(kind)
    if fn is None:
        return meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    return _dedupe(fn(new, old))


def validate_status_update(kind: str, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """Validate a write through ``/status`` (``new`` carries the old spec, as upstream)."""
    fn = _STATUS_UPDATE.get(kind)
    if fn is None:
        return meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    return _dedupe(fn(new, old))
