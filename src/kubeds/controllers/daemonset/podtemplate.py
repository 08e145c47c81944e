"""What a daemon pod looks like: default tolerations, template labels, node pinning.

Mirrors upstream ``pkg/controller/daemon/util/daemonset_util.go`` (``AddOrUpdateDaemonPodTolerations``,
``CreatePodTemplate``, ``ReplaceDaemonSetPodNodeNameNodeAffinity``, ``GetTargetNodeName``,
``IsPodUpdated``, ``GetTemplateGeneration``), ``pkg/apis/core/v1/helper/helpers.go``
(``AddOrUpdateTolerationInPodSpec``) and ``pkg/controller/controller_utils.go``
(``GetPodFromTemplate``: the pod object pod control POSTs).

Every function works on copies: the DaemonSet and template dicts handed in come from the informer
cache and must never be mutated. Copies are JSON clones (:func:`kubeds.wire.clone_json`, an orjson round trip),
several times cheaper than ``copy.deepcopy``; :func:`new_pod_base` + :func:`pin_pod` build the pod of
each node from one prepared template, so creating 250 pods copies the DaemonSet's template once.

Since ScheduleDaemonSetPods (GA 1.17) the controller does not set ``spec.nodeName``: it pins each pod
to its node with a required node-affinity term ``matchFields: metadata.name In [<node>]`` that replaces
every user-required term (safe, because the controller already evaluated them), and lets the
default scheduler bind it. :func:`get_target_node_name` reads that pin back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.wire import clone_json

__all__ = [
    "DEFAULT_DAEMON_TOLERATIONS",
    "HOST_NETWORK_TOLERATION",
    "TargetNodeError",
    "add_or_update_daemon_pod_tolerations",
    "add_or_update_toleration_in_pod_spec",
    "controller_ref",
    "create_pod_template",
    "get_target_node_name",
    "get_template_generation",
    "is_pod_updated",
    "new_pod",
    "new_pod_base",
    "pin_pod",
    "replace_daemonset_pod_node_name_node_affinity",
]


def _exists(key: str, effect: str) -> dict[str, Any]:
    return {"key": key, "operator": "Exists", "effect": effect}


# In the order upstream adds them; none has tolerationSeconds (tolerate forever).
DEFAULT_DAEMON_TOLERATIONS: tuple[dict[str, Any], ...] = (
    _exists(c.TAINT_NODE_NOT_READY, "NoExecute"),
    _exists(c.TAINT_NODE_UNREACHABLE, "NoExecute"),
    _exists(c.TAINT_NODE_DISK_PRESSURE, "NoSchedule"),
    _exists(c.TAINT_NODE_MEMORY_PRESSURE, "NoSchedule"),
    _exists(c.TAINT_NODE_PID_PRESSURE, "NoSchedule"),
    _exists(c.TAINT_NODE_UNSCHEDULABLE, "NoSchedule"),
)
HOST_NETWORK_TOLERATION: dict[str, Any] = _exists(c.TAINT_NODE_NETWORK_UNAVAILABLE, "NoSchedule")

_MATCH_FIELDS = ("key", "effect", "operator", "value")


class TargetNodeError(ValueError):
    """A pod names no target node; ``str()`` is upstream's message."""


def _s(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key)
    return "" if v is None else str(v)


