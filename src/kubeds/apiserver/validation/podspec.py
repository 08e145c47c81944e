"""Pod spec and pod template validation: volumes, tolerations, affinity and the spec's own fields.

Mirrors ``pkg/apis/core/validation/validation.go``: ``ValidatePodSpec`` (in its order: volumes,
containers, init containers, restartPolicy, dnsPolicy, nodeSelector, affinity, serviceAccountName,
nodeName, activeDeadlineSeconds, hostname/subdomain, tolerations, priorityClassName,
preemptionPolicy), ``validateVolumes``/``validateVolumeSource`` (hostPath, configMap, secret,
persistentVolumeClaim, defaultMode), ``ValidateTolerations``, ``validateTaintEffect`` (shared with
Node taints), ``ValidateNodeSelectorRequirement`` and ``ValidatePodTemplateSpec`` (whose label
errors, as upstream, sit at ``<template>.labels``, not ``<template>.metadata.labels``).

:func:`validate_pod_spec` is a pure function of the spec and the path, and the pods of one
DaemonSet or ReplicaSet carry the same spec but for ``affinity`` (the DaemonSet controller pins each
pod to its node there). So everything but the affinity is memoised per (path, JSON encoding of the
spec without ``affinity``); the affinity is validated every time and its errors keep their place
in upstream's order. A spec that cannot be encoded is validated without the memo.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubeds.apiserver.validation import containers, meta, names
from kubeds.models.fielderrors import FieldError, Path

__all__ = [
    "TAINT_EFFECTS",
    "validate_pod_spec",
    "validate_pod_template_spec",
    "validate_preemption_policy",
    "validate_taint_effect",
    "validate_tolerations",
]

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
TOLERATION_OPERATORS = ["Equal", "Exists"]
PREEMPTION_POLICIES = ["PreemptLowerPriority", "Never"]
HOST_PATH_TYPES = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
]  # upstream lists the set sorted
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
    "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
    "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
    "image",
)  # fmt: skip
MAX_INT32 = 2**31 - 1
FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
OPERATOR_EXISTS_WITHOUT_KEY = (
    'operator must be Exists when `key` is empty, which means "match all values and all keys"'
)
EFFECT_FOR_TOLERATION_SECONDS = "effect must be 'NoExecute' when `tolerationSeconds` is set"
VALUE_WITH_EXISTS = "value must be empty when `operator` is 'Exists'"
EPHEMERAL_IN_TEMPLATE = "ephemeral containers not allowed in pod template"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _validate_mode(source: dict[str, Any], path: Path) -> list[FieldError]:
    mode = source.get("defaultMode")
    if isinstance(mode, int) and not 0 <= mode <= 0o777:
        return [FieldError.invalid(str(path.child("defaultMode")), mode, FILE_MODE_ERROR)]
    return []


def _validate_volume_source(volume: dict[str, Any], path: Path) -> list[FieldError]:
    present = [s for s in VOLUME_SOURCES if volume.get(s) is not None]
    if not present:
        return [FieldError.required(str(path), "must specify a volume type")]
    errs = [
        FieldError.forbidden(str(path.child(s)), "may not specify more than 1 volume type")
        for s in present[1:]
    ]
    kind = present[0]
    source, p = _dict(volume.get(kind)), path.child(kind)
    if kind == "hostPath":
        host_path = _str(source.get("path"))
        if not host_path:
            errs.append(FieldError.required(str(p.child("path"))))
        elif ".." in host_path.split("/"):
            errs.append(FieldError.invalid(str(p.child("path")), host_path, "must not contain '..'"))
        host_type = source.get("type")
        if host_type is not None and host_type not in HOST_PATH_TYPES:
            errs.append(FieldError.not_supported(str(p.child("type")), host_type, HOST_PATH_TYPES))
    elif kind == "configMap":
        if not _str(source.get("name")):
            errs.append(FieldError.required(str(p.child("name"))))
        errs.extend(_validate_mode(source, p))
    elif kind == "secret":
        if not _str(source.get("secretName")):
            errs.append(FieldError.required(str(p.child("secretName"))))
        errs.extend(_validate_mode(source, p))
    elif kind == "persistentVolumeClaim":
        if not _str(source.get("claimName")):
            errs.append(FieldError.required(str(p.child("claimName"))))
    elif kind in ("downwardAPI", "projected"):
        errs.extend(_validate_mode(source, p))
    return errs


def _validate_volumes(volumes: Any, path: Path) -> tuple[set[str], list[FieldError]]:
    """``validateVolumes``: returns the names of the valid volumes, for the mounts' NotFound check."""
    errs: list[FieldError] = []
    valid: set[str] = set()
    for i, volume in enumerate(_list(volumes)):
        volume, p = _dict(volume), path.index(i)
        name_path = p.child("name")
        el = _validate_volume_source(volume, p)
        name = _str(volume.get("name"))
        if not name:
            el.append(FieldError.required(str(name_path)))
        else:
            el.extend(FieldError.invalid(str(name_path), name, m) for m in names.is_dns1123_label(name))
        if name in valid:
            el.append(FieldError.duplicate(str(name_path), name))
        if el:
            errs.extend(el)
        else:
            valid.add(name)
    return valid, errs


