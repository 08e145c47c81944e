"""Validation of PodDisruptionBudget (policy/v1), PriorityClass (scheduling.k8s.io/v1), Lease.

Mirrors ``pkg/apis/policy/validation/validation.go`` (``ValidatePodDisruptionBudgetSpec``: not
both minAvailable and maxUnavailable, each a non-negative int or a percent of at most 100%,
``unhealthyPodEvictionPolicy``; ``ValidatePodDisruptionBudgetStatusUpdate``),
``pkg/apis/scheduling/validation/validation.go`` (the ``system-`` prefix is reserved for the two
built-in classes, user values at most one billion, value and preemptionPolicy immutable) and
``pkg/apis/coordination/validation/validation.go`` (``ValidateLeaseSpec``).
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.validation import meta, podspec
from kubeds.models.fielderrors import FieldError, Path

__all__ = [
    "validate_lease",
    "validate_lease_update",
    "validate_pdb",
    "validate_pdb_status_update",
    "validate_pdb_update",
    "validate_priority_class",
    "validate_priority_class_update",
]

PDB_BOTH_SET = "minAvailable and maxUnavailable cannot be both set"
UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"]
SYSTEM_PRIORITY_CLASS_PREFIX = "system-"
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
RESERVED_PREFIX = (
    f"priority class names with '{SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. "
    "error: "
)
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pdb_spec(spec: dict[str, Any], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        errs.append(FieldError.invalid(str(path), spec, PDB_BOTH_SET))
    for name in ("minAvailable", "maxUnavailable"):
        value = spec.get(name)
        if value is not None:
            errs.extend(meta.validate_positive_int_or_percent(value, path.child(name)))
            errs.extend(meta.is_not_more_than_100_percent(value, path.child(name)))
    errs.extend(meta.validate_label_selector(spec.get("selector"), path.child("selector")))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
        p = str(path.child("unhealthyPodEvictionPolicy"))
        errs.append(FieldError.not_supported(p, policy, UNHEALTHY_POD_EVICTION_POLICIES))
    return errs


def validate_pdb(pdb: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(pdb.get("metadata"), namespaced=True)
    errs.extend(_pdb_spec(_dict(pdb.get("spec")), Path("spec")))
    return errs


def validate_pdb_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_pdb_spec(_dict(new.get("spec")), Path("spec")))
    return errs


def validate_pdb_status_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    status = _dict(new.get("status"))
    for name in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        errs.extend(meta.validate_nonnegative(status.get(name), Path("status", name)))
    return errs


def validate_priority_class(pc: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(pc.get("metadata"), namespaced=False)
    name = _dict(pc.get("metadata")).get("name") or ""
    value = pc.get("value") or 0
    if isinstance(name, str) and name.startswith(SYSTEM_PRIORITY_CLASS_PREFIX):
        reason = ""
        if name not in SYSTEM_PRIORITY_CLASSES:
            reason = f"{name} is not a known system priority class"
        elif value != SYSTEM_PRIORITY_CLASSES[name]:
            reason = f"value of {name} PriorityClass must be {SYSTEM_PRIORITY_CLASSES[name]}"
        elif pc.get("globalDefault"):
            reason = f"globalDefault of {name} PriorityClass must be false"
        if reason:
            detail = f"{RESERVED_PREFIX}{reason}"
            errs.append(FieldError.forbidden("metadata.name", detail))
    elif isinstance(value, int) and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        detail = f"maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
        errs.append(FieldError.forbidden("value", detail))
    if pc.get("preemptionPolicy") is not None:
        errs.extend(podspec.validate_preemption_policy(pc.get("preemptionPolicy"), Path("preemptionPolicy")))
    return errs


def validate_priority_class_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    if (new.get("value") or 0) != (old.get("value") or 0):
        errs.append(FieldError.forbidden("value", "may not be changed in an update."))
    errs.extend(
        meta.validate_immutable(
            new.get("preemptionPolicy"), old.get("preemptionPolicy"), Path("preemptionPolicy")
        )
    )
    return errs


def _lease_spec(spec: dict[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        errs.append(FieldError.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        errs.append(
            FieldError.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")
        )
    return errs


def validate_lease(lease: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(lease.get("metadata"), namespaced=True)
    errs.extend(_lease_spec(_dict(lease.get("spec"))))
    return errs


def validate_lease_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_lease_spec(_dict(new.get("spec"))))
    return errs
