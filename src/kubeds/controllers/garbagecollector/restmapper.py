"""Which kinds the garbage collector knows: (apiVersion, kind) → REST resource and scope.

Upstream the collector asks a discovery-backed RESTMapper (``apiResource`` in
``pkg/controller/garbagecollector/operations.go``) and monitors every resource that supports
delete, list and watch (``GetDeletableResources``) except the ignored ``events``. Components may not
import the API server's catalogue (import-linter), so this module lists the kinds kubeds serves (the
same table as ``kubeds.apiserver.resources``) and :data:`DEFAULT_MONITORED` the ones whose objects own
or are owned in practice. An ownerReference to any other kind is a :class:`RESTMappingError`, retried
with backoff as upstream does for kinds its mapper does not (yet) know.
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "DEFAULT_MONITORED",
    "KNOWN_RESOURCES",
    "RESTMappingError",
    "ResourceMapping",
    "lookup",
]

MSG_NO_MAPPING = "unable to get REST mapping for {kind}.{api_version}"


class RESTMappingError(Exception):
    """The (apiVersion, kind) of a reference is not a served resource (upstream ``restMappingError``)."""

    def __init__(self, *, kind: str, api_version: str) -> None:
        super().__init__(MSG_NO_MAPPING.format(kind=kind, api_version=api_version))
        self.kind = kind
        self.api_version = api_version


@dataclasses.dataclass(frozen=True)
class ResourceMapping:
    api_version: str
    kind: str
    plural: str
    namespaced: bool


KNOWN_RESOURCES: tuple[ResourceMapping, ...] = (
    ResourceMapping("v1", "ConfigMap", "configmaps", True),
    ResourceMapping("v1", "Event", "events", True),
    ResourceMapping("v1", "Namespace", "namespaces", False),
    ResourceMapping("v1", "Node", "nodes", False),
    ResourceMapping("v1", "Pod", "pods", True),
    ResourceMapping("v1", "ServiceAccount", "serviceaccounts", True),
    ResourceMapping("apps/v1", "ControllerRevision", "controllerrevisions", True),
    ResourceMapping("apps/v1", "DaemonSet", "daemonsets", True),
    ResourceMapping("apps/v1", "Deployment", "deployments", True),
    ResourceMapping("apps/v1", "ReplicaSet", "replicasets", True),
    ResourceMapping("coordination.k8s.io/v1", "Lease", "leases", True),
    ResourceMapping("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
    ResourceMapping("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False),
)

_BY_KIND = {(m.api_version, m.kind): m for m in KNOWN_RESOURCES}

#: Watched into the graph. Events are ignored as upstream does; namespaces are finalized by the API
#: server's namespace lifecycle, not by ownerReferences.
DEFAULT_MONITORED: tuple[ResourceMapping, ...] = tuple(
    _BY_KIND[key]
    for key in (
        ("v1", "Pod"),
        ("apps/v1", "ReplicaSet"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ControllerRevision"),
        ("v1", "ConfigMap"),
        ("v1", "ServiceAccount"),
        ("coordination.k8s.io/v1", "Lease"),
        ("v1", "Node"),
        ("policy/v1", "PodDisruptionBudget"),
    )
)


def lookup(api_version: str, kind: str) -> ResourceMapping:
    """The mapping for ``(apiVersion, kind)``; :class:`RESTMappingError` when it is not served."""
    mapping = _BY_KIND.get((api_version, kind))
    if mapping is None:
        raise RESTMappingError(kind=kind, api_version=api_version)
    return mapping
