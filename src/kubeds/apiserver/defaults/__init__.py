"""Defaulting of every served kind: :func:`apply_defaults` is what the API server calls.

Upstream runs the scheme's defaulters when it decodes a request body (``pkg/apis/*/v1/defaults.go``
via ``zz_generated.defaults.go``), before admission and validation, on create and update alike, so
every function here is idempotent and only fills what is absent. Kinds without defaults are a no-op.

Decoding into the typed object also drops what Go's JSON encoding omits: every collection of
``ObjectMeta`` is ``omitempty`` (``staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go``), so
an empty ``labels``, ``annotations``, ``ownerReferences`` or ``finalizers`` (what a patch removing
the last entry leaves, e.g. the garbage collector orphaning a pod) is not stored or returned.

A write through ``/status`` (``status_write``) still gets the metadata clean-up, but not the
defaulter of a kind in :data:`SPEC_ONLY_DEFAULTERS`: that defaulter reads and writes ``spec`` only,
and the status strategy replaces the request's spec by the stored one (``registry/base.py``), so
defaulting it cannot change what is tracked, validated or stored. It is a kubelet's every pod
status patch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeds.apiserver.defaults import cluster, pod, workloads

__all__ = ["apply_defaults", "image_pull_policy"]

image_pull_policy = pod.image_pull_policy

#: Kinds whose defaulter reads and writes nothing but ``spec`` (checked in
#: ``tests/unit/apiserver/test_apiserver_perf_statuswrites.py``).
SPEC_ONLY_DEFAULTERS = frozenset({"Pod"})

#: ObjectMeta collections that are ``omitempty`` upstream: absent when empty.
OMITEMPTY_META = ("labels", "annotations", "ownerReferences", "finalizers")

_DEFAULTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "Pod": pod.default_pod,
    "DaemonSet": workloads.default_daemonset,
    "Deployment": workloads.default_deployment,
    "ReplicaSet": workloads.default_replicaset,
    "ControllerRevision": workloads.default_controller_revision,
    "Node": cluster.default_node,
    "Namespace": cluster.default_namespace,
    "PodDisruptionBudget": cluster.default_pdb,
    "PriorityClass": cluster.default_priority_class,
    "Event": cluster.default_event,
    "Lease": cluster.default_lease,
}


def apply_defaults(kind: str, obj: dict[str, Any], *, status_write: bool = False) -> None:
    """Fill ``obj`` (a JSON-shaped object of Kind ``kind``) in place with upstream's v1 defaults.

    ``status_write``: ``obj`` is written through ``/status``, whose strategy keeps the stored spec.
    """
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in OMITEMPTY_META:
            if key in meta and (meta[key] is None or meta[key] == {} or meta[key] == []):
                del meta[key]
    if status_write and kind in SPEC_ONLY_DEFAULTERS:
        return
    defaulter = _DEFAULTERS.get(kind)
    if defaulter is not None:
        defaulter(obj)
