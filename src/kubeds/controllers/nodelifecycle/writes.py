"""The node lifecycle controller's writes: node taints, node labels, and pods' Ready condition.

Mirrors upstream ``pkg/controller/controller_utils.go`` (``AddOrUpdateTaintOnNode``,
``RemoveTaintOffNode``, ``AddOrUpdateLabelsOnNode``: optimistic writes retried on conflict with a
fresh GET) and ``pkg/controller/util/node/controller_utils.go`` (``SwapNodeControllerTaint``,
``MarkPodsNotReady``, ``RecordNodeEvent``, ``RecordNodeStatusChange``).

Taint writes are JSON merge patches of ``spec.taints`` carrying ``metadata.resourceVersion``, so the
server applies them only to the node they were computed from (a 409 refetches and recomputes, up to
five times). A node that already has the wanted taints is not written at all.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers.nodelifecycle import taints as node_taints
from kubeds.machinery import events

__all__ = [
    "EVENT_NODE_NOT_READY",
    "MSG_POD_NODE_NOT_READY",
    "mark_pods_not_ready",
    "node_event_ref",
    "reconcile_node_labels",
    "record_node_status_change",
    "swap_node_taints",
]

log = logging.getLogger(__name__)

UPDATE_RETRIES = 5
EVENT_NODE_NOT_READY = "NodeNotReady"
MSG_POD_NODE_NOT_READY = "Node is not ready"
MSG_NODE_STATUS_CHANGE = "Node {name} status is now: {status}"
POD_READY = "Ready"

# (primary, secondary): the beta label follows the stable one (upstream labelReconcileInfo).
LABEL_RECONCILE = (
    ("kubernetes.io/os", "beta.kubernetes.io/os"),
    ("kubernetes.io/arch", "beta.kubernetes.io/arch"),
)


def node_event_ref(node: Mapping[str, Any], *, uid: str | None = None) -> dict[str, Any]:
    """An object to hang a Node event on; ``uid`` defaults to the node's own."""
    meta = node.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": meta.get("name"), "uid": uid if uid is not None else meta.get("uid")},
    }


def record_node_status_change(recorder: events.EventRecorder, node: Mapping[str, Any], status: str) -> None:
    """Upstream ``RecordNodeStatusChange``: the event's uid is the node's name, as kubectl looks it up."""
    name = str((node.get("metadata") or {}).get("name") or "")
    recorder.event(
        node_event_ref(node, uid=name),
        events.EVENT_TYPE_NORMAL,
        status,
        MSG_NODE_STATUS_CHANGE.format(name=name, status=status),
    )


async def swap_node_taints(
    nodes: api_mod.ResourceClient,
    node: Mapping[str, Any],
    *,
    add: Sequence[Mapping[str, Any]] = (),
    remove: Sequence[Mapping[str, Any]] = (),
    clock: clock_mod.Clock,
) -> dict[str, Any]:
    """Add and remove taints in one patch; returns the node as written (or as found if nothing changed).

    Raises the client error when the node is gone or conflicts persist.
    """
    current: Mapping[str, Any] = node
    name = str((node.get("metadata") or {}).get("name") or "")
    for attempt in range(UPDATE_RETRIES):
        new_taints = node_taints.swap_taints(
            (current.get("spec") or {}).get("taints"), add=add, remove=remove, now=clock.now()
        )
        if new_taints is None:
            return dict(current)
        patch = {
            "metadata": {"resourceVersion": (current.get("metadata") or {}).get("resourceVersion")},
            "spec": {"taints": new_taints or None},
        }
        try:
            return await nodes.patch(name, patch, patch_type="merge")
        except errors.Conflict:
            if attempt == UPDATE_RETRIES - 1:
                raise
            current = await nodes.get(name)
    raise AssertionError("unreachable")


async def reconcile_node_labels(nodes: api_mod.ResourceClient, node: Mapping[str, Any]) -> bool:
    """Make the beta os/arch labels match the stable ones; True if the node was patched."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    updates = {
        secondary: labels[primary]
        for primary, secondary in LABEL_RECONCILE
        if primary in labels and labels.get(secondary) != labels[primary]
    }
    if not updates:
        return False
    name = str((node.get("metadata") or {}).get("name") or "")
    await nodes.patch(name, {"metadata": {"labels": updates}}, patch_type="strategic")
    return True


async def mark_pods_not_ready(
    pods_client: api_mod.ResourceClient,
    pods: Sequence[Mapping[str, Any]],
    *,
    node_name: str,
    recorder: events.EventRecorder,
    clock: clock_mod.Clock,
) -> list[Exception]:
    """Set each bound pod's Ready condition False (upstream ``MarkPodsNotReady``); the errors met."""
    failures: list[Exception] = []
    for cached in pods:
        if (cached.get("spec") or {}).get("nodeName") != node_name:
            continue
        conditions = (cached.get("status") or {}).get("conditions") or []
        ready = next((c for c in conditions if c.get("type") == POD_READY), None)
        if ready is None or ready.get("status") == "False":
            continue
        pod = copy.deepcopy(dict(cached))
        for cond in pod["status"]["conditions"]:
            if cond.get("type") == POD_READY:
                cond["status"] = "False"
                cond["lastTransitionTime"] = clock_mod.format_time(clock.now())
        meta = pod.get("metadata") or {}
        try:
            await pods_client.update_status(pod, namespace=meta.get("namespace"))
        except errors.NotFound:
            continue
        except (errors.ApiError, errors.TransportError) as exc:
            failures.append(exc)
            continue
        recorder.event(pod, events.EVENT_TYPE_WARNING, EVENT_NODE_NOT_READY, MSG_POD_NODE_NOT_READY)
    return failures
