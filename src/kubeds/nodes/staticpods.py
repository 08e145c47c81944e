"""Static pods and their mirror pods: what a simulated kubelet publishes for its manifests.

A real kubelet reads static pod manifests from its manifest directory
(kubernetes/kubernetes ``pkg/kubelet/config/file.go``), defaults them in ``applyDefaults``
(``pkg/kubelet/config/common.go``: the name gets ``-<node name>`` appended, ``spec.nodeName`` is
set, the namespace defaults to ``default``, the UID and the ``kubernetes.io/config.hash``
annotation are an MD5 hash of the pod, ``kubernetes.io/config.source: file``) and then, because
the API server does not know the pod, creates a *mirror pod* for it
(``pkg/kubelet/pod/mirror_client.go`` ``CreateMirrorPod``): the same pod with
``kubernetes.io/config.mirror`` set to the hash and an ownerReference to its Node (controller).
``pkg/kubelet/kubelet.go`` ``syncPod`` deletes a mirror pod whose hash no longer matches (the
manifest changed) and creates a missing one, so a deleted mirror pod comes back.

Here the manifests come from the Node annotation ``kubeds.io/static-pods`` (see
:mod:`kubeds.nodes.annotations`). Everything in this module is pure: :func:`mirror_pod` builds
the object, :func:`plan_mirror_pods` says which pods to create and delete.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubeds.nodes import annotations as knobs

__all__ = [
    "CONFIG_HASH_ANNOTATION",
    "CONFIG_MIRROR_ANNOTATION",
    "CONFIG_SEEN_ANNOTATION",
    "CONFIG_SOURCE_ANNOTATION",
    "MirrorPlan",
    "config_hash",
    "is_mirror_pod",
    "mirror_pod",
    "mirror_pod_name",
    "plan_mirror_pods",
]

CONFIG_MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
CONFIG_HASH_ANNOTATION = "kubernetes.io/config.hash"
CONFIG_SOURCE_ANNOTATION = "kubernetes.io/config.source"
CONFIG_SEEN_ANNOTATION = "kubernetes.io/config.seen"
SOURCE_FILE = "file"
DEFAULT_NAMESPACE = "default"


def mirror_pod_name(manifest: Mapping[str, Any], node_name: str) -> str:
    """``<pod>-<node>``, as ``applyDefaults`` names a static pod."""
    return f"{(manifest.get('metadata') or {}).get('name', '')}-{node_name}".lower()


def _namespace(manifest: Mapping[str, Any]) -> str:
    return str((manifest.get("metadata") or {}).get("namespace") or DEFAULT_NAMESPACE)


def config_hash(manifest: Mapping[str, Any], node_name: str) -> str:
    """The 32-hex MD5 of the manifest and node, stable across processes (the pod's ``config.hash``)."""
    text = json.dumps([node_name, manifest], sort_keys=True, separators=(",", ":"))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def is_mirror_pod(pod: Mapping[str, Any]) -> bool:
    """Whether ``pod`` is a mirror pod (upstream ``kubepod.IsMirrorPod``)."""
    return CONFIG_MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {})


def mirror_pod(manifest: Mapping[str, Any], node: Mapping[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    """The mirror pod the node's kubelet creates for ``manifest``."""
    node_meta = node.get("metadata") or {}
    node_name = str(node_meta.get("name", ""))
    digest = config_hash(manifest, node_name)
    pod = copy.deepcopy(dict(manifest))
    meta = {
        k: v
        for k, v in (pod.get("metadata") or {}).items()
        if k not in ("uid", "resourceVersion", "creationTimestamp", "generateName", "ownerReferences")
    }
    meta["name"] = mirror_pod_name(manifest, node_name)
    meta["namespace"] = _namespace(manifest)
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        CONFIG_HASH_ANNOTATION: digest,
        CONFIG_MIRROR_ANNOTATION: digest,
        CONFIG_SEEN_ANNOTATION: now.astimezone(dt.UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z"),
        CONFIG_SOURCE_ANNOTATION: SOURCE_FILE,
    }
    owner: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "name": node_name, "controller": True}
    if node_meta.get("uid"):
        owner["uid"] = node_meta["uid"]
    meta["ownerReferences"] = [owner]
    pod["apiVersion"] = "v1"
    pod["kind"] = "Pod"
    pod["metadata"] = meta
    pod["spec"] = {**(pod.get("spec") or {}), "nodeName": node_name}
    pod.pop("status", None)
    return pod


@dataclass(frozen=True)
class MirrorPlan:
    """What to do so the API server shows exactly the node's static pods."""

    create: tuple[dict[str, Any], ...]
    delete: tuple[tuple[str, str, str], ...]  # (namespace, name, uid)


def plan_mirror_pods(
    node: Mapping[str, Any], existing: Iterable[Mapping[str, Any]], *, now: dt.datetime
) -> MirrorPlan:
    """Mirror pods to create (missing) and delete (orphaned, outdated hash, or being deleted).

    ``existing`` are the pods bound to the node; only mirror pods among them are considered. A
    mirror pod being deleted is left to finish and recreated afterwards, as upstream does.
    """
    node_name = str((node.get("metadata") or {}).get("name", ""))
    wanted = {(_namespace(m), mirror_pod_name(m, node_name)): m for m in knobs.static_pod_manifests(node)}
    seen: set[tuple[str, str]] = set()
    delete: list[tuple[str, str, str]] = []
    for pod in existing:
        if not is_mirror_pod(pod):
            continue
        meta = pod.get("metadata") or {}
        key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
        seen.add(key)
        if meta.get("deletionTimestamp"):
            continue
        manifest = wanted.get(key)
        current = (meta.get("annotations") or {}).get(CONFIG_MIRROR_ANNOTATION)
        if manifest is None or current != config_hash(manifest, node_name):
            delete.append((key[0], key[1], str(meta.get("uid", ""))))
    create = tuple(mirror_pod(m, node, now=now) for key, m in wanted.items() if key not in seen)
    return MirrorPlan(create=create, delete=tuple(delete))