def _toleration_matches(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Upstream ``Toleration.MatchToleration``: same key, effect, operator and value."""
    return all(_s(a, f) == _s(b, f) for f in _MATCH_FIELDS)


def add_or_update_toleration_in_pod_spec(spec: dict[str, Any], toleration: Mapping[str, Any]) -> bool:
    """Add ``toleration`` to ``spec`` (in place), replacing tolerations that match it.

    Returns False when an identical toleration is already there (nothing changes). A matching but
    different one (e.g. the same key with ``tolerationSeconds``) is replaced in place; otherwise
    the toleration is appended.
    """
    existing: list[dict[str, Any]] = spec.get("tolerations") or []
    result: list[dict[str, Any]] = []
    updated = False
    for tol in existing:
        if _toleration_matches(toleration, tol):
            if dict(toleration) == tol:
                return False
            result.append(dict(toleration))
            updated = True
            continue
        result.append(tol)
    if not updated:
        result.append(dict(toleration))
    spec["tolerations"] = result
    return True


def add_or_update_daemon_pod_tolerations(spec: dict[str, Any]) -> None:
    """Add the default DaemonSet tolerations to a pod spec, in place (hostNetwork adds one more)."""
    for tol in DEFAULT_DAEMON_TOLERATIONS:
        add_or_update_toleration_in_pod_spec(spec, tol)
    if spec.get("hostNetwork"):
        add_or_update_toleration_in_pod_spec(spec, HOST_NETWORK_TOLERATION)


def get_template_generation(ds: Mapping[str, Any]) -> int | None:
    """The ``deprecated.daemonset.template.generation`` annotation as an int; None if absent or bad.

    Upstream returns a parse error that every caller turns into ``nil``; so does this.
    """
    annotations = (ds.get("metadata") or {}).get("annotations") or {}
    raw = annotations.get(c.DEPRECATED_TEMPLATE_GENERATION_ANNOTATION)
    if raw is None:
        return None
    text = str(raw)
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def create_pod_template(template: Mapping[str, Any], generation: int | None, hash_: str) -> dict[str, Any]:
    """A copy of ``template`` with the default tolerations and the generation and hash labels."""
    new: dict[str, Any] = clone_json(dict(template))
    metadata = new.setdefault("metadata", {}) or {}
    new["metadata"] = metadata
    spec = new.setdefault("spec", {}) or {}
    new["spec"] = spec
    add_or_update_daemon_pod_tolerations(spec)
    labels = metadata.get("labels") or {}
    metadata["labels"] = labels
    if generation is not None:
        labels[c.POD_TEMPLATE_GENERATION_LABEL] = str(generation)
    if hash_:
        labels[c.CONTROLLER_REVISION_HASH_LABEL] = hash_
    return new


def _node_name_selector(node_name: str) -> dict[str, Any]:
    requirement = {"key": c.NODE_NAME_FIELD, "operator": "In", "values": [node_name]}
    return {"nodeSelectorTerms": [{"matchFields": [requirement]}]}


def replace_daemonset_pod_node_name_node_affinity(
    affinity: Mapping[str, Any] | None, node_name: str
) -> dict[str, Any]:
    """``affinity`` with its required node selector replaced by ``metadata.name In [node_name]``.

    Preferred terms and pod (anti-)affinity are kept; every required term is discarded.
    """
    selector = _node_name_selector(node_name)
    if affinity is None:
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": selector}}
    result: dict[str, Any] = clone_json(dict(affinity))
    node_affinity = result.get("nodeAffinity")
    if node_affinity is None:
        result["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": selector}
        return result
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = selector
        return result
    required["nodeSelectorTerms"] = selector["nodeSelectorTerms"]
    return result


def get_target_node_name(pod: Mapping[str, Any]) -> str:
    """``spec.nodeName``, else the single ``metadata.name In [x]`` value of the required affinity.

    Raises :class:`TargetNodeError` (upstream's messages) when the pod names no single node.
    """
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    meta = pod.get("metadata") or {}
    names = {"namespace": meta.get("namespace") or "", "name": meta.get("name") or ""}
    node_affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        raise TargetNodeError(c.MSG_NO_REQUIRED_AFFINITY.format(**names))
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        raise TargetNodeError(c.MSG_NO_TERMS.format(**names))
    for term in terms:
        for expr in term.get("matchFields") or []:
            if expr.get("key") == c.NODE_NAME_FIELD and expr.get("operator") == "In":
                values = expr.get("values") or []
                if len(values) != 1:
                    raise TargetNodeError(c.MSG_NOT_UNIQUE.format(**names))
                return str(values[0])
    raise TargetNodeError(c.MSG_NO_NODE_NAME.format(**names))


def is_pod_updated(pod: Mapping[str, Any], hash_: str, ds_template_generation: int | None) -> bool:
    """True if the pod carries the current generation label or the current hash label."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    template_matches = ds_template_generation is not None and labels.get(
        c.POD_TEMPLATE_GENERATION_LABEL
    ) == str(ds_template_generation)
    hash_matches = bool(hash_) and labels.get(c.CONTROLLER_REVISION_HASH_LABEL) == hash_
    return hash_matches or template_matches


def controller_ref(ds: Mapping[str, Any]) -> dict[str, Any]:
    """``metav1.NewControllerRef(ds, apps/v1 DaemonSet)``."""
    meta = ds.get("metadata") or {}
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.KIND,
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def new_pod(ds: Mapping[str, Any], node_name: str, hash_: str) -> dict[str, Any]:
    """The pod the controller POSTs to run ``ds`` on ``node_name`` (``syncNodes`` + ``GetPodFromTemplate``).

    ``generateName: <ds>-``, labels/annotations/finalizers from the template (plus the hash and
    generation labels), one controller ownerReference, the default tolerations and the node pinned
    through required node affinity. ``spec.nodeName`` stays as in the template (normally empty).
    """
    return pin_pod(new_pod_base(ds, hash_), node_name)


def pin_pod(base: Mapping[str, Any], node_name: str) -> dict[str, Any]:
    """A copy of :func:`new_pod_base`'s pod pinned to ``node_name`` (``base`` is not modified)."""
    pod: dict[str, Any] = clone_json(base)
    spec = pod.setdefault("spec", {})
    spec["affinity"] = replace_daemonset_pod_node_name_node_affinity(spec.get("affinity"), node_name)
    return pod


def new_pod_base(ds: Mapping[str, Any], hash_: str) -> dict[str, Any]:
    """The pod of :func:`new_pod` before it is pinned to a node (its template's affinity as is)."""
    meta = ds.get("metadata") or {}
    template = create_pod_template(
        (ds.get("spec") or {}).get("template") or {}, get_template_generation(ds), hash_
    )
    tmeta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    pod_meta: dict[str, Any] = {
        "generateName": f"{meta.get('name')}-",
        "namespace": meta.get("namespace"),
        "labels": tmeta.get("labels") or {},
    }
    if tmeta.get("annotations"):
        pod_meta["annotations"] = tmeta["annotations"]
    if tmeta.get("finalizers"):
        pod_meta["finalizers"] = tmeta["finalizers"]
    pod_meta["ownerReferences"] = [controller_ref(ds)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}
