"""Small renderers shared by the row printers: label maps, label selectors, container lists.

Mirrors, in behaviour only:

- ``labels.FormatLabels`` (``staging/src/k8s.io/apimachinery/pkg/labels/labels.go``): ``k=v`` pairs
  sorted by key and comma-joined, ``<none>`` when empty;
- ``metav1.LabelSelectorAsSelector`` + ``Selector.String()``
  (``staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go``, ``pkg/labels/selector.go``):
  one requirement per ``matchLabels`` entry (``k=v``) and per ``matchExpressions`` entry
  (``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``), sorted by key, values sorted and de-duplicated;
  a nil selector selects nothing and an empty one everything, and both render as ``""``;
- ``metav1.FormatLabelSelector``: the same string, ``<none>`` when empty and ``<error>`` when the
  selector is invalid (unknown operator, ``In`` without values, ``Exists`` with values);
- ``layoutContainerCells`` (``pkg/printers/internalversion/printers.go``): container names and images,
  each comma-joined, for the wide ``CONTAINERS``/``IMAGES`` columns;
- ``metav1.GetControllerOf`` plus ``formatResourceName``: ``daemonset.apps/kube-proxy``.

Label key/value syntax is not re-validated here: stored objects were validated on write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "NONE",
    "InvalidSelectorError",
    "controller_name",
    "format_int_or_string",
    "format_label_selector",
    "format_labels",
    "label_selector_string",
    "layout_container_cells",
]

NONE = "<none>"
ERROR = "<error>"


class InvalidSelectorError(ValueError):
    """A label selector that ``LabelSelectorAsSelector`` would reject."""


def format_labels(labels: Mapping[str, Any] | None) -> str:
    """``labels.FormatLabels``: ``a=1,b=2`` sorted by key, or ``<none>``."""
    if not labels:
        return NONE
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _requirement(key: str, operator: str, values: list[str]) -> str:
    if operator == "In":
        if not values:
            raise InvalidSelectorError(f"{key}: for 'in', 'notin' operators, values set can't be empty")
        return f"{key} in ({','.join(sorted(set(values)))})"
    if operator == "NotIn":
        if not values:
            raise InvalidSelectorError(f"{key}: for 'in', 'notin' operators, values set can't be empty")
        return f"{key} notin ({','.join(sorted(set(values)))})"
    if operator == "Exists":
        if values:
            raise InvalidSelectorError(f"{key}: values set must be empty for exists and does not exist")
        return key
    if operator == "DoesNotExist":
        if values:
            raise InvalidSelectorError(f"{key}: values set must be empty for exists and does not exist")
        return f"!{key}"
    raise InvalidSelectorError(f'"{operator}" is not a valid label selector operator')


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """``LabelSelectorAsSelector(selector).String()``; raises :class:`InvalidSelectorError`."""
    if not selector:
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        requirements.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key = str(expr.get("key", ""))
        values = [str(v) for v in expr.get("values") or []]
        requirements.append((key, _requirement(key, str(expr.get("operator", "")), values)))
    requirements.sort(key=lambda r: r[0])
    return ",".join(text for _, text in requirements)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the selector string, ``<none>`` if empty, ``<error>`` if invalid."""
    try:
        text = label_selector_string(selector)
    except InvalidSelectorError:
        return ERROR
    return text or NONE


def layout_container_cells(containers: list[dict[str, Any]] | None) -> tuple[str, str]:
    """Container names and images, each comma-joined in spec order."""
    containers = containers or []
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return names, images


def format_int_or_string(value: Any) -> str:
    """An ``IntOrString`` as ``IntOrString.String()`` renders it (``1`` or ``10%``)."""
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def _group_of(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def controller_name(metadata: Mapping[str, Any]) -> str:
    """The controlling owner as ``kind.group/name`` lower-cased (``daemonset.apps/x``), or ``<none>``."""
    for ref in metadata.get("ownerReferences") or []:
        if not ref.get("controller"):
            continue
        kind = str(ref.get("kind", ""))
        group = _group_of(str(ref.get("apiVersion", "")))
        name = str(ref.get("name", ""))
        if not kind and not group:
            return name
        group_kind = f"{kind}.{group}" if group else kind
        return f"{group_kind.lower()}/{name}"
    return NONE
