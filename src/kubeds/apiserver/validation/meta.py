"""ObjectMeta, labels, annotations, label selectors and the small shared field checks.

Mirrors ``staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go`` (``ValidateObjectMeta``,
``ValidateObjectMetaUpdate``, ``ValidateAnnotations``, ``ValidateOwnerReferences``,
``ValidateFinalizers``), ``pkg/apis/core/validation/validation.go``'s wrappers (the Kubernetes
finalizer-name rule, ``ValidateNonnegativeField``, ``ValidateImmutableField``),
``apimachinery/pkg/apis/meta/v1/validation/validation.go`` (``ValidateLabels``,
``ValidateLabelSelector``) and ``pkg/apis/apps/validation/validation.go``'s int-or-percent helpers.

Fields the API server fills on update before validation upstream (``rest.BeforeUpdate`` copies
uid when absent, creationTimestamp, deletionTimestamp, generation from the old object; a missing
resourceVersion is filled for unconditional updates) are not re-checked here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubeds.apiserver.validation import names
from kubeds.models.fielderrors import FieldError, Path

__all__ = [
    "FIELD_IMMUTABLE",
    "get_int_or_percent_value",
    "is_not_more_than_100_percent",
    "label_selector_matches",
    "validate_annotations",
    "validate_immutable",
    "validate_label_name",
    "validate_label_selector",
    "validate_labels",
    "validate_nonnegative",
    "validate_object_meta",
    "validate_object_meta_update",
    "validate_positive_int_or_percent",
]

NameFn = Callable[[str, bool], list[str]]

FIELD_IMMUTABLE = "field is immutable"
NO_NEW_FINALIZERS = "no new finalizers can be added if the object is being deleted, found new finalizers "
NAME_REQUIRED = "name or generateName is required"
NAMESPACE_NOT_ALLOWED = "not allowed on this type"
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
FINALIZER_NOT_QUALIFIED = "name is neither a standard finalizer name nor is it fully qualified"
SELECTOR_OPERATORS_WITH_VALUES = ("In", "NotIn")
SELECTOR_OPERATORS_WITHOUT_VALUES = ("Exists", "DoesNotExist")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def validate_nonnegative(value: Any, path: Path) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [FieldError.invalid(str(path), value, names.IS_NEGATIVE_ERROR)]
    return []


def validate_immutable(new: Any, old: Any, path: Path) -> list[FieldError]:
    if new != old:
        return [FieldError.invalid(str(path), new, FIELD_IMMUTABLE)]
    return []


def validate_label_name(name: str, path: Path) -> list[FieldError]:
    return [FieldError.invalid(str(path), name, m) for m in names.is_qualified_name(name)]


def validate_labels(labels: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for key, value in _dict(labels).items():
        errs.extend(validate_label_name(key, path))
        for msg in names.is_valid_label_value(_str(value)):
            errs.append(FieldError.invalid(str(path), value, msg))
    return errs


def validate_annotations(annotations: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    total = 0
    for key, value in _dict(annotations).items():
        # QualifiedName, except that case does not matter.
        for msg in names.is_qualified_name(key.lower()):
            errs.append(FieldError.invalid(str(path), key, msg))
        total += len(key) + len(_str(value))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(FieldError.too_long(str(path), "", TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def _validate_owner_references(refs: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    controller = ""
    for ref in refs if isinstance(refs, list) else []:
        ref = _dict(ref)
        api_version = _str(ref.get("apiVersion"))
        version = api_version.rsplit("/", 1)[-1]
        if not version:
            errs.append(
                FieldError.invalid(str(path.child("apiVersion")), api_version, "version must not be empty")
            )
        for name in ("kind", "name", "uid"):
            if not _str(ref.get(name)):
                errs.append(
                    FieldError.invalid(str(path.child(name)), _str(ref.get(name)), "must not be empty")
                )
        if ref.get("controller") is True:
            current = f"{_str(ref.get('kind'))}/{_str(ref.get('name'))}"
            if controller:
                detail = (
                    'Only one reference can have Controller set to true. Found "true" in references for '
                    f"{controller} and {current}"
                )
                errs.append(FieldError.invalid(str(path), refs, detail))
            else:
                controller = current
    return errs


def _validate_finalizers(finalizers: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    items = [f for f in finalizers if isinstance(f, str)] if isinstance(finalizers, list) else []
    for finalizer in items:
        errs.extend(FieldError.invalid(str(path), finalizer, m) for m in names.is_qualified_name(finalizer))
    if "orphan" in items and "foregroundDeletion" in items:
        errs.append(
            FieldError.invalid(str(path), items, "finalizer orphan and foregroundDeletion cannot be both set")
        )
    for i, finalizer in enumerate(items):
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            errs.append(FieldError.invalid(str(path.index(i)), finalizer, FINALIZER_NOT_QUALIFIED))
    return errs


def validate_object_meta(
    meta: Any, *, namespaced: bool, name_fn: NameFn = names.name_is_dns_subdomain, path: Path | None = None
) -> list[FieldError]:
    """``ValidateObjectMeta`` (core flavour, with the Kubernetes finalizer-name rule)."""
    meta = _dict(meta)
    path = path or Path("metadata")
    errs: list[FieldError] = []
    generate_name = _str(meta.get("generateName"))
    if generate_name:
        errs.extend(
            FieldError.invalid(str(path.child("generateName")), generate_name, m)
            for m in name_fn(generate_name, True)
        )
    name = _str(meta.get("name"))
    if not name:
        # Upstream generates the name from generateName (rest.BeforeCreate) before validating.
        if not generate_name:
            errs.append(FieldError.required(str(path.child("name")), NAME_REQUIRED))
    else:
        errs.extend(FieldError.invalid(str(path.child("name")), name, m) for m in name_fn(name, False))
    namespace = _str(meta.get("namespace"))
    if namespaced:
        if not namespace:
            errs.append(FieldError.required(str(path.child("namespace"))))
        else:
            errs.extend(
                FieldError.invalid(str(path.child("namespace")), namespace, m)
                for m in names.name_is_dns_label(namespace)
            )
    elif namespace:
        errs.append(FieldError.forbidden(str(path.child("namespace")), NAMESPACE_NOT_ALLOWED))
    # Each check below finds nothing in an absent field: skip it (and building its path).
    if meta.get("generation") is not None:
        errs.extend(validate_nonnegative(meta.get("generation"), path.child("generation")))
    if meta.get("labels"):
        errs.extend(validate_labels(meta.get("labels"), path.child("labels")))
    if meta.get("annotations"):
        errs.extend(validate_annotations(meta.get("annotations"), path.child("annotations")))
    if meta.get("ownerReferences"):
        errs.extend(_validate_owner_references(meta.get("ownerReferences"), path.child("ownerReferences")))
    if meta.get("finalizers"):
        errs.extend(_validate_finalizers(meta.get("finalizers"), path.child("finalizers")))
    return errs


def validate_object_meta_update(new: Any, old: Any, *, path: Path | None = None) -> list[FieldError]:
    """``ValidateObjectMetaUpdate``: identity fields are immutable; the rest is re-validated."""
    new, old = _dict(new), _dict(old)
    path = path or Path("metadata")
    errs: list[FieldError] = []
    if old.get("deletionTimestamp"):
        extra = sorted(set(new.get("finalizers") or []) - set(old.get("finalizers") or []))
        if extra:
            go_list = "[]string{" + ", ".join(json.dumps(f) for f in extra) + "}"
            detail = f"{NO_NEW_FINALIZERS}{go_list}"
            errs.append(FieldError.forbidden(str(path.child("finalizers")), detail))
    errs.extend(validate_immutable(_str(new.get("name")), _str(old.get("name")), path.child("name")))
    errs.extend(
        validate_immutable(_str(new.get("namespace")), _str(old.get("namespace")), path.child("namespace"))
    )
    if new.get("uid"):
        errs.extend(validate_immutable(_str(new.get("uid")), _str(old.get("uid")), path.child("uid")))
    if new.get("labels"):
        errs.extend(validate_labels(new.get("labels"), path.child("labels")))
    if new.get("annotations"):
        errs.extend(validate_annotations(new.get("annotations"), path.child("annotations")))
    if new.get("ownerReferences"):
        errs.extend(_validate_owner_references(new.get("ownerReferences"), path.child("ownerReferences")))
    return errs


def validate_label_selector(selector: Any, path: Path) -> list[FieldError]:
    if not isinstance(selector, dict):
        return []
    errs = validate_labels(selector.get("matchLabels"), path.child("matchLabels"))
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        expr = _dict(expr)
        p = path.child("matchExpressions").index(i)
        operator = expr.get("operator")
        values = expr.get("values") or []
        if operator in SELECTOR_OPERATORS_WITH_VALUES:
            if not values:
                detail = "must be specified when `operator` is 'In' or 'NotIn'"
                errs.append(FieldError.required(str(p.child("values")), detail))
        elif operator in SELECTOR_OPERATORS_WITHOUT_VALUES:
            if values:
                detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                errs.append(FieldError.forbidden(str(p.child("values")), detail))
        else:
            errs.append(
                FieldError.invalid(str(p.child("operator")), operator, "not a valid selector operator")
            )
        errs.extend(validate_label_name(_str(expr.get("key")), p.child("key")))
        for j, value in enumerate(values):
            for msg in names.is_valid_label_value(_str(value)):
                errs.append(FieldError.invalid(str(p.child("values").index(j)), value, msg))
    return errs


def label_selector_matches(selector: Any, labels: Any) -> bool | None:
    """``LabelSelectorAsSelector(selector).Matches(labels)``; None when the selector is invalid.

    A missing selector selects nothing; ``{}`` selects everything.
    """
    if not isinstance(selector, dict):
        return False
    labels = _dict(labels)
    for key, value in _dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for raw in selector.get("matchExpressions") or []:
        expr = _dict(raw)
        key, operator, values = _str(expr.get("key")), expr.get("operator"), expr.get("values") or []
        if operator == "In" and values:
            ok = key in labels and labels[key] in values
        elif operator == "NotIn" and values:
            ok = key not in labels or labels[key] not in values
        elif operator == "Exists" and not values:
            ok = key in labels
        elif operator == "DoesNotExist" and not values:
            ok = key not in labels
        else:
            return None
        if not ok:
            return False
    return True


def validate_positive_int_or_percent(value: Any, path: Path) -> list[FieldError]:
    if isinstance(value, str):
        return [FieldError.invalid(str(path), value, m) for m in names.is_valid_percent(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return validate_nonnegative(value, path)
    return [FieldError.invalid(str(path), value, "must be an integer or percentage (e.g '5%')")]


def _percent_value(value: Any) -> int | None:
    if isinstance(value, str) and not names.is_valid_percent(value):
        return int(value[:-1])
    return None


def get_int_or_percent_value(value: Any) -> int:
    """``getIntOrPercentValue``: the percent number, the int, or 0 for anything else."""
    percent = _percent_value(value)
    if percent is not None:
        return percent
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():  # IntOrString.IntValue() parses strings
        return int(value)
    return 0


def is_not_more_than_100_percent(value: Any, path: Path) -> list[FieldError]:
    percent = _percent_value(value)
    if percent is None or percent <= 100:
        return []
    return [FieldError.invalid(str(path), value, "must not be greater than 100%")]
