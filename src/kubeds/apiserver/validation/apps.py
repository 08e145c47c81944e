"""apps/v1 validation: DaemonSet, Deployment, ReplicaSet, ControllerRevision.

Mirrors ``pkg/apis/apps/validation/validation.go`` (``ValidateDaemonSetSpec``,
``ValidateDaemonSetUpdateStrategy``, ``ValidateRollingUpdateDaemonSet``, ``validateDaemonSetStatus``,
``ValidateDeploymentSpec``, ``ValidateRollingUpdateDeployment``, ``ValidateReplicaSetSpec``,
``ValidatePodTemplateSpecForReplicaSet``, ``ValidateControllerRevision``) and the strategies in
``pkg/registry/apps/*/strategy.go`` (apps/v1 makes ``spec.selector`` immutable; status updates may not
decrement ``collisionCount``). Internal ``spec.templateGeneration`` is managed by the API server's
strategy (the ``deprecated.daemonset.template.generation`` annotation), so it is not user-checked here.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.validation import meta, podspec
from kubeds.models.fielderrors import FieldError, Path

__all__ = [
    "validate_controller_revision",
    "validate_controller_revision_update",
    "validate_daemonset",
    "validate_daemonset_status_update",
    "validate_daemonset_update",
    "validate_deployment",
    "validate_deployment_status_update",
    "validate_deployment_update",
    "validate_replicaset",
    "validate_replicaset_status_update",
    "validate_replicaset_update",
]

SELECTOR_MISMATCH = "`selector` does not match template `labels`"
DAEMONSET_STRATEGIES = ["RollingUpdate", "OnDelete"]
DEPLOYMENT_STRATEGIES = ["Recreate", "RollingUpdate"]
CANNOT_DECREMENT = "cannot be decremented"
GREATER_THAN_REPLICAS = "cannot be greater than status.replicas"
GREATER_THAN_READY = "cannot be greater than readyReplicas"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _template_labels(spec: dict[str, Any]) -> Any:
    return _dict(_dict(spec.get("template")).get("metadata")).get("labels")


def _template_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return _dict(_dict(spec.get("template")).get("spec"))


def _restart_and_deadline(spec: dict[str, Any], path: Path, *, kind: str) -> list[FieldError]:
    errs: list[FieldError] = []
    template_spec = _template_spec(spec)
    restart = template_spec.get("restartPolicy")
    if restart != "Always":
        errs.append(
            FieldError.not_supported(str(path.child("spec", "restartPolicy")), restart or "", ["Always"])
        )
    if template_spec.get("activeDeadlineSeconds") is not None:
        detail = f"activeDeadlineSeconds in {kind} is not Supported"
        errs.append(FieldError.forbidden(str(path.child("spec", "activeDeadlineSeconds")), detail))
    return errs


def _rolling_update_daemonset(rolling: dict[str, Any], path: Path) -> list[FieldError]:
    max_unavailable, max_surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    mu_path, ms_path = path.child("maxUnavailable"), path.child("maxSurge")
    errs = meta.validate_positive_int_or_percent(max_unavailable, mu_path)
    errs.extend(meta.validate_positive_int_or_percent(max_surge, ms_path))
    errs.extend(meta.is_not_more_than_100_percent(max_unavailable, mu_path))
    errs.extend(meta.is_not_more_than_100_percent(max_surge, ms_path))
    has_unavailable = meta.get_int_or_percent_value(max_unavailable) != 0
    has_surge = meta.get_int_or_percent_value(max_surge) != 0
    if has_unavailable and has_surge:
        errs.append(
            FieldError.invalid(str(ms_path), max_surge, "may not be set when maxUnavailable is non-zero")
        )
    elif not has_unavailable and not has_surge:
        errs.append(FieldError.required(str(mu_path), "cannot be 0 when maxSurge is 0"))
    return errs


def _daemonset_update_strategy(strategy: Any, path: Path) -> list[FieldError]:
    strategy = _dict(strategy)
    kind = strategy.get("type")
    if kind == "OnDelete":
        return []
    if kind == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            return [FieldError.required(str(path.child("rollingUpdate")))]
        return _rolling_update_daemonset(rolling, path.child("rollingUpdate"))
    return [FieldError.not_supported(str(path), strategy, DAEMONSET_STRATEGIES)]


def _daemonset_spec(spec: dict[str, Any], path: Path) -> list[FieldError]:
    selector = spec.get("selector")
    errs = meta.validate_label_selector(selector, path.child("selector"))
    labels = _template_labels(spec)
    if meta.label_selector_matches(selector, labels) is False:
        errs.append(
            FieldError.invalid(
                str(path.child("template", "metadata", "labels")), labels or {}, SELECTOR_MISMATCH
            )
        )
    if (
        isinstance(selector, dict)
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    ):
        errs.append(
            FieldError.invalid(
                str(path.child("selector")), selector, "empty selector is invalid for daemonset"
            )
        )
    errs.extend(podspec.validate_pod_template_spec(spec.get("template"), path.child("template")))
    errs.extend(_restart_and_deadline(spec, path.child("template"), kind="DaemonSet"))
    errs.extend(meta.validate_nonnegative(spec.get("minReadySeconds"), path.child("minReadySeconds")))
    errs.extend(_daemonset_update_strategy(spec.get("updateStrategy"), path.child("updateStrategy")))
    errs.extend(
        meta.validate_nonnegative(spec.get("revisionHistoryLimit"), path.child("revisionHistoryLimit"))
    )
    return errs


def validate_daemonset(ds: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(ds.get("metadata"), namespaced=True)
    errs.extend(_daemonset_spec(_dict(ds.get("spec")), Path("spec")))
    return errs


def _selector_immutable(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    new_sel, old_sel = _dict(new.get("spec")).get("selector"), _dict(old.get("spec")).get("selector")
    return meta.validate_immutable(new_sel, old_sel, Path("spec", "selector"))


def validate_daemonset_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_daemonset_spec(_dict(new.get("spec")), Path("spec")))
    errs.extend(_selector_immutable(new, old))
    return errs


def _nonnegative_status(status: dict[str, Any], fields: tuple[str, ...]) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in fields:
        errs.extend(meta.validate_nonnegative(status.get(name), Path("status", name)))
    return errs


def _collision_count(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    new_count = _dict(new.get("status")).get("collisionCount")
    old_count = _dict(old.get("status")).get("collisionCount")
    if isinstance(old_count, int) and (
        new_count is None or (isinstance(new_count, int) and new_count < old_count)
    ):
        return [FieldError.invalid("status.collisionCount", new_count or 0, CANNOT_DECREMENT)]
    return []


def validate_daemonset_status_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    fields = (
        "currentNumberScheduled",
        "numberMisscheduled",
        "desiredNumberScheduled",
        "numberReady",
        "observedGeneration",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberUnavailable",
        "collisionCount",
    )
    errs.extend(_nonnegative_status(_dict(new.get("status")), fields))
    errs.extend(_collision_count(new, old))
    return errs


def _replica_template(spec: dict[str, Any], path: Path, *, kind: str, selector_kind: str) -> list[FieldError]:
    errs = meta.validate_nonnegative(spec.get("replicas"), path.child("replicas"))
    selector = spec.get("selector")
    if selector is None:
        errs.append(FieldError.required(str(path.child("selector"))))
    else:
        errs.extend(meta.validate_label_selector(selector, path.child("selector")))
        if not _dict(selector).get("matchLabels") and not _dict(selector).get("matchExpressions"):
            detail = f"empty selector is invalid for {selector_kind}"
            errs.append(FieldError.invalid(str(path.child("selector")), selector, detail))
    matches = meta.label_selector_matches(selector, _template_labels(spec))
    template_path = path.child("template")
    if matches is None:
        errs.append(FieldError.invalid(str(path.child("selector")), selector, "invalid label selector"))
    else:
        is_empty = (
            isinstance(selector, dict)
            and not selector.get("matchLabels")
            and not selector.get("matchExpressions")
        )
        if not is_empty and not matches:
            labels = _template_labels(spec) or {}
            errs.append(
                FieldError.invalid(str(template_path.child("metadata", "labels")), labels, SELECTOR_MISMATCH)
            )
        errs.extend(podspec.validate_pod_template_spec(spec.get("template"), template_path))
        errs.extend(_restart_and_deadline(spec, template_path, kind=kind))
    return errs


def _deployment_spec(spec: dict[str, Any], path: Path) -> list[FieldError]:
    errs = _replica_template(spec, path, kind="ReplicaSet", selector_kind="deployment")
    strategy, sp = _dict(spec.get("strategy")), path.child("strategy")
    kind = strategy.get("type")
    if kind == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            detail = "may not be specified when strategy `type` is 'Recreate'"
            errs.append(FieldError.forbidden(str(sp.child("rollingUpdate")), detail))
    elif kind == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            errs.append(
                FieldError.required(
                    str(sp.child("rollingUpdate")), "this should be defaulted and never be nil"
                )
            )
        else:
            rp = sp.child("rollingUpdate")
            max_unavailable, max_surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            errs.extend(meta.validate_positive_int_or_percent(max_unavailable, rp.child("maxUnavailable")))
            errs.extend(meta.validate_positive_int_or_percent(max_surge, rp.child("maxSurge")))
            if (
                meta.get_int_or_percent_value(max_unavailable) == 0
                and meta.get_int_or_percent_value(max_surge) == 0
            ):
                detail = "may not be 0 when `maxSurge` is 0"
                errs.append(FieldError.invalid(str(rp.child("maxUnavailable")), max_unavailable, detail))
            errs.extend(meta.is_not_more_than_100_percent(max_unavailable, rp.child("maxUnavailable")))
    else:
        errs.append(FieldError.not_supported(str(sp), strategy, DEPLOYMENT_STRATEGIES))
    min_ready = spec.get("minReadySeconds")
    errs.extend(meta.validate_nonnegative(min_ready, path.child("minReadySeconds")))
    errs.extend(
        meta.validate_nonnegative(spec.get("revisionHistoryLimit"), path.child("revisionHistoryLimit"))
    )
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int):
        errs.extend(meta.validate_nonnegative(deadline, path.child("progressDeadlineSeconds")))
        if deadline <= (min_ready if isinstance(min_ready, int) else 0):
            detail = "must be greater than minReadySeconds"
            errs.append(FieldError.invalid(str(path.child("progressDeadlineSeconds")), deadline, detail))
    return errs


def validate_deployment(deployment: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(deployment.get("metadata"), namespaced=True)
    errs.extend(_deployment_spec(_dict(deployment.get("spec")), Path("spec")))
    return errs


def validate_deployment_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(_deployment_spec(_dict(new.get("spec")), Path("spec")))
    errs.extend(_selector_immutable(new, old))
    return errs


def _replica_status(status: dict[str, Any], fields: tuple[str, ...], *, ready_field: str) -> list[FieldError]:
    errs = _nonnegative_status(status, fields)
    replicas = status.get("replicas") or 0
    for name in fields:
        value = status.get(name)
        if name not in ("replicas", "observedGeneration", "unavailableReplicas", "collisionCount"):
            if isinstance(value, int) and value > replicas:
                errs.append(FieldError.invalid(f"status.{name}", value, GREATER_THAN_REPLICAS))
    available, ready = status.get("availableReplicas") or 0, status.get(ready_field) or 0
    if available > ready:
        errs.append(FieldError.invalid("status.availableReplicas", available, GREATER_THAN_READY))
    return errs


def validate_deployment_status_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    fields = (
        "observedGeneration",
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
        "collisionCount",
    )
    errs.extend(_replica_status(_dict(new.get("status")), fields, ready_field="readyReplicas"))
    errs.extend(_collision_count(new, old))
    return errs


def validate_replicaset(rs: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(rs.get("metadata"), namespaced=True)
    spec = _dict(rs.get("spec"))
    errs.extend(meta.validate_nonnegative(spec.get("minReadySeconds"), Path("spec", "minReadySeconds")))
    errs.extend(_replica_template(spec, Path("spec"), kind="ReplicaSet", selector_kind="deployment"))
    return errs


def validate_replicaset_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    spec = _dict(new.get("spec"))
    errs.extend(meta.validate_nonnegative(spec.get("minReadySeconds"), Path("spec", "minReadySeconds")))
    errs.extend(_replica_template(spec, Path("spec"), kind="ReplicaSet", selector_kind="deployment"))
    errs.extend(_selector_immutable(new, old))
    return errs


def validate_replicaset_status_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    fields = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration")
    errs.extend(_replica_status(_dict(new.get("status")), fields, ready_field="readyReplicas"))
    return errs


def validate_controller_revision(revision: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(revision.get("metadata"), namespaced=True)
    if revision.get("data") is None:
        errs.append(FieldError.required("data", "data is mandatory"))
    errs.extend(meta.validate_nonnegative(revision.get("revision"), Path("revision")))
    return errs


def validate_controller_revision_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(validate_controller_revision(new))
    errs.extend(meta.validate_immutable(new.get("data"), old.get("data"), Path("data")))
    return errs
