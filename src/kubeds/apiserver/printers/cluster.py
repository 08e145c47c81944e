"""Rows for the cluster and configuration kinds: Node, Event, Namespace, Lease, PriorityClass,
ConfigMap, ServiceAccount, and the default ``Name``/``Created At`` row.

Mirrors ``printNode``, ``printEvent``, ``printNamespace``, ``printLease``, ``printPriorityClass``,
``printConfigMap`` and ``printServiceAccount`` in ``pkg/printers/internalversion/printers.go``, and
``defaultTableConvertor`` in ``staging/src/k8s.io/apiserver/pkg/registry/rest/table.go``:

- Node ``STATUS`` comes from the ``Ready`` condition only (``Ready``, ``NotReady`` for False *and*
  Unknown, ``Unknown`` when the condition is missing), then ``SchedulingDisabled`` when
  ``spec.unschedulable``, comma-joined. ``ROLES`` are the suffixes of ``node-role.kubernetes.io/<role>``
  labels plus the value of a ``kubernetes.io/role`` label, sorted, or ``<none>``;
- Event ``LAST SEEN`` falls back to ``FIRST SEEN``, which falls back to ``eventTime``; a ``series``
  overrides both last-seen and count; a singleton event (count 0) counts 1. ``OBJECT`` is
  ``<kind lower-cased>/<name>``; ``SOURCE`` is ``component, host`` with the reporting controller and
  instance as fallbacks;
- the default row is the name and ``creationTimestamp`` as RFC 3339 UTC (the zero time when unset).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubeds.apiserver.printers.duration import parse_time, translate_timestamp_since
from kubeds.apiserver.printers.formatting import NONE

__all__ = [
    "configmap_cells",
    "default_cells",
    "event_cells",
    "lease_cells",
    "namespace_cells",
    "node_cells",
    "priority_class_cells",
    "service_account_cells",
]

NODE_ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"
SCHEDULING_DISABLED = "SchedulingDisabled"
UNKNOWN = "<unknown>"
ZERO_TIME = "0001-01-01T00:00:00Z"


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _age(obj: dict[str, Any], now: dt.datetime) -> str:
    return translate_timestamp_since((obj.get("metadata") or {}).get("creationTimestamp"), now=now)


def node_roles(node: dict[str, Any]) -> list[str]:
    """``findNodeRoles``: roles from ``node-role.kubernetes.io/<role>`` and ``kubernetes.io/role``."""
    roles: set[str] = set()
    for key, value in ((node.get("metadata") or {}).get("labels") or {}).items():
        if key.startswith(NODE_ROLE_LABEL_PREFIX):
            role = key[len(NODE_ROLE_LABEL_PREFIX) :]
            if role:
                roles.add(role)
        elif key == NODE_ROLE_LABEL and value:
            roles.add(str(value))
    return sorted(roles)


def node_status(node: dict[str, Any]) -> str:
    """``Ready``/``NotReady``/``Unknown``, plus ``,SchedulingDisabled`` for a cordoned node."""
    parts: list[str] = []
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            parts = ["Ready" if condition.get("status") == "True" else "NotReady"]
    if not parts:
        parts.append("Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        parts.append(SCHEDULING_DISABLED)
    return ",".join(parts)


def _node_address(node: dict[str, Any], type_: str) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == type_:
            return str(address.get("address", ""))
    return NONE


def node_cells(node: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Status, Roles, Age, Version; wide: Internal-IP, External-IP, OS-Image, Kernel-Version,
    Container-Runtime."""
    info = (node.get("status") or {}).get("nodeInfo") or {}
    return [
        _name(node),
        node_status(node),
        ",".join(node_roles(node)) or NONE,
        _age(node, now),
        info.get("kubeletVersion", ""),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or UNKNOWN,
        info.get("kernelVersion") or UNKNOWN,
        info.get("containerRuntimeVersion") or UNKNOWN,
    ]


def _event_source(event: dict[str, Any]) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else str(component)


def event_cells(event: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Last Seen, Type, Reason, Object, Subobject, Source, Message, First Seen, Count, Name."""
    if parse_time(event.get("firstTimestamp")) is not None:
        first_seen = translate_timestamp_since(event.get("firstTimestamp"), now=now)
    else:
        first_seen = translate_timestamp_since(event.get("eventTime"), now=now)
    if parse_time(event.get("lastTimestamp")) is not None:
        last_seen = translate_timestamp_since(event.get("lastTimestamp"), now=now)
    else:
        last_seen = first_seen
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series is not None:
        last_seen = translate_timestamp_since(series.get("lastObservedTime"), now=now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last_seen,
        event.get("type", ""),
        event.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        _event_source(event),
        str(event.get("message", "")).strip(),
        first_seen,
        count,
        _name(event),
    ]


def namespace_cells(ns: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Status (the phase), Age."""
    return [_name(ns), (ns.get("status") or {}).get("phase", ""), _age(ns, now)]


def lease_cells(lease: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Holder (``spec.holderIdentity``, empty when unset), Age."""
    return [_name(lease), (lease.get("spec") or {}).get("holderIdentity") or "", _age(lease, now)]


def priority_class_cells(pc: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Value, Global-Default, Age, PreemptionPolicy."""
    return [
        _name(pc),
        int(pc.get("value") or 0),
        bool(pc.get("globalDefault", False)),
        _age(pc, now),
        pc.get("preemptionPolicy") or "",
    ]


def configmap_cells(cm: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Data (number of ``data`` plus ``binaryData`` keys), Age."""
    return [_name(cm), len(cm.get("data") or {}) + len(cm.get("binaryData") or {}), _age(cm, now)]


def service_account_cells(sa: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Secrets (how many are listed), Age."""
    return [_name(sa), len(sa.get("secrets") or []), _age(sa, now)]


def default_cells(obj: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name and Created At (RFC 3339, UTC, second precision); ``now`` is unused, as upstream."""
    del now
    created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    text = created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if created is not None else ZERO_TIME
    return [_name(obj), text]
