"""Node health bookkeeping: when did the controller last hear from each kubelet, and is it too long ago.

Mirrors upstream ``pkg/controller/nodelifecycle/node_lifecycle_controller.go`` ``tryUpdateNodeHealth``
and its ``nodeHealthData``. Upstream deliberately does not trust the timestamps inside the objects
(clock skew between machines): it records, on the controller's own clock, *when it observed* a new
Ready ``lastHeartbeatTime`` or a later Lease ``renewTime`` (the ``probeTimestamp``). A node whose
probe timestamp is older than the grace period (``node_monitor_grace_period``; the longer
``node_startup_grace_period`` while the node has never posted a Ready condition) gets Ready,
MemoryPressure, DiskPressure and PIDPressure set to Unknown, reason ``NodeStatusUnknown``, message
``Kubelet stopped posting node status.`` (a condition never posted is appended with
``NodeStatusNeverUpdated``/``Kubelet never posted node status.``); NetworkUnavailable is left alone.

:func:`observe` is pure: it takes the node, its Lease, the saved :class:`NodeHealth` and ``now`` and
returns the new health, the Ready condition as observed and as it should be, and the status to
write (None when nothing needs writing). The controller writes it and then calls
:func:`after_status_write`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from kubeds.clock import format_time
from kubeds.controllers.nodelifecycle.taints import CONDITION_READY, get_node_condition

__all__ = [
    "MSG_NEVER_UPDATED",
    "MSG_STOPPED_POSTING",
    "REASON_NEVER_UPDATED",
    "REASON_STATUS_UNKNOWN",
    "HealthResult",
    "NodeHealth",
    "after_status_write",
    "observe",
    "parse_time",
]

REASON_STATUS_UNKNOWN = "NodeStatusUnknown"
MSG_STOPPED_POSTING = "Kubelet stopped posting node status."
REASON_NEVER_UPDATED = "NodeStatusNeverUpdated"
MSG_NEVER_UPDATED = "Kubelet never posted node status."
# NetworkUnavailable is managed on the control-plane level and is not marked Unknown.
UNKNOWN_ON_SILENCE = (CONDITION_READY, "MemoryPressure", "DiskPressure", "PIDPressure")
STATUS_UNKNOWN = "Unknown"


@dataclasses.dataclass
class NodeHealth:
    """What the controller last saw of a node, with the local times it saw it (``nodeHealthData``)."""

    probe_timestamp: dt.datetime
    ready_transition_timestamp: dt.datetime
    ready_condition: dict[str, Any] | None = None
    lease_renew_time: dt.datetime | None = None


@dataclasses.dataclass
class HealthResult:
    health: NodeHealth
    grace_period: float
    observed_ready: dict[str, Any]
    current_ready: dict[str, Any] | None
    status_to_write: dict[str, Any] | None


def parse_time(value: object) -> dt.datetime | None:
    """A ``metav1.Time``/``MicroTime`` string as an aware datetime; None when absent or unparsable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _ready_copy(node: Mapping[str, Any]) -> dict[str, Any] | None:
    cond = get_node_condition(node, CONDITION_READY)
    return dict(cond) if cond is not None else None


def observe(
    node: Mapping[str, Any],
    *,
    lease: Mapping[str, Any] | None,
    saved: NodeHealth | None,
    now: dt.datetime,
    grace_period: float,
    startup_grace_period: float,
) -> HealthResult:
    """Update the node's health record and decide whether its conditions must go Unknown."""
    meta = node.get("metadata") or {}
    created = parse_time(meta.get("creationTimestamp")) or now
    current_ready = _ready_copy(node)
    # Shallow is enough: fields are replaced, never mutated in place.
    health = dataclasses.replace(saved) if saved is not None else None
    if current_ready is None:
        # Never posted: judge it against the startup grace period from its creation.
        observed_ready: dict[str, Any] = {
            "type": CONDITION_READY,
            "status": STATUS_UNKNOWN,
            "lastHeartbeatTime": meta.get("creationTimestamp"),
            "lastTransitionTime": meta.get("creationTimestamp"),
        }
        grace = startup_grace_period
        if health is None:
            health = NodeHealth(probe_timestamp=created, ready_transition_timestamp=created)
        else:
            health.ready_condition = None
    else:
        observed_ready = dict(current_ready)
        grace = grace_period
        saved_ready = health.ready_condition if health is not None else None
        if health is None or saved_ready is None:
            # First sight of the node, or of its Ready condition (e.g. the controller restarted).
            health = NodeHealth(
                probe_timestamp=now, ready_transition_timestamp=now, ready_condition=current_ready
            )
        elif saved_ready.get("lastHeartbeatTime") != current_ready.get("lastHeartbeatTime"):
            transition = health.ready_transition_timestamp
            if saved_ready.get("lastTransitionTime") != current_ready.get("lastTransitionTime"):
                transition = now
            health = NodeHealth(
                probe_timestamp=now,
                ready_transition_timestamp=transition,
                ready_condition=current_ready,
                lease_renew_time=health.lease_renew_time,
            )
    # A renewed Lease always counts as a probe, even if the status is never posted.
    renew = parse_time(((lease or {}).get("spec") or {}).get("renewTime"))
    if renew is not None and (health.lease_renew_time is None or health.lease_renew_time < renew):
        health.lease_renew_time = renew
        health.probe_timestamp = now

    status_to_write: dict[str, Any] | None = None
    if now > health.probe_timestamp + dt.timedelta(seconds=grace):
        status = copy.deepcopy(dict(node.get("status") or {}))
        conditions: list[dict[str, Any]] = list(status.get("conditions") or [])
        stamp = format_time(now)
        for ctype in UNKNOWN_ON_SILENCE:
            cond = next((c for c in conditions if c.get("type") == ctype), None)
            if cond is None:
                conditions.append(
                    {
                        "type": ctype,
                        "status": STATUS_UNKNOWN,
                        "lastHeartbeatTime": meta.get("creationTimestamp"),
                        "lastTransitionTime": stamp,
                        "reason": REASON_NEVER_UPDATED,
                        "message": MSG_NEVER_UPDATED,
                    }
                )
            elif cond.get("status") != STATUS_UNKNOWN:
                cond.update(
                    status=STATUS_UNKNOWN,
                    reason=REASON_STATUS_UNKNOWN,
                    message=MSG_STOPPED_POSTING,
                    lastTransitionTime=stamp,
                )
        status["conditions"] = conditions
        new_ready = next((dict(c) for c in conditions if c.get("type") == CONDITION_READY), None)
        if new_ready != observed_ready:
            status_to_write = status
            current_ready = new_ready
    return HealthResult(
        health=health,
        grace_period=grace,
        observed_ready=observed_ready,
        current_ready=current_ready,
        status_to_write=status_to_write,
    )


def after_status_write(result: HealthResult, *, written: Mapping[str, Any], now: dt.datetime) -> NodeHealth:
    """The health record once the Unknown status has been written (upstream resets the transition time)."""
    return NodeHealth(
        probe_timestamp=result.health.probe_timestamp,
        ready_transition_timestamp=now,
        ready_condition=_ready_copy(written),
        lease_renew_time=result.health.lease_renew_time,
    )
