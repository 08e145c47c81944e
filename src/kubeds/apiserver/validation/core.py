"""core/v1 validation for the non-pod kinds: Node, Namespace, ConfigMap, ServiceAccount, Event.

Mirrors ``pkg/apis/core/validation/validation.go``: ``ValidateNode``/``ValidateNodeUpdate`` (taints
unique by key and effect; as upstream, taint errors are reported under ``metadata.taints[i]``
because the function reuses its ``metadata`` path; capacity/allocatable quantities non-negative;
no duplicate addresses; providerID and podCIDRs settable once), ``ValidateNamespace`` and its
status rule (``status.Phase``, capitalised as upstream), ``ValidateConfigMap``/``Update`` (keys,
1 MiB total, ``immutable``), ``ValidateServiceAccount`` and ``legacyValidateEvent`` (the
involvedObject namespace must match the Event's for core/v1 events without ``eventTime``).
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.validation import meta, names, podspec, quantity
from kubeds.models.fielderrors import ErrorType, FieldError, Path

__all__ = [
    "validate_config_map",
    "validate_config_map_update",
    "validate_event",
    "validate_namespace",
    "validate_namespace_status_update",
    "validate_namespace_update",
    "validate_node",
    "validate_node_update",
    "validate_service_account",
    "validate_service_account_update",
]

TAINTS_NOT_UNIQUE = "taints must be unique by key and effect pair"
PROVIDER_ID_CHANGE = 'node updates may not change providerID except from "" to valid'
POD_CIDR_CHANGE = 'node updates may not change podCIDR except from "" to valid'
MAX_CONFIG_MAP_SIZE = 1024 * 1024
IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
EVENT_NAMESPACE_MISMATCH = "does not match event.namespace"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _validate_taints(taints: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(_list(taints)):
        taint, p = _dict(taint), path.index(i)
        key, value, effect = _str(taint.get("key")), _str(taint.get("value")), _str(taint.get("effect"))
        errs.extend(meta.validate_label_name(key, p.child("key")))
        msgs = names.is_valid_label_value(value)
        if msgs:
            errs.append(FieldError.invalid(str(p.child("value")), value, ";".join(msgs)))
        errs.extend(podspec.validate_taint_effect(effect, allow_empty=False, path=p.child("effect")))
        if (key, effect) in seen:
            errs.append(FieldError(ErrorType.DUPLICATE, str(p), taint, TAINTS_NOT_UNIQUE))
            continue
        seen.add((key, effect))
    return errs


def _validate_node_resources(status: dict[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    for section in ("capacity", "allocatable"):
        for name, value in _dict(status.get(section)).items():
            p = str(Path("status", section, name))
            amount = quantity.parse_quantity(value)
            if amount is None:
                errs.append(FieldError.invalid(p, value, quantity.QUANTITY_FORMAT_ERROR))
            elif amount < 0:
                errs.append(FieldError.invalid(p, str(value), names.IS_NEGATIVE_ERROR))
    return errs


def validate_node(node: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(node.get("metadata"), namespaced=False)
    errs.extend(_validate_taints(_dict(node.get("spec")).get("taints"), Path("metadata", "taints")))
    errs.extend(_validate_node_resources(_dict(node.get("status"))))
    return errs


def validate_node_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """``ValidateNodeUpdate``; upstream uses it for both the main resource and ``/status``."""
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    status = _dict(new.get("status"))
    errs.extend(_validate_node_resources(status))
    seen: list[Any] = []
    for i, address in enumerate(_list(status.get("addresses"))):
        if address in seen:
            errs.append(FieldError.duplicate(str(Path("status", "addresses").index(i)), address))
        seen.append(address)
    new_spec, old_spec = _dict(new.get("spec")), _dict(old.get("spec"))
    old_cidrs = _list(old_spec.get("podCIDRs"))
    if old_cidrs and _list(new_spec.get("podCIDRs")) != old_cidrs:
        errs.append(FieldError.forbidden("spec.podCIDRs", POD_CIDR_CHANGE))
    old_provider = _str(old_spec.get("providerID"))
    if old_provider and _str(new_spec.get("providerID")) != old_provider:
        errs.append(FieldError.forbidden("spec.providerID", PROVIDER_ID_CHANGE))
    errs.extend(_validate_taints(new_spec.get("taints"), Path("metadata", "taints")))
    if new_spec.get("externalID") != old_spec.get("externalID"):
        errs.append(FieldError.forbidden("spec.externalID", "may not be updated"))
    return errs


def _validate_namespace_finalizers(namespace: dict[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    path = Path("spec", "finalizers")
    for finalizer in _list(_dict(namespace.get("spec")).get("finalizers")):
        finalizer = _str(finalizer)
        errs.extend(FieldError.invalid(str(path), finalizer, m) for m in names.is_qualified_name(finalizer))
        if "/" not in finalizer and finalizer not in meta.STANDARD_FINALIZERS:
            errs.append(FieldError.invalid(str(path), finalizer, meta.FINALIZER_NOT_QUALIFIED))
    return errs


def validate_namespace(namespace: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(
        namespace.get("metadata"), namespaced=False, name_fn=names.name_is_dns_label
    )
    errs.extend(_validate_namespace_finalizers(namespace))
    return errs


def validate_namespace_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    return meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))


def validate_namespace_status_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    phase = _dict(new.get("status")).get("phase")
    if not _dict(new.get("metadata")).get("deletionTimestamp"):
        if phase != "Active":
            errs.append(
                FieldError.invalid(
                    "status.Phase", phase or "", "may only be 'Active' if `deletionTimestamp` is empty"
                )
            )
    elif phase != "Terminating":
        detail = "may only be 'Terminating' if `deletionTimestamp` is not empty"
        errs.append(FieldError.invalid("status.Phase", phase or "", detail))
    return errs


def validate_config_map(cm: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta(cm.get("metadata"), namespaced=True)
    data, binary = _dict(cm.get("data")), _dict(cm.get("binaryData"))
    total = 0
    for key, value in data.items():
        p = str(Path("data").key(key))
        errs.extend(FieldError.invalid(p, key, m) for m in names.is_config_map_key(key))
        if key in binary:
            errs.append(FieldError.invalid(p, key, "duplicate of key present in binaryData"))
        total += len(_str(value))
    for key, value in binary.items():
        p = str(Path("binaryData").key(key))
        errs.extend(FieldError.invalid(p, key, m) for m in names.is_config_map_key(key))
        total += len(_str(value)) * 3 // 4  # base64 on the wire
    if total > MAX_CONFIG_MAP_SIZE:
        errs.append(FieldError.too_long("", "", MAX_CONFIG_MAP_SIZE))
    return errs


def validate_config_map_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(FieldError.forbidden("immutable", IMMUTABLE_WHEN_SET))
        if new.get("data") != old.get("data"):
            errs.append(FieldError.forbidden("data", IMMUTABLE_WHEN_SET))
        if new.get("binaryData") != old.get("binaryData"):
            errs.append(FieldError.forbidden("binaryData", IMMUTABLE_WHEN_SET))
    errs.extend(validate_config_map(new))
    return errs


def validate_service_account(sa: dict[str, Any]) -> list[FieldError]:
    return meta.validate_object_meta(sa.get("metadata"), namespaced=True)


def validate_service_account_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    errs = meta.validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    errs.extend(validate_service_account(new))
    return errs


def validate_event(event: dict[str, Any]) -> list[FieldError]:
    """``legacyValidateEvent`` for core/v1 (upstream runs no ObjectMeta validation for it)."""
    metadata = _dict(event.get("metadata"))
    errs: list[FieldError] = []
    if not _str(metadata.get("name")) and not _str(metadata.get("generateName")):
        errs.append(FieldError.required("metadata.name", meta.NAME_REQUIRED))
    namespace = _str(metadata.get("namespace"))
    involved = _str(_dict(event.get("involvedObject")).get("namespace"))
    if not event.get("eventTime"):
        if not involved:
            if namespace not in ("", "default"):
                errs.append(
                    FieldError.invalid("involvedObject.namespace", involved, EVENT_NAMESPACE_MISMATCH)
                )
        elif namespace != involved:
            errs.append(FieldError.invalid("involvedObject.namespace", involved, EVENT_NAMESPACE_MISMATCH))
    else:
        if not involved and namespace not in ("default", "kube-system"):
            errs.append(FieldError.invalid("involvedObject.namespace", involved, EVENT_NAMESPACE_MISMATCH))
        controller = _str(event.get("reportingComponent"))
        if not controller:
            errs.append(FieldError.required("reportingComponent"))
        errs.extend(
            FieldError.invalid("reportingComponent", controller, m)
            for m in names.is_qualified_name(controller)
        )
        if not _str(event.get("reportingInstance")):
            errs.append(FieldError.required("reportingInstance"))
        if not _str(event.get("action")):
            errs.append(FieldError.required("action"))
        if not _str(event.get("reason")):
            errs.append(FieldError.required("reason"))
    errs.extend(FieldError.invalid("namespace", namespace, m) for m in names.is_dns1123_subdomain(namespace))
    return errs