def validate_taint_effect(effect: Any, *, allow_empty: bool, path: Path) -> list[FieldError]:
    if not allow_empty and not effect:
        return [FieldError.required(str(path))]
    if effect not in TAINT_EFFECTS:
        return [FieldError.not_supported(str(path), effect, TAINT_EFFECTS)]
    return []


def validate_tolerations(tolerations: Any, path: Path) -> list[FieldError]:
    # Field paths are only built for an error: every pod carries several tolerations.
    errs: list[FieldError] = []
    for i, toleration in enumerate(_list(tolerations)):
        toleration = _dict(toleration)
        key, operator = _str(toleration.get("key")), _str(toleration.get("operator"))
        value, effect = _str(toleration.get("value")), _str(toleration.get("effect"))
        if key and names.is_qualified_name(key):
            errs.extend(meta.validate_label_name(key, path.index(i).child("key")))
        if not key and operator != "Exists":
            errs.append(
                FieldError.invalid(
                    str(path.index(i).child("operator")), operator, OPERATOR_EXISTS_WITHOUT_KEY
                )
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(
                FieldError.invalid(str(path.index(i).child("effect")), effect, EFFECT_FOR_TOLERATION_SECONDS)
            )
        if operator in ("Equal", ""):
            msgs = names.is_valid_label_value(value)
            if msgs:
                errs.append(FieldError.invalid(str(path.index(i).child("operator")), value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                errs.append(
                    FieldError.invalid(str(path.index(i).child("operator")), toleration, VALUE_WITH_EXISTS)
                )
        else:
            errs.append(
                FieldError.not_supported(str(path.index(i).child("operator")), operator, TOLERATION_OPERATORS)
            )
        if effect and effect not in TAINT_EFFECTS:
            errs.extend(validate_taint_effect(effect, allow_empty=True, path=path.index(i).child("effect")))
    return errs


def _validate_node_selector_requirements(requirements: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, req in enumerate(_list(requirements)):
        req, p = _dict(req), path.index(i)
        operator, values = req.get("operator"), _list(req.get("values"))
        if operator in ("In", "NotIn") and not values:
            errs.append(
                FieldError.required(
                    str(p.child("values")), "must be specified when `operator` is 'In' or 'NotIn'"
                )
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errs.append(FieldError.forbidden(str(p.child("values")), detail))
        elif operator in ("Gt", "Lt") and len(values) != 1:
            detail = "must be specified single value when `operator` is 'Lt' or 'Gt'"
            errs.append(FieldError.required(str(p.child("values")), detail))
        elif operator not in NODE_SELECTOR_OPERATORS:
            errs.append(
                FieldError.invalid(str(p.child("operator")), operator, "not a valid selector operator")
            )
        errs.extend(meta.validate_label_name(_str(req.get("key")), p.child("key")))
    return errs


def _validate_affinity(affinity: Any, path: Path) -> list[FieldError]:
    node_affinity = _dict(_dict(affinity).get("nodeAffinity"))
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    errs: list[FieldError] = []
    if isinstance(required, dict):
        p = path.child("nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
        terms = _list(required.get("nodeSelectorTerms"))
        if not terms:
            errs.append(FieldError.required(str(p), "must have at least one node selector term"))
        for i, term in enumerate(terms):
            term = _dict(term)
            errs.extend(
                _validate_node_selector_requirements(
                    term.get("matchExpressions"), p.index(i).child("matchExpressions")
                )
            )
    for i, pref in enumerate(_list(node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution"))):
        pref = _dict(pref)
        p = path.child("nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution").index(i)
        weight = pref.get("weight")
        if not isinstance(weight, int) or not 1 <= weight <= 100:
            errs.append(FieldError.invalid(str(p.child("weight")), weight, "must be in the range 1-100"))
        preference = _dict(pref.get("preference"))
        errs.extend(
            _validate_node_selector_requirements(
                preference.get("matchExpressions"), p.child("preference", "matchExpressions")
            )
        )
    return errs


def validate_preemption_policy(policy: Any, path: Path) -> list[FieldError]:
    if policy == "":
        return [FieldError.required(str(path))]
    if policy not in PREEMPTION_POLICIES:
        return [FieldError.not_supported(str(path), policy, PREEMPTION_POLICIES)]
    return []


def _invalid_names(value: Any, path: Path, check: Any) -> list[FieldError]:
    if not isinstance(value, str) or not value:
        return []
    return [FieldError.invalid(str(path), value, m) for m in check(value)]


_MEMO_SIZE = 512
_AFFINITY = "affinity"
_memo: dict[tuple[str, bytes], tuple[tuple[FieldError, ...], tuple[FieldError, ...]]] = {}


def validate_pod_spec(spec: Any, path: Path) -> list[FieldError]:
    """``ValidatePodSpec`` for the fields kubeds simulates (memoised, see the module docstring)."""
    spec = _dict(spec)
    try:
        key = (str(path), orjson.dumps({k: v for k, v in spec.items() if k != _AFFINITY}))
    except TypeError:
        before, after = _validate_pod_spec_parts(spec, path)
    else:
        cached = _memo.get(key)
        if cached is None:
            before_list, after_list = _validate_pod_spec_parts(spec, path)
            cached = (tuple(before_list), tuple(after_list))
            if len(_memo) >= _MEMO_SIZE:
                _memo.clear()
            _memo[key] = cached
        before, after = list(cached[0]), list(cached[1])
    errs = before
    if spec.get(_AFFINITY):
        errs.extend(_validate_affinity(spec.get(_AFFINITY), path.child(_AFFINITY)))
    errs.extend(after)
    return errs


def _validate_pod_spec_parts(spec: dict[str, Any], path: Path) -> tuple[list[FieldError], list[FieldError]]:
    """The errors of the fields before ``affinity`` and after it, in upstream's order."""
    volumes, errs = _validate_volumes(spec.get("volumes"), path.child("volumes"))
    errs.extend(containers.validate_containers(spec.get("containers"), volumes, path.child("containers")))
    errs.extend(
        containers.validate_init_containers(
            spec.get("initContainers"), spec.get("containers"), volumes, path.child("initContainers")
        )
    )
    restart = spec.get("restartPolicy")
    if not restart:
        errs.append(FieldError.required(str(path.child("restartPolicy"))))
    elif restart not in RESTART_POLICIES:
        errs.append(FieldError.not_supported(str(path.child("restartPolicy")), restart, RESTART_POLICIES))
    dns = spec.get("dnsPolicy")
    if not dns:
        errs.append(FieldError.required(str(path.child("dnsPolicy"))))
    elif dns not in DNS_POLICIES:
        errs.append(FieldError.not_supported(str(path.child("dnsPolicy")), dns, DNS_POLICIES))
    # Checks of absent fields find nothing: they are skipped (and their paths not built).
    if spec.get("nodeSelector"):
        errs.extend(meta.validate_labels(spec.get("nodeSelector"), path.child("nodeSelector")))
    before, errs = errs, []
    if spec.get("serviceAccountName"):
        errs.extend(
            _invalid_names(
                spec.get("serviceAccountName"), path.child("serviceAccountName"), names.name_is_dns_subdomain
            )
        )
    if spec.get("nodeName"):
        errs.extend(_invalid_names(spec.get("nodeName"), path.child("nodeName"), names.name_is_dns_subdomain))
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= MAX_INT32:
        errs.append(
            FieldError.invalid(
                str(path.child("activeDeadlineSeconds")), deadline, names.inclusive_range_error(1, MAX_INT32)
            )
        )
    if spec.get("hostname"):
        errs.extend(_invalid_names(spec.get("hostname"), path.child("hostname"), names.is_dns1123_label))
    if spec.get("subdomain"):
        errs.extend(_invalid_names(spec.get("subdomain"), path.child("subdomain"), names.is_dns1123_label))
    if spec.get("tolerations"):
        errs.extend(validate_tolerations(spec.get("tolerations"), path.child("tolerations")))
    if spec.get("priorityClassName"):
        errs.extend(
            _invalid_names(
                spec.get("priorityClassName"), path.child("priorityClassName"), names.name_is_dns_subdomain
            )
        )
    if spec.get("preemptionPolicy") is not None:
        errs.extend(validate_preemption_policy(spec.get("preemptionPolicy"), path.child("preemptionPolicy")))
    return before, errs


def validate_pod_template_spec(template: Any, path: Path) -> list[FieldError]:
    """``ValidatePodTemplateSpec``: labels/annotations at ``<path>.labels``, then the spec."""
    template = _dict(template)
    metadata = _dict(template.get("metadata"))
    errs = meta.validate_labels(metadata.get("labels"), path.child("labels"))
    errs.extend(meta.validate_annotations(metadata.get("annotations"), path.child("annotations")))
    spec = _dict(template.get("spec"))
    errs.extend(validate_pod_spec(spec, path.child("spec")))
    if _list(spec.get("ephemeralContainers")):
        errs.append(
            FieldError.forbidden(str(path.child("spec", "ephemeralContainers")), EPHEMERAL_IN_TEMPLATE)
        )
    return errs
