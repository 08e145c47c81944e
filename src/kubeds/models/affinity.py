"""Node affinity and nodeSelector, as upstream
``k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go``.

:class:`RequiredNodeAffinity` is ``GetRequiredNodeAffinity(pod)``: ``spec.nodeSelector`` (every pair
must be a node label) AND ``requiredDuringSchedulingIgnoredDuringExecution`` (``nodeSelectorTerms``
ORed). Both the scheduler's NodeAffinity filter and the DaemonSet controller's
``NodeShouldRunDaemonPod`` use it; the controller's own pods carry a single
``matchFields: metadata.name In [<node>]`` term.

Term rules (upstream ``LazyErrorNodeSelector``):

* a term with neither ``matchExpressions`` nor ``matchFields`` is dropped, so it matches nothing, and
  a selector left without terms matches no node;
* ``matchExpressions`` become a label selector (In, NotIn, Exists, DoesNotExist, Gt, Lt), validated
  like ``labels.NewRequirement``; ``matchFields`` only know ``metadata.name`` and only In/NotIn with
  exactly one value;
* a term that fails to parse never matches; its errors are reported only when no term matched
  ("lazy" errors), which is what :meth:`RequiredNodeAffinity.match` returns.

Preferred terms (:func:`preferred_affinity_score`) follow ``PreferredSchedulingTerms.Score``: terms
with weight 0, empty terms and terms that fail to parse are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeds.models import labels as lbl
from kubeds.models.fields import EQUAL, NOT_EQUAL, FieldSelector

__all__ = [
    "LazyNodeSelector",
    "RequiredNodeAffinity",
    "node_selector_term_matches",
    "preferred_affinity_score",
]

NODE_NAME_FIELD = "metadata.name"

_LABEL_OPERATORS = {
    "In": lbl.IN,
    "NotIn": lbl.NOT_IN,
    "Exists": lbl.EXISTS,
    "DoesNotExist": lbl.DOES_NOT_EXIST,
    "Gt": lbl.GREATER_THAN,
    "Lt": lbl.LESS_THAN,
}
_FIELD_OPERATORS = {"In": EQUAL, "NotIn": NOT_EQUAL}

MSG_ONE_ELEMENT = "must have one element"


def _not_supported(path: str, op: str, valid: Sequence[str]) -> str:
    supported = ", ".join(lbl.go_quote(v) for v in valid)
    return f"{path}: Unsupported value: {lbl.go_quote(op)}: supported values: {supported}"


def _node_labels(node: Mapping[str, Any]) -> Mapping[str, str]:
    return (node.get("metadata") or {}).get("labels") or {}


def _node_fields(node: Mapping[str, Any]) -> dict[str, str]:
    """The fields a term may select on (upstream ``extractNodeFields``): only a non-empty name."""
    name = (node.get("metadata") or {}).get("name") or ""
    return {NODE_NAME_FIELD: name} if name else {}


def _is_empty_term(term: Mapping[str, Any]) -> bool:
    return not term.get("matchExpressions") and not term.get("matchFields")


@dataclass(frozen=True)
class _Term:
    """One parsed ``NodeSelectorTerm``; ``errors`` non-empty means it never matches."""

    match_labels: lbl.LabelSelector | None = None
    match_fields: FieldSelector | None = None
    errors: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, term: Mapping[str, Any], path: str) -> _Term:
        errs: list[str] = []
        match_labels = None
        match_fields = None
        exprs: Sequence[Mapping[str, Any]] = term.get("matchExpressions") or []
        if exprs:
            reqs: list[lbl.Requirement] = []
            for i, expr in enumerate(exprs):
                p = f"{path}.matchExpressions[{i}]"
                op_name = str(expr.get("operator") or "")
                op = _LABEL_OPERATORS.get(op_name)
                if op is None:
                    errs.append(_not_supported(f"{p}.operator", op_name, list(_LABEL_OPERATORS)))
                    continue
                key = str(expr.get("key") or "")
                values = [str(v) for v in expr.get("values") or []]
                req_errs = lbl.requirement_errors(key, op, values, path=p)
                if req_errs:
                    errs.extend(req_errs)
                else:
                    reqs.append(lbl.Requirement(key, op, tuple(values)))
            match_labels = lbl.LabelSelector(reqs)
        field_exprs: Sequence[Mapping[str, Any]] = term.get("matchFields") or []
        if field_exprs:
            terms: list[tuple[str, str, str]] = []
            for i, expr in enumerate(field_exprs):
                p = f"{path}.matchFields[{i}]"
                op_name = str(expr.get("operator") or "")
                fop = _FIELD_OPERATORS.get(op_name)
                values = [str(v) for v in expr.get("values") or []]
                if fop is None:
                    errs.append(_not_supported(f"{p}.operator", op_name, list(_FIELD_OPERATORS)))
                elif len(values) != 1:
                    slice_ = lbl.go_string_slice(values)
                    errs.append(f"{p}.values: Invalid value: {slice_}: {MSG_ONE_ELEMENT}")
                else:
                    terms.append((str(expr.get("key") or ""), fop, values[0]))
            match_fields = FieldSelector(terms)
        return cls(match_labels, match_fields, tuple(errs))

    def matches(self, node_labels: Mapping[str, str], node_fields: Mapping[str, str]) -> bool:
        if self.errors:
            return False
        if self.match_labels is not None and not self.match_labels.matches(node_labels):
            return False
        # Upstream skips the field check for a node without a name.
        return not (
            self.match_fields is not None and node_fields and not self.match_fields.matches(node_fields)
        )


class LazyNodeSelector:
    """A parsed ``v1.NodeSelector`` whose parse errors surface only when no term matches."""

    __slots__ = ("_terms",)

    def __init__(self, node_selector: Mapping[str, Any] | None, *, path: str = "") -> None:
        terms: Sequence[Mapping[str, Any]] = (node_selector or {}).get("nodeSelectorTerms") or []
        base = f"{path}.nodeSelectorTerms" if path else "nodeSelectorTerms"
        self._terms = tuple(
            _Term.parse(t, f"{base}[{i}]") for i, t in enumerate(terms) if not _is_empty_term(t)
        )

    @property
    def parse_errors(self) -> list[str]:
        """Every term's parse errors (what upstream ``NewNodeSelector`` would refuse with)."""
        return [e for t in self._terms for e in t.errors]

    def match(self, node: Mapping[str, Any] | None) -> tuple[bool, str | None]:
        """``(matched, aggregated parse errors of the terms tried)``; errors only when unmatched."""
        if node is None:
            return False, None
        node_labels, node_fields = _node_labels(node), _node_fields(node)
        errs: list[str] = []
        for term in self._terms:
            if term.errors:
                errs.extend(term.errors)
                continue
            if term.matches(node_labels, node_fields):
                return True, None
        return False, (lbl.aggregate_messages(errs) if errs else None)

    def matches(self, node: Mapping[str, Any] | None) -> bool:
        return self.match(node)[0]


