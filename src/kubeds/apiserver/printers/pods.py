"""The Pod row: READY, STATUS and RESTARTS as ``kubectl get pods`` shows them.

Mirrors ``printPod`` in ``pkg/printers/internalversion/printers.go``. STATUS is worked out in
passes, each able to override the previous one:

1. the phase, or ``status.reason`` when set (``Evicted``, ``NodeLost``...), or ``SchedulingGated``
   when the ``PodScheduled`` condition carries that reason;
2. init containers, in order, until the first that has not finished: one that exited non-zero gives
   ``Init:<reason>`` (or ``Init:Signal:N`` / ``Init:ExitCode:N``), one waiting with a reason other than
   ``PodInitializing`` gives ``Init:<reason>``, any other gives ``Init:<i>/<n>``. Restartable init
   containers (sidecars, ``restartPolicy: Always``) that have started do not block and count towards
   READY;
3. when initialisation is over (or the ``Initialized`` condition is True), app containers from last
   to first, so the first container's state wins: a waiting reason (``ContainerCreating``,
   ``ImagePullBackOff``, ``CrashLoopBackOff``), a terminated reason (``Completed``, ``Error``) or
   ``Signal:N`` / ``ExitCode:N``; ready running containers count towards READY. ``Completed`` turns
   back into ``Running`` (or ``NotReady`` without a True ``Ready`` condition) while some container
   still runs;
4. a pod being deleted shows ``Unknown`` when its node was lost (``status.reason: NodeLost``) and
   ``Terminating`` unless its phase is already terminal.

RESTARTS sums restart counts (only sidecars' once initialisation is over, plus app containers)
and appends `` (<age> ago)`` of the most recent ``lastState.terminated.finishedAt``.

Succeeded and Failed pods also carry a ``Completed`` row condition, as upstream's rows do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubeds.apiserver.printers.duration import parse_time, translate_timestamp_since
from kubeds.apiserver.printers.formatting import NONE

__all__ = ["pod_cells", "pod_conditions"]

NODE_UNREACHABLE_POD_REASON = "NodeLost"
SCHEDULING_GATED_REASON = "SchedulingGated"
POD_INITIALIZING = "PodInitializing"
TERMINATING = "Terminating"
UNKNOWN_STATUS = "Unknown"
TERMINAL_PHASES = ("Succeeded", "Failed")

POD_SUCCEEDED_CONDITIONS = [
    {
        "type": "Completed",
        "status": "True",
        "reason": "Succeeded",
        "message": "The pod has completed successfully.",
    }
]
POD_FAILED_CONDITIONS = [
    {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}
]


def pod_conditions(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """``metav1.TableRowCondition`` entries of a pod's row: ``Completed`` for terminal phases."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [dict(c) for c in POD_SUCCEEDED_CONDITIONS]
    if phase == "Failed":
        return [dict(c) for c in POD_FAILED_CONDITIONS]
    return []


def _condition_true(status: dict[str, Any], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or [])


class _Restarts:
    """A restart count and the latest ``lastState.terminated.finishedAt`` seen with it."""

    def __init__(self) -> None:
        self.count = 0
        self.last: dt.datetime | None = None

    def add(self, container_status: dict[str, Any]) -> None:
        self.count += int(container_status.get("restartCount") or 0)
        finished = parse_time(
            ((container_status.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        )
        if finished is not None and (self.last is None or finished > self.last):
            self.last = finished


def _terminated_reason(terminated: dict[str, Any], prefix: str) -> str:
    if terminated.get("reason"):
        return f"{prefix}{terminated['reason']}"
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _restartable(container: dict[str, Any] | None) -> bool:
    return bool(container) and (container or {}).get("restartPolicy") == "Always"


def pod_cells(pod: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Ready, Status, Restarts, Age, IP, Node, Nominated Node, Readiness Gates."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    phase = status.get("phase") or ""

    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == SCHEDULING_GATED_REASON:
            reason = SCHEDULING_GATED_REASON

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _restartable(c))
    ready = 0
    restarts = _Restarts()
    sidecar_restarts = _Restarts()

    init_statuses = status.get("initContainerStatuses") or []
    n_init = len(spec.get("initContainers") or [])
    initializing = False
    for i, cs in enumerate(init_statuses):
        restarts.add(cs)
        sidecar = _restartable(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts.add(cs)
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != POD_INITIALIZING:
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts = sidecar_restarts
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts.add(cs)
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    if metadata.get("deletionTimestamp"):
        if status.get("reason") == NODE_UNREACHABLE_POD_REASON:
            reason = UNKNOWN_STATUS
        elif phase not in TERMINAL_PHASES:
            reason = TERMINATING

    restarts_cell = str(restarts.count)
    if restarts.count != 0 and restarts.last is not None:
        restarts_cell = f"{restarts.count} ({translate_timestamp_since(restarts.last, now=now)} ago)"

    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else None) or status.get("podIP") or NONE

    return [
        metadata.get("name", ""),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        translate_timestamp_since(metadata.get("creationTimestamp"), now=now),
        pod_ip,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        _readiness_gates(spec, status),
    ]


def _readiness_gates(spec: dict[str, Any], status: dict[str, Any]) -> str:
    gates = spec.get("readinessGates") or []
    if not gates:
        return NONE
    conditions = status.get("conditions") or []
    true_count = 0
    for gate in gates:
        for condition in conditions:
            if condition.get("type") == gate.get("conditionType"):
                if condition.get("status") == "True":
                    true_count += 1
                break
    return f"{true_count}/{len(gates)}"
