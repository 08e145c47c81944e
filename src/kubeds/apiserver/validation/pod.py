"""Pod create, update and status-update validation.

Mirrors ``pkg/apis/core/validation/validation.go``: ``ValidatePodCreate`` (metadata, spec, no
ephemeral containers on create, no nodeName while scheduling gates remain), ``ValidatePodUpdate``
(the spec is immutable except container/init-container images, a shrinking
``activeDeadlineSeconds``, added tolerations, removed scheduling gates, and
``terminationGracePeriodSeconds`` going from negative to 1) and ``ValidatePodStatusUpdate``
(``nodeName`` may not change through status). Upstream appends a ``cmp.Diff`` of the two specs to
the "pod updates may not change fields other than ..." message; kubeds appends a short listing of
the changed spec fields instead (approximate by design: kubectl prints it verbatim).
"""

from __future__ import annotations

import json
from typing import Any

from kubeds.apiserver import codec
from kubeds.apiserver.validation import meta, names, podspec
from kubeds.models.fielderrors import FieldError, Path

__all__ = ["validate_pod", "validate_pod_status_update", "validate_pod_update"]

UPDATABLE_POD_SPEC_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)
POD_UPDATE_FORBIDDEN = "pod updates may not change fields other than " + ",".join(UPDATABLE_POD_SPEC_FIELDS)
ADD_REMOVE_CONTAINERS = "pod updates may not add or remove containers"
TOLERATION_MODIFIED = "existing toleration can not be modified except its tolerationSeconds"
MAX_INT32 = 2**31 - 1


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def validate_pod(pod: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(pod.get("metadata"), namespaced=True)
    spec = _dict(pod.get("spec"))
    errs.extend(podspec.validate_pod_spec(spec, Path("spec")))
    if _list(spec.get("ephemeralContainers")):
        errs.append(FieldError.forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if spec.get("nodeName") and _list(spec.get("schedulingGates")):
        errs.append(
            FieldError.forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared")
        )
    return errs


def _container_updates(new: list[Any], old: list[Any], path: Path) -> tuple[list[FieldError], bool]:
    if len(new) != len(old):
        return [FieldError.forbidden(str(path), ADD_REMOVE_CONTAINERS)], True
    errs: list[FieldError] = []
    for i, container in enumerate(new):
        image = _dict(container).get("image")
        if not image:
            errs.append(FieldError.required(str(path.index(i).child("image"))))
        elif isinstance(image, str) and image.strip() != image:
            errs.append(
                FieldError.invalid(
                    str(path.index(i).child("image")), image, "must not have leading or trailing whitespace"
                )
            )
    return errs, False


def _only_added_tolerations(new: list[Any], old: list[Any], path: Path) -> list[FieldError]:
    for old_toleration in old:
        base = {k: v for k, v in _dict(old_toleration).items() if k != "tolerationSeconds"}
        if not any({k: v for k, v in _dict(t).items() if k != "tolerationSeconds"} == base for t in new):
            return [FieldError.forbidden(str(path), TOLERATION_MODIFIED)]
    return podspec.validate_tolerations(new, path)


def _spec_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append(f"-  {key}: {json.dumps(old.get(key), sort_keys=True)}")
            lines.append(f"+  {key}: {json.dumps(new.get(key), sort_keys=True)}")
    return "\n".join(lines)


def validate_pod_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    # As upstream (validatePodMetadataAndSpec after ValidateObjectMetaUpdate), metadata is checked twice.
    errs.extend(meta.validate_object_meta(new.get("metadata"), namespaced=True))
    new_spec, old_spec = _dict(new.get("spec")), _dict(old.get("spec"))
    errs.extend(podspec.validate_pod_spec(new_spec, Path("spec")))
    spec_path = Path("spec")
    for list_name in ("containers", "initContainers"):
        container_errs, stop = _container_updates(
            _list(new_spec.get(list_name)), _list(old_spec.get(list_name)), spec_path.child(list_name)
        )
        errs.extend(container_errs)
        if stop:
            return errs
    new_deadline, old_deadline = new_spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    deadline_path = str(spec_path.child("activeDeadlineSeconds"))
    if new_deadline is not None:
        if not isinstance(new_deadline, int) or not 0 <= new_deadline <= MAX_INT32:
            errs.append(
                FieldError.invalid(deadline_path, new_deadline, names.inclusive_range_error(0, MAX_INT32))
            )
            return errs
        if isinstance(old_deadline, int) and old_deadline < new_deadline:
            errs.append(
                FieldError.invalid(
                    deadline_path, new_deadline, "must be less than or equal to previous value"
                )
            )
            return errs
    elif old_deadline is not None:
        errs.append(
            FieldError.invalid(deadline_path, None, "must not update from a positive integer to nil value")
        )

    munged = codec.clone(new_spec)
    for list_name in ("containers", "initContainers"):
        for container, old_container in zip(
            _list(munged.get(list_name)), _list(old_spec.get(list_name)), strict=False
        ):
            if isinstance(container, dict):
                container["image"] = _dict(old_container).get("image")
    munged.pop("activeDeadlineSeconds", None)
    if old_deadline is not None:
        munged["activeDeadlineSeconds"] = old_deadline
    errs.extend(
        _only_added_tolerations(
            _list(new_spec.get("tolerations")),
            _list(old_spec.get("tolerations")),
            spec_path.child("tolerations"),
        )
    )
    _restore(munged, old_spec, "tolerations")
    new_gates, old_gates = _list(new_spec.get("schedulingGates")), _list(old_spec.get("schedulingGates"))
    if all(g in old_gates for g in new_gates):
        _restore(munged, old_spec, "schedulingGates")
    grace_old = old_spec.get("terminationGracePeriodSeconds")
    if isinstance(grace_old, int) and grace_old < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = grace_old
    if munged != old_spec:
        detail = f"{POD_UPDATE_FORBIDDEN}\n{_spec_diff(old_spec, munged)}"
        errs.append(FieldError.forbidden("spec", detail))
    return errs


def _restore(munged: dict[str, Any], old: dict[str, Any], key: str) -> None:
    if key in old:
        munged[key] = codec.clone(old[key])
    else:
        munged.pop(key, None)


def validate_pod_status_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    new_spec, old_spec = _dict(new.get("spec")), _dict(old.get("spec"))
    if new_spec.get("nodeName") != old_spec.get("nodeName"):
        errs.append(FieldError.forbidden("status.nodeName", "may not be changed directly"))
    new_status, old_status = _dict(new.get("status")), _dict(old.get("status"))
    nominated = new_status.get("nominatedNodeName")
    if nominated and nominated != old_status.get("nominatedNodeName") and isinstance(nominated, str):
        errs.extend(
            FieldError.invalid("status.nominatedNodeName", nominated, m)
            for m in names.name_is_dns_subdomain(nominated)
        )
    return errs