class RequiredNodeAffinity:
    """``nodeSelector`` AND required node affinity of a pod (upstream ``RequiredNodeAffinity``)."""

    __slots__ = ("_affinity", "_label_selector")

    def __init__(
        self,
        node_selector: Mapping[str, str] | None,
        required: Mapping[str, Any] | None,
        *,
        has_required: bool,
    ) -> None:
        self._label_selector = lbl.selector_from_set(node_selector) if node_selector else None
        self._affinity = LazyNodeSelector(required) if has_required else None

    @classmethod
    def from_pod(cls, pod: Mapping[str, Any]) -> RequiredNodeAffinity:
        spec = pod.get("spec") or {}
        node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
        required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        return cls(spec.get("nodeSelector"), required, has_required=required is not None)

    def match(self, node: Mapping[str, Any]) -> tuple[bool, str | None]:
        """``(matched, lazy parse errors)`` as upstream ``RequiredNodeAffinity.Match``."""
        if self._label_selector is not None and not self._label_selector.matches(_node_labels(node)):
            return False, None
        if self._affinity is not None:
            return self._affinity.match(node)
        return True, None

    def matches(self, node: Mapping[str, Any]) -> bool:
        return self.match(node)[0]


def node_selector_term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """Does a single ``NodeSelectorTerm`` match the node (an empty or invalid term never does)."""
    if _is_empty_term(term):
        return False
    return _Term.parse(term, "").matches(_node_labels(node), _node_fields(node))


def preferred_affinity_score(pod: Mapping[str, Any], node: Mapping[str, Any]) -> int:
    """Sum of the weights of the pod's matching preferred node-affinity terms (NodeAffinity Score)."""
    node_affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    preferred: Sequence[Mapping[str, Any]] = (
        node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    )
    node_labels, node_fields = _node_labels(node), _node_fields(node)
    score = 0
    for i, pref in enumerate(preferred):
        weight = int(pref.get("weight") or 0)
        term = pref.get("preference") or {}
        if weight == 0 or _is_empty_term(term):
            continue
        if _Term.parse(term, f"[{i}]").matches(node_labels, node_fields):
            score += weight
    return score
