"""The taints the node lifecycle controller owns, and pure helpers to compute and swap them.

Mirrors upstream ``pkg/controller/nodelifecycle/node_lifecycle_controller.go``
(``nodeConditionToTaintKeyStatusMap``, ``taintKeyToNodeConditionMap``, ``doNoScheduleTaintingPass``,
the ``NotReadyTaintTemplate``/``UnreachableTaintTemplate`` NoExecute templates) and
``pkg/util/taints/taints.go`` (``TaintExists``, ``TaintSetDiff``, ``AddOrUpdateTaint``,
``RemoveTaint``) plus ``pkg/controller/util/node`` ``SwapNodeControllerTaint``.

Condition taints (effect NoSchedule) follow the node's conditions on every add/update: Ready False ->
``not-ready``, Ready Unknown -> ``unreachable``, MemoryPressure/DiskPressure/PIDPressure/
NetworkUnavailable True -> their keys, and ``spec.unschedulable`` -> ``unschedulable``. Only
NoSchedule taints with those keys are compared; every other taint is left alone.

:func:`swap_taints` adds and removes in one step, which upstream does in two API calls
(add, then remove); here one patch carries both, so a reader never sees both NoExecute taints or
neither. Added taints get ``timeAdded`` = now, as upstream stamps every taint it adds; a taint
that is already present (same key, effect and value) is kept as it is, with its first
``timeAdded``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubeds.clock import format_time
from kubeds.models import taints as taint_model

__all__ = [
    "NODE_CONDITION_TO_TAINT_KEY",
    "NOT_READY_TAINT",
    "TAINT_DISK_PRESSURE",
    "TAINT_MEMORY_PRESSURE",
    "TAINT_NETWORK_UNAVAILABLE",
    "TAINT_NOT_READY",
    "TAINT_OUT_OF_SERVICE",
    "TAINT_PID_PRESSURE",
    "TAINT_UNREACHABLE",
    "TAINT_UNSCHEDULABLE",
    "UNREACHABLE_TAINT",
    "condition_taints",
    "controlled_no_schedule_taints",
    "get_node_condition",
    "swap_taints",
    "taint_exists",
    "taint_set_diff",
]

TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"

NOT_READY_TAINT: Mapping[str, str] = {"key": TAINT_NOT_READY, "effect": taint_model.NO_EXECUTE}
UNREACHABLE_TAINT: Mapping[str, str] = {"key": TAINT_UNREACHABLE, "effect": taint_model.NO_EXECUTE}

CONDITION_READY = "Ready"
# {condition type: {condition status: taint key}} (upstream nodeConditionToTaintKeyStatusMap).
NODE_CONDITION_TO_TAINT_KEY: Mapping[str, Mapping[str, str]] = {
    CONDITION_READY: {"False": TAINT_NOT_READY, "Unknown": TAINT_UNREACHABLE},
    "MemoryPressure": {"True": TAINT_MEMORY_PRESSURE},
    "DiskPressure": {"True": TAINT_DISK_PRESSURE},
    "NetworkUnavailable": {"True": TAINT_NETWORK_UNAVAILABLE},
    "PIDPressure": {"True": TAINT_PID_PRESSURE},
}
_CONDITION_TAINT_KEYS = frozenset(
    key for by_status in NODE_CONDITION_TO_TAINT_KEY.values() for key in by_status.values()
)


def get_node_condition(node: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    """The node's condition of type ``ctype`` (upstream ``GetNodeCondition``), or None."""
    for cond in (node.get("status") or {}).get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == ctype:
            return cond
    return None


def condition_taints(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The NoSchedule taints the node's conditions and ``spec.unschedulable`` call for, in condition order."""
    wanted: list[dict[str, Any]] = []
    for cond in (node.get("status") or {}).get("conditions") or ():
        if not isinstance(cond, Mapping):
            continue
        key = (NODE_CONDITION_TO_TAINT_KEY.get(str(cond.get("type"))) or {}).get(str(cond.get("status")))
        if key is not None:
            wanted.append({"key": key, "effect": taint_model.NO_SCHEDULE})
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.append({"key": TAINT_UNSCHEDULABLE, "effect": taint_model.NO_SCHEDULE})
    return wanted


def controlled_no_schedule_taints(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The node's existing NoSchedule taints whose keys the condition pass owns."""
    return [
        t
        for t in (node.get("spec") or {}).get("taints") or ()
        if t.get("effect") == taint_model.NO_SCHEDULE
        and (t.get("key") == TAINT_UNSCHEDULABLE or t.get("key") in _CONDITION_TAINT_KEYS)
    ]


def taint_exists(taints: Iterable[Mapping[str, Any]] | None, taint: Mapping[str, Any]) -> bool:
    """Whether a taint with the same key and effect is present (upstream ``TaintExists``)."""
    return any(taint_model.taint_matches(t, taint) for t in taints or ())


def taint_set_diff(
    wanted: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """``(to_add, to_remove)`` by key and effect (upstream ``TaintSetDiff``)."""
    to_add = [t for t in wanted if not taint_exists(current, t)]
    to_remove = [t for t in current if not taint_exists(wanted, t)]
    return to_add, to_remove


def _same_taint(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return taint_model.taint_matches(a, b) and (a.get("value") or "") == (b.get("value") or "")


def swap_taints(
    taints: Sequence[Mapping[str, Any]] | None,
    *,
    add: Sequence[Mapping[str, Any]] = (),
    remove: Sequence[Mapping[str, Any]] = (),
    now: dt.datetime,
) -> list[dict[str, Any]] | None:
    """The node's taint list with ``remove`` taken off and ``add`` put on; None when nothing changes.

    Removal matches key and effect (upstream ``RemoveTaint``). An added taint replaces a taint of the
    same key and effect unless that one already has the same value (then it is kept, ``timeAdded``
    included); new ones go last, stamped with ``timeAdded``.
    """
    result = [copy.deepcopy(dict(t)) for t in taints or () if not taint_exists(remove, t)]
    changed = len(result) != len(taints or ())
    for wanted in add:
        index = next((i for i, t in enumerate(result) if taint_model.taint_matches(t, wanted)), None)
        if index is not None and _same_taint(result[index], wanted):
            continue
        stamped = {k: v for k, v in wanted.items() if v not in (None, "")}
        stamped["timeAdded"] = format_time(now)
        if index is None:
            result.append(stamped)
        else:
            result[index] = stamped
        changed = True
    return result if changed else None
