"""The catalogue of served resources: one :class:`Resource` per kind.

Discovery, OpenAPI, routing and storage keys are all derived from this table, so adding a
resource is one entry here plus its registry module. The order of :data:`RESOURCES` is the order
discovery advertises (groups in first-seen order, resources alphabetical inside a group as the
real API server lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "GROUP_ORDER",
    "RESOURCES",
    "Resource",
    "Subresource",
    "by_group_version",
    "lookup",
    "storage_prefix",
]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # when it differs from the parent's (pods/eviction is policy/v1)
    version: str | None = None


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = field(default_factory=tuple)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """``daemonsets.apps`` or ``pods``: how upstream names the resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def subresource(self, name: str) -> Subresource | None:
        for s in self.subresources:
            if s.name == name:
                return s
        return None


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, STATUS_VERBS)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", STATUS_VERBS, group="autoscaling", version="v1")


RESOURCES: tuple[Resource, ...] = (
    # core/v1
    Resource("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",)),
    Resource(
        "",
        "v1",
        "Event",
        "events",
        "event",
        True,
        ("ev",),
    ),
    Resource(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        False,
        ("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=(_status("Namespace"),),
    ),
    Resource("", "v1", "Node", "nodes", "node", False, ("no",), subresources=(_status("Node"),)),
    Resource(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        True,
        ("po",),
        ("all",),
        subresources=(
            Subresource("binding", "Binding", ("create",)),
            Subresource("eviction", "Eviction", ("create",), group="policy", version="v1"),
            _status("Pod"),
        ),
    ),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",)),
    # apps/v1
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", True),
    Resource(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        True,
        ("ds",),
        ("all",),
        subresources=(_status("DaemonSet"),),
    ),
    Resource(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        True,
        ("deploy",),
        ("all",),
        subresources=(_scale(), _status("Deployment")),
    ),
    Resource(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        True,
        ("rs",),
        ("all",),
        subresources=(_scale(), _status("ReplicaSet")),
    ),
    # coordination.k8s.io/v1
    Resource("coordination.k8s.io", "v1", "Lease", "leases", "lease", True),
    # policy/v1
    Resource(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        True,
        ("pdb",),
        subresources=(_status("PodDisruptionBudget"),),
    ),
    # scheduling.k8s.io/v1
    Resource("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", False, ("pc",)),
)

GROUP_ORDER: tuple[str, ...] = tuple(dict.fromkeys(r.group for r in RESOURCES))

_BY_GVR = {(r.group, r.version, r.plural): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    return _BY_GVR.get((group, version, plural))


def by_group_version(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


def storage_prefix(resource: Resource, namespace: str | None = None) -> str:
    """``/registry/<group>/<resource>/[<namespace>/]``; the core group is stored as ``core``."""
    base = f"/registry/{resource.group or 'core'}/{resource.plural}/"
    if resource.namespaced and namespace:
        return f"{base}{namespace}/"
    return base
