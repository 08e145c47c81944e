"""Taints and tolerations: matching, rendering and kubectl's ``key=value:Effect`` syntax.

Matching mirrors upstream ``k8s.io/api/core/v1/toleration.go`` (``Toleration.ToleratesTaint``) and
``k8s.io/component-helpers/scheduling/corev1/helpers.go`` (``TolerationsTolerateTaint``,
``FindMatchingUntoleratedTaint``) plus ``pkg/apis/core/v1/helper`` (``GetMatchingTolerations``):

1. an empty toleration effect matches every effect, otherwise effects must be equal;
2. an empty toleration key matches every key (valid only with ``Exists``), otherwise keys must be equal;
3. operator ``""``/``Equal`` compares values, ``Exists`` matches any value, ``Lt``/``Gt`` compare the
   values as int64 (taint value < / > toleration value; unparsable -> no match), anything else never
   matches. ``tolerationSeconds`` plays no part here; it only matters for NoExecute eviction.

Rendering is ``Taint.ToString`` (``key=value:Effect`` / ``key:Effect``). Parsing is kubectl's
``parseTaint``/``parseTaints`` (``staging/src/k8s.io/kubectl/pkg/cmd/taint/utils.go``), with its error
messages. Taints and tolerations are plain API dicts.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from typing import Any

from kubeds.models.labels import label_value_errors, qualified_name_errors

__all__ = [
    "EFFECTS",
    "NO_EXECUTE",
    "NO_SCHEDULE",
    "PREFER_NO_SCHEDULE",
    "TaintSpecError",
    "find_matching_untolerated_taint",
    "get_matching_tolerations",
    "parse_taint",
    "parse_taints",
    "taint_matches",
    "taint_to_string",
    "toleration_tolerates_taint",
    "tolerations_tolerate_taint",
]

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
EFFECTS = (NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE)

OP_EQUAL = "Equal"
OP_EXISTS = "Exists"
OP_LT = "Lt"
OP_GT = "Gt"

MSG_INVALID_SPEC = "invalid taint spec: {spec}"
MSG_INVALID_SPEC_DETAIL = "invalid taint spec: {spec}, {detail}"
MSG_BAD_EFFECT = "invalid taint effect: {effect}, unsupported taint effect"
MSG_DUPLICATE = "duplicated taints with the same key and effect: {taint}"


class TaintSpecError(ValueError):
    """A ``kubectl taint``-style spec is malformed; ``str()`` is kubectl's message."""


def _s(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key)
    return "" if v is None else str(v)


def _int64(s: str) -> int | None:
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not body.isascii() or not body.isdigit():
        return None
    v = int(s)
    return v if -(2**63) <= v < 2**63 else None


