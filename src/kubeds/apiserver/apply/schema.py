"""Merge semantics of the served kinds, as data.

Server-side apply needs, for every node of an object, what upstream's OpenAPI extensions say:

* ``x-kubernetes-list-type``: ``atomic`` (the default for lists: replaced and owned as a whole),
  ``set`` (items owned by value) or ``map`` with ``x-kubernetes-list-map-keys`` (items owned by
  key, e.g. containers by ``name``);
* ``x-kubernetes-map-type: atomic`` / ``+structType=atomic`` (a map or struct owned as a whole,
  e.g. ``LabelSelector``, ``ObjectFieldSelector``, ``NodeSelector``, ``pod.spec.nodeSelector``);
* whether a map has free keys (``labels``, ``data``, ``capacity``), whose entries are owned one by
  one, or is a struct with named fields.

The tables below transcribe those markers from upstream's Go types for the kinds kubeds serves
(``staging/src/k8s.io/api/core/v1/types.go``, ``apps/v1/types.go``, ``policy/v1/types.go``,
``coordination/v1/types.go``, ``scheduling/v1/types.go``, ``apimachinery/pkg/apis/meta/v1/types.go``).
Only nodes with non-default semantics are listed: an unlisted field holding an object is a
granular struct, an unlisted list is atomic, anything else is a scalar leaf (upstream's
"deduced" rules, ``structured-merge-diff/typed/deduced.go``).

``value_fields`` names the non-pointer struct fields of a Go type (``spec``, ``template``,
``updateStrategy``...). Upstream compares against a typed empty object on create, in which those
are present as ``{}``; so they are never "added", which is why ``f:spec`` has no ``.`` marker in
``Update`` entries while pointer structs such as ``f:rollingUpdate`` do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ATOMIC",
    "ATOMIC_LIST",
    "ListOf",
    "MapOf",
    "Struct",
    "Type",
    "child_type",
    "schema_for",
]


@dataclass(frozen=True, eq=False)
class Struct:
    """An object with named fields (unnamed ones are deduced)."""

    fields: Mapping[str, Type] = field(default_factory=dict)
    value_fields: frozenset[str] = frozenset()
    atomic: bool = False


@dataclass(frozen=True, eq=False)
class MapOf:
    """A map with free keys (``map[string]T``); each entry is owned on its own."""

    element: Type | None = None
    atomic: bool = False


@dataclass(frozen=True, eq=False)
class ListOf:
    """A list: ``atomic``, ``set`` or ``map`` (associative, by ``keys``)."""

    kind: str = "atomic"
    keys: tuple[str, ...] = ()
    element: Type | None = None
    key_defaults: Mapping[str, Any] = field(default_factory=dict)


Type = Struct | MapOf | ListOf

ATOMIC = Struct(atomic=True)
ATOMIC_LIST = ListOf("atomic")
SET = ListOf("set")
STRINGS = MapOf()
ANY_STRUCT = Struct()


def keyed(*keys: str, element: Type | None = None, **defaults: Any) -> ListOf:
    return ListOf("map", keys, element, defaults)


def child_type(parent: Type | None, key: str) -> Type | None:
    """The type of ``key`` inside a map or struct of type ``parent`` (None: deduce from value)."""
    if isinstance(parent, Struct):
        return parent.fields.get(key)
    if isinstance(parent, MapOf):
        return parent.element
    return None


def is_atomic(t: Type | None) -> bool:
    if isinstance(t, ListOf):
        return t.kind == "atomic"
    return t is not None and t.atomic


# --- meta/v1 -------------------------------------------------------------------------------------

OBJECT_META = Struct(
    {
        "labels": STRINGS,
        "annotations": STRINGS,
        "ownerReferences": keyed("uid"),
        "finalizers": SET,
        "managedFields": ATOMIC_LIST,
    }
)
LABEL_SELECTOR = ATOMIC  # +structType=atomic

# --- core/v1 pod spec ----------------------------------------------------------------------------

_HANDLER = Struct({"exec": Struct({"command": ATOMIC_LIST}), "httpGet": Struct({"httpHeaders": ATOMIC_LIST})})
_PROBE = _HANDLER
_ENV_VAR = Struct(
    {
        "valueFrom": Struct(
            {
                "fieldRef": ATOMIC,
                "resourceFieldRef": ATOMIC,
                "configMapKeyRef": ATOMIC,
                "secretKeyRef": ATOMIC,
            }
        )
    }
)
CONTAINER = Struct(
    {
        "command": ATOMIC_LIST,
        "args": ATOMIC_LIST,
        "ports": keyed("containerPort", "protocol", protocol="TCP"),
        "envFrom": ATOMIC_LIST,
        "env": keyed("name", element=_ENV_VAR),
        "resources": Struct({"limits": STRINGS, "requests": STRINGS, "claims": keyed("name")}),
        "resizePolicy": ATOMIC_LIST,
        "volumeMounts": keyed("mountPath"),
        "volumeDevices": keyed("devicePath"),
        "livenessProbe": _PROBE,
        "readinessProbe": _PROBE,
        "startupProbe": _PROBE,
        "lifecycle": Struct({"postStart": _HANDLER, "preStop": _HANDLER}),
        "securityContext": Struct({"capabilities": Struct({"add": ATOMIC_LIST, "drop": ATOMIC_LIST})}),
    },
    value_fields=frozenset({"resources"}),
)
VOLUME = Struct(
    {
        "configMap": Struct({"items": ATOMIC_LIST}),
        "secret": Struct({"items": ATOMIC_LIST}),
        "downwardAPI": Struct({"items": ATOMIC_LIST}),
        "projected": Struct({"sources": ATOMIC_LIST}),
    }
)
_AFFINITY_TERMS = Struct(
    {
        "requiredDuringSchedulingIgnoredDuringExecution": ATOMIC_LIST,
        "preferredDuringSchedulingIgnoredDuringExecution": ATOMIC_LIST,
    }
)
AFFINITY = Struct(
    {
        "nodeAffinity": Struct(
            {
                "requiredDuringSchedulingIgnoredDuringExecution": ATOMIC,  # NodeSelector: +structType=atomic
                "preferredDuringSchedulingIgnoredDuringExecution": ATOMIC_LIST,
            }
        ),
        "podAffinity": _AFFINITY_TERMS,
        "podAntiAffinity": _AFFINITY_TERMS,
    }
)
POD_SPEC = Struct(
    {
        "volumes": keyed("name", element=VOLUME),
        "initContainers": keyed("name", element=CONTAINER),
        "containers": keyed("name", element=CONTAINER),
        "ephemeralContainers": keyed("name", element=CONTAINER),
        "imagePullSecrets": keyed("name"),
        "hostAliases": keyed("ip", element=Struct({"hostnames": ATOMIC_LIST})),
        "tolerations": ATOMIC_LIST,
        "topologySpreadConstraints": keyed(
            "topologyKey",
            "whenUnsatisfiable",
            element=Struct({"labelSelector": LABEL_SELECTOR, "matchLabelKeys": ATOMIC_LIST}),
        ),
        "readinessGates": ATOMIC_LIST,
        "schedulingGates": keyed("name"),
        "resourceClaims": keyed("name"),
        "nodeSelector": MapOf(atomic=True),
        "overhead": STRINGS,
        "affinity": AFFINITY,
        "securityContext": Struct({"supplementalGroups": ATOMIC_LIST, "sysctls": ATOMIC_LIST}),
        "dnsConfig": Struct({"nameservers": ATOMIC_LIST, "searches": ATOMIC_LIST, "options": ATOMIC_LIST}),
    }
)
POD_STATUS = Struct(
    {
        "conditions": keyed("type"),
        "podIPs": keyed("ip"),
        "hostIPs": ATOMIC_LIST,
        "containerStatuses": ATOMIC_LIST,
        "initContainerStatuses": ATOMIC_LIST,
        "ephemeralContainerStatuses": ATOMIC_LIST,
        "resourceClaimStatuses": keyed("name"),
    }
)
POD_TEMPLATE = Struct(
    {"metadata": OBJECT_META, "spec": POD_SPEC}, value_fields=frozenset({"metadata", "spec"})
)

_CONDITIONS_STATUS = Struct({"conditions": keyed("type")})


def _root(spec: Type | None = None, status: Type | None = None, **fields: Type) -> Struct:
    members: dict[str, Type] = {"metadata": OBJECT_META, **fields}
    value = {"metadata"}
    if spec is not None:
        members["spec"] = spec
        value.add("spec")
    if status is not None:
        members["status"] = status
        value.add("status")
    return Struct(members, value_fields=frozenset(value))


_WORKLOAD_SPEC = {"selector": LABEL_SELECTOR, "template": POD_TEMPLATE}

ROOTS: dict[str, Struct] = {
    "Pod": _root(POD_SPEC, POD_STATUS),
    "Node": _root(
        Struct({"podCIDRs": SET, "taints": ATOMIC_LIST}),
        Struct(
            {
                "capacity": STRINGS,
                "allocatable": STRINGS,
                "conditions": keyed("type"),
                "addresses": keyed("type"),
                "images": ATOMIC_LIST,
                "volumesInUse": ATOMIC_LIST,
                "volumesAttached": ATOMIC_LIST,
                "runtimeHandlers": ATOMIC_LIST,
            },
            value_fields=frozenset({"daemonEndpoints", "nodeInfo"}),
        ),
    ),
    "DaemonSet": _root(
        Struct(
            {**_WORKLOAD_SPEC, "updateStrategy": Struct({"rollingUpdate": ANY_STRUCT})},
            value_fields=frozenset({"template", "updateStrategy"}),
        ),
        _CONDITIONS_STATUS,
    ),
    "Deployment": _root(
        Struct(
            {**_WORKLOAD_SPEC, "strategy": Struct({"rollingUpdate": ANY_STRUCT})},
            value_fields=frozenset({"template", "strategy"}),
        ),
        _CONDITIONS_STATUS,
    ),
    "ReplicaSet": _root(Struct(_WORKLOAD_SPEC, value_fields=frozenset({"template"})), _CONDITIONS_STATUS),
    "ConfigMap": _root(data=STRINGS, binaryData=STRINGS),
    "Namespace": _root(Struct({"finalizers": ATOMIC_LIST}), _CONDITIONS_STATUS),
    "Lease": _root(ANY_STRUCT),
    "PodDisruptionBudget": _root(
        Struct({"selector": LABEL_SELECTOR}),
        Struct({"conditions": keyed("type"), "disruptedPods": STRINGS}),
    ),
    "ServiceAccount": _root(secrets=keyed("name"), imagePullSecrets=ATOMIC_LIST),
    "Event": Struct(
        {"metadata": OBJECT_META},
        value_fields=frozenset({"metadata", "involvedObject", "source"}),
    ),
    "PriorityClass": _root(),
    "ControllerRevision": _root(),
}

GENERIC = _root()


def schema_for(kind: str) -> Struct:
    """The root type of ``kind``; unknown kinds get deduced semantics with typed metadata."""
    return ROOTS.get(kind, GENERIC)
