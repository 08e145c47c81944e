"""Strategic-merge-patch metadata, as data: kind -> type -> field -> (strategy, merge key, type).

Upstream reads ``patchStrategy``/``patchMergeKey`` struct tags by reflection
(``k8s.io/apimachinery/pkg/util/strategicpatch/meta.go``, ``PatchMetaFromStruct``). The tags copied
here come from ``staging/src/k8s.io/api/core/v1/types.go``, ``apps/v1/types.go``,
``policy/v1/types.go`` and ``apimachinery/pkg/apis/meta/v1/types.go`` (``ObjectMeta``), for every
kind kubeds serves. A :class:`TypeSchema` lists only the fields that matter to a patch: fields with
a strategy, and fields leading to a type that has some. Everything else takes the defaults of a
typed struct: maps (structs) merge, lists are atomic (replaced whole). Notable atomic lists:
``tolerations``, node ``spec.taints``, ``command``/``args``, ``envFrom``, ``readinessGates``,
``nodeSelectorTerms``, ``matchExpressions``, ``imagePullSecrets`` of a ServiceAccount.

``retainKeys`` is recorded for completeness: when *applying* a patch it is the ``$retainKeys``
directive in the patch that acts, not the schema (the schema drives only patch *creation*).

A kind kubeds does not know falls back to :data:`OBJECT_META_ONLY` (``metadata`` as ObjectMeta,
the rest defaults). Upstream refuses strategic merge for unstructured kinds (CRDs: 415) and uses
JSON merge semantics there; the fallback here is deliberately the typed defaults instead, so that
``ownerReferences``/``finalizers`` keep their merge semantics on every object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "KIND_ROOTS",
    "MERGE",
    "OBJECT_META_ONLY",
    "REPLACE",
    "TYPES",
    "FieldMeta",
    "Schema",
    "TypeSchema",
    "schema_for_kind",
]

MERGE = "merge"
REPLACE = "replace"


@dataclass(frozen=True)
class FieldMeta:
    """The patch metadata of one field: ``patchStrategy`` minus ``retainKeys``, ``patchMergeKey``
    and the name of the field's struct type (or list element type) in the schema, if any."""

    strategy: str = ""
    merge_key: str = ""
    retain_keys: bool = False
    type: str | None = None


NO_META = FieldMeta()

TypeSchema = Mapping[str, FieldMeta]


def _nested(type_name: str) -> FieldMeta:
    return FieldMeta(type=type_name)


def _merge(merge_key: str = "", type_name: str | None = None, *, retain_keys: bool = False) -> FieldMeta:
    return FieldMeta(strategy=MERGE, merge_key=merge_key, retain_keys=retain_keys, type=type_name)


_CONDITIONS = _merge("type")

TYPES: dict[str, TypeSchema] = {
    # meta/v1
    "ObjectMeta": {"ownerReferences": _merge("uid"), "finalizers": _merge()},
    # core/v1 pods
    "PodTemplateSpec": {"metadata": _nested("ObjectMeta"), "spec": _nested("PodSpec")},
    "PodSpec": {
        "volumes": _merge("name", retain_keys=True),
        "initContainers": _merge("name", "Container"),
        "containers": _merge("name", "Container"),
        "ephemeralContainers": _merge("name", "Container"),
        "imagePullSecrets": _merge("name"),
        "hostAliases": _merge("ip"),
        # upstream's tag is topologyKey alone (listMapKey adds whenUnsatisfiable; SMP ignores it)
        "topologySpreadConstraints": _merge("topologyKey"),
        "schedulingGates": _merge("name"),
        "resourceClaims": _merge("name", retain_keys=True),
    },
    "Container": {
        "ports": _merge("containerPort"),
        "env": _merge("name"),
        "volumeMounts": _merge("mountPath"),
        "volumeDevices": _merge("devicePath"),
    },
    "PodStatus": {
        "conditions": _CONDITIONS,
        "podIPs": _merge("ip"),
        "hostIPs": _merge("ip"),
        "resourceClaimStatuses": _merge("name", retain_keys=True),
    },
    # core/v1 nodes
    "NodeSpec": {"podCIDRs": _merge()},
    "NodeStatus": {"conditions": _CONDITIONS, "addresses": _merge("type")},
    # core/v1 others
    "NamespaceStatus": {"conditions": _CONDITIONS},
    # apps/v1
    "DaemonSetSpec": {"template": _nested("PodTemplateSpec")},
    "DeploymentSpec": {
        "template": _nested("PodTemplateSpec"),
        "strategy": FieldMeta(retain_keys=True),
    },
    "ReplicaSetSpec": {"template": _nested("PodTemplateSpec")},
    "ConditionsStatus": {"conditions": _CONDITIONS},
    # policy/v1
    "PodDisruptionBudgetSpec": {"selector": FieldMeta(strategy=REPLACE)},
}


def _root(spec: str | None = None, status: str | None = None, **extra: FieldMeta) -> TypeSchema:
    fields: dict[str, FieldMeta] = {"metadata": _nested("ObjectMeta")}
    if spec is not None:
        fields["spec"] = _nested(spec)
    if status is not None:
        fields["status"] = _nested(status)
    fields.update(extra)
    return fields


_ROOTS: dict[str, TypeSchema] = {
    "Pod": _root("PodSpec", "PodStatus"),
    "Node": _root("NodeSpec", "NodeStatus"),
    "Namespace": _root(None, "NamespaceStatus"),
    "DaemonSet": _root("DaemonSetSpec", "ConditionsStatus"),
    "Deployment": _root("DeploymentSpec", "ConditionsStatus"),
    "ReplicaSet": _root("ReplicaSetSpec", "ConditionsStatus"),
    "PodDisruptionBudget": _root("PodDisruptionBudgetSpec", "ConditionsStatus"),
    "ServiceAccount": _root(secrets=_merge("name")),
    "ControllerRevision": _root(),
    "Event": _root(),
    "ConfigMap": _root(),
    "Lease": _root(),
    "PriorityClass": _root(),
}

OBJECT_META_ONLY = "Object"

# kind -> name of its root type in TYPES
KIND_ROOTS: dict[str, str] = {kind: kind for kind in _ROOTS}
TYPES.update(_ROOTS)
TYPES[OBJECT_META_ONLY] = _root()


@dataclass(frozen=True)
class Schema:
    """A set of named types and the root type patches start from."""

    types: Mapping[str, TypeSchema]
    root: str | None
    _empty: TypeSchema = field(default_factory=dict, repr=False)

    def lookup(self, type_name: str | None, field_name: str) -> FieldMeta:
        """The metadata of ``field_name`` inside ``type_name``; defaults when either is unknown."""
        if type_name is None:
            return NO_META
        return self.types.get(type_name, self._empty).get(field_name, NO_META)


def schema_for_kind(kind: str) -> Schema:
    """The schema strategic merge uses for objects of ``kind`` (unknown kinds: ObjectMeta only)."""
    return Schema(TYPES, KIND_ROOTS.get(kind, OBJECT_META_ONLY))
