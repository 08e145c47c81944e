"""Objects every cluster starts with, created at API-server start when absent.

Mirrors the apiserver's ``SystemNamespaces`` post-start hook (``pkg/controlplane``: default,
kube-system, kube-public, kube-node-lease) and the scheduling bootstrap hook
(``pkg/registry/scheduling/rest/storage_scheduling.go``: the ``system-node-critical`` and
``system-cluster-critical`` PriorityClasses). Creating goes through the normal store path so the
objects get uids, timestamps and defaults like any other.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver import errors
from kubeds.apiserver.admission import BUILTIN_PRIORITY_CLASSES
from kubeds.apiserver.resources import Resource, lookup
from kubeds.apiserver.store import Store, WriteContext

__all__ = ["SYSTEM_NAMESPACES", "bootstrap"]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
MANAGER = "kube-apiserver"
PRIORITY_DESCRIPTIONS = {
    "system-node-critical": "Used for system critical pods that must not be moved from their current node.",
    "system-cluster-critical": "Used for system critical pods that must run in the cluster, but can be moved "
    "to another node if necessary.",
}


def _priority_class(name: str, value: int) -> dict[str, Any]:
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": name},
        "value": value,
        "description": PRIORITY_DESCRIPTIONS[name],
        "preemptionPolicy": "PreemptLowerPriority",
    }


async def bootstrap(store: Store) -> None:
    namespaces = lookup("", "v1", "namespaces")
    classes = lookup("scheduling.k8s.io", "v1", "priorityclasses")
    assert namespaces is not None and classes is not None
    wanted: list[tuple[Resource, dict[str, Any]]] = [
        (namespaces, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})
        for n in SYSTEM_NAMESPACES
    ]
    wanted += [(classes, _priority_class(n, v)) for n, v in BUILTIN_PRIORITY_CLASSES.items()]
    for resource, obj in wanted:
        name = obj["metadata"]["name"]
        try:
            await store.get(resource, "", name)
            continue
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
        try:
            await store.create(resource, "", obj, ctx=WriteContext(field_manager=MANAGER))
        except errors.StatusError as exc:
            if exc.code != 409:
                raise
