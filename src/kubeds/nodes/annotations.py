"""The ``kubeds.io/...`` Node annotations that steer a simulated kubelet.

Simulated nodes are ordinary Node objects, so every knob is an annotation that plain
``kubectl annotate`` can set as well as ``kubeds node ...`` (docs/simulation.md lists them):

* ``kubeds.io/failed: "true"``: the machine is down. Its kubelet renews no Lease, posts no
  status and moves no pod on; the node lifecycle controller then marks it NotReady/Unknown, as it
  does for a real dead machine (pkg/controller/nodelifecycle). Removing it recovers the node.
* ``kubeds.io/condition-<Type>: "True"|"False"``: what the kubelet reports for that condition
  (read by :func:`kubeds.nodes.templates.desired_node_conditions`).
* ``kubeds.io/static-pods``: a JSON list of pod manifests, the node's static pods (a real kubelet
  reads them from ``--pod-manifest-path``, pkg/kubelet/config/file.go). Kept on the Node so that
  ``kubeds node add --static-pod`` works across processes and survives restarts.

This module only reads and writes those annotations; it never calls the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds.nodes import templates

__all__ = [
    "CONDITION_ANNOTATION_PREFIX",
    "FAILED_ANNOTATION",
    "STATIC_PODS_ANNOTATION",
    "StaticPodsError",
    "condition_annotation",
    "encode_static_pods",
    "is_failed",
    "parse_static_pods",
    "static_pod_manifests",
]

FAILED_ANNOTATION = "kubeds.io/failed"
STATIC_PODS_ANNOTATION = "kubeds.io/static-pods"
CONDITION_ANNOTATION_PREFIX = templates.CONDITION_ANNOTATION_PREFIX
CONDITION_STATUSES = ("True", "False")

MSG_NOT_A_LIST = "annotation kubeds.io/static-pods must hold a JSON list of pod manifests"
MSG_BAD_JSON = "annotation kubeds.io/static-pods is not valid JSON: {error}"
MSG_BAD_MANIFEST = "static pod manifest #{index} must be a Pod with metadata.name and spec.containers"
MSG_BAD_CONDITION = "condition must be Type=Status with Status True or False, got {text!r}"


class StaticPodsError(ValueError):
    """Static pod manifests that cannot be used."""


def _annotations(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return (node.get("metadata") or {}).get("annotations") or {}


def is_failed(node: Mapping[str, Any]) -> bool:
    """Whether the node carries ``kubeds.io/failed: "true"`` (any case)."""
    return str(_annotations(node).get(FAILED_ANNOTATION, "")).lower() == "true"


def condition_annotation(text: str) -> tuple[str, str]:
    """``("kubeds.io/condition-DiskPressure", "True")`` from ``DiskPressure=True``."""
    ctype, sep, status = text.partition("=")
    status = status.strip().capitalize()
    if not sep or not ctype.strip() or status not in CONDITION_STATUSES:
        raise ValueError(MSG_BAD_CONDITION.format(text=text))
    return CONDITION_ANNOTATION_PREFIX + ctype.strip(), status


def _check_manifest(index: int, manifest: Any) -> dict[str, Any]:
    if not isinstance(manifest, dict):
        raise StaticPodsError(MSG_BAD_MANIFEST.format(index=index))
    kind = manifest.get("kind", "Pod")
    meta = manifest.get("metadata")
    spec = manifest.get("spec")
    if (
        kind != "Pod"
        or not isinstance(meta, dict)
        or not meta.get("name")
        or not isinstance(spec, dict)
        or not spec.get("containers")
    ):
        raise StaticPodsError(MSG_BAD_MANIFEST.format(index=index))
    return manifest


def parse_static_pods(text: str) -> list[dict[str, Any]]:
    """The manifests of an annotation value; :class:`StaticPodsError` when malformed."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise StaticPodsError(MSG_BAD_JSON.format(error=exc)) from exc
    if not isinstance(value, list):
        raise StaticPodsError(MSG_NOT_A_LIST)
    return [_check_manifest(i, m) for i, m in enumerate(value)]


def static_pod_manifests(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The node's static pod manifests; none when the annotation is absent or malformed.

    A malformed annotation is ignored as a kubelet ignores a manifest file it cannot decode
    (it logs and carries on); ``kubeds node add`` validates before writing.
    """
    raw = _annotations(node).get(STATIC_PODS_ANNOTATION)
    if not raw:
        return []
    try:
        return parse_static_pods(str(raw))
    except StaticPodsError:
        return []


def encode_static_pods(manifests: Sequence[Mapping[str, Any]]) -> str:
    """The annotation value for ``manifests`` (compact JSON, keys sorted for stable diffs)."""
    for i, m in enumerate(manifests):
        _check_manifest(i, m)
    return json.dumps(list(manifests), sort_keys=True, separators=(",", ":"))