def toleration_tolerates_taint(tol: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Does one toleration tolerate one taint (upstream ``Toleration.ToleratesTaint``)."""
    effect = _s(tol, "effect")
    if effect and effect != _s(taint, "effect"):
        return False
    key = _s(tol, "key")
    if key and key != _s(taint, "key"):
        return False
    op = _s(tol, "operator")
    if op in ("", OP_EQUAL):
        return _s(tol, "value") == _s(taint, "value")
    if op == OP_EXISTS:
        return True
    if op in (OP_LT, OP_GT):
        want = _int64(_s(tol, "value"))
        have = _int64(_s(taint, "value"))
        if want is None or have is None:
            return False
        return have < want if op == OP_LT else have > want
    return False


def tolerations_tolerate_taint(tols: Iterable[Mapping[str, Any]] | None, taint: Mapping[str, Any]) -> bool:
    """True if any toleration tolerates ``taint`` (upstream ``TolerationsTolerateTaint``)."""
    return any(toleration_tolerates_taint(t, taint) for t in tols or ())


def find_matching_untolerated_taint(
    taints: Iterable[Mapping[str, Any]] | None,
    tols: Iterable[Mapping[str, Any]] | None,
    *,
    effects: Container[str] | None = None,
) -> Mapping[str, Any] | None:
    """The first taint (in node order) not tolerated, considering only ``effects`` (all when None).

    Upstream ``FindMatchingUntoleratedTaint`` with an effect inclusion filter; the scheduler's
    TaintToleration filter passes ``{NoSchedule, NoExecute}``, the DaemonSet controller the same.
    """
    tol_list = list(tols or ())
    for taint in taints or ():
        if effects is not None and _s(taint, "effect") not in effects:
            continue
        if not tolerations_tolerate_taint(tol_list, taint):
            return taint
    return None


def get_matching_tolerations(
    taints: Sequence[Mapping[str, Any]] | None, tols: Sequence[Mapping[str, Any]] | None
) -> tuple[bool, list[Mapping[str, Any]]]:
    """``(all tolerated, the first tolerating toleration per taint)`` (upstream ``GetMatchingTolerations``).

    The taint eviction controller takes the smallest ``tolerationSeconds`` of the returned list.
    """
    result: list[Mapping[str, Any]] = []
    for taint in taints or ():
        match = next((t for t in tols or () if toleration_tolerates_taint(t, taint)), None)
        if match is None:
            return False, []
        result.append(match)
    return True, result


def taint_matches(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Same key and effect: taints are unique by ``<key, effect>`` (upstream ``Taint.MatchTaint``)."""
    return _s(a, "key") == _s(b, "key") and _s(a, "effect") == _s(b, "effect")


def taint_to_string(taint: Mapping[str, Any]) -> str:
    """``key=value:Effect``, or ``key:Effect`` without a value (upstream ``Taint.ToString``)."""
    key, value, effect = _s(taint, "key"), _s(taint, "value"), _s(taint, "effect")
    return f"{key}={value}:{effect}" if value else f"{key}:{effect}"


def _taint_dict(key: str, value: str, effect: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key}
    if value:
        out["value"] = value
    if effect:
        out["effect"] = effect
    return out


def _parse_one(spec: str) -> tuple[str, str, str]:
    """``(key, value, effect)`` of ``key``, ``key:Effect`` or ``key=value:Effect`` (kubectl parseTaint)."""
    value = effect = ""
    parts = spec.split(":")
    if len(parts) == 1:
        key = parts[0]
    elif len(parts) == 2:
        effect = parts[1]
        if effect not in EFFECTS:
            raise TaintSpecError(MSG_BAD_EFFECT.format(effect=effect))
        kv = parts[0].split("=")
        if len(kv) > 2:
            raise TaintSpecError(MSG_INVALID_SPEC.format(spec=spec))
        key = kv[0]
        if len(kv) == 2:
            value = kv[1]
            errs = label_value_errors(value)
            if errs:
                raise TaintSpecError(MSG_INVALID_SPEC_DETAIL.format(spec=spec, detail="; ".join(errs)))
    else:
        raise TaintSpecError(MSG_INVALID_SPEC.format(spec=spec))
    errs = qualified_name_errors(key)
    if errs:
        raise TaintSpecError(MSG_INVALID_SPEC_DETAIL.format(spec=spec, detail="; ".join(errs)))
    return key, value, effect


def parse_taint(spec: str) -> tuple[dict[str, Any], bool]:
    """Parse one ``kubectl taint`` argument into ``(taint, remove)``.

    ``k=v:NoSchedule`` and ``k:NoExecute`` add (an effect is required); ``k-`` and ``k:NoSchedule-``
    remove (the returned taint then carries only ``key`` and, if given, ``effect``).
    Raises :class:`TaintSpecError` with kubectl's message.
    """
    if spec.endswith("-"):
        key, _, effect = _parse_one(spec[:-1])
        return _taint_dict(key, "", effect), True
    key, value, effect = _parse_one(spec)
    if not effect:
        raise TaintSpecError(MSG_INVALID_SPEC.format(spec=spec))
    return _taint_dict(key, value, effect), False


def parse_taints(specs: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(to_add, to_remove)`` for several specs, rejecting two additions with the same key and effect."""
    to_add: list[dict[str, Any]] = []
    to_remove: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for spec in specs:
        taint, remove = parse_taint(spec)
        if remove:
            to_remove.append(taint)
            continue
        ident = (taint["key"], taint["effect"])
        if ident in seen:
            # Go prints the corev1.Taint struct with %v: {key value effect <nil>}.
            shown = f"{{{taint['key']} {taint.get('value', '')} {taint['effect']} <nil>}}"
            raise TaintSpecError(MSG_DUPLICATE.format(taint=shown))
        seen.add(ident)
        to_add.append(taint)
    return to_add, to_remove
