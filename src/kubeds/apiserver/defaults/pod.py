"""Defaulting of pods, pod specs and what they contain, as upstream's core/v1 defaulters.

Mirrors ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_Pod``, ``SetDefaults_PodSpec``,
``SetDefaults_Container``, ``SetDefaults_ContainerPort``, ``SetDefaults_Probe``,
``SetDefaults_HTTPGetAction``, ``SetDefaults_ObjectFieldSelector``, ``SetDefaults_Volume`` and the
volume sources' ``defaultMode``) as the generated ``zz_generated.defaults.go`` applies them: every
``Container`` wherever it appears, every ``Volume``, every probe and lifecycle handler. Two rules of
``SetDefaults_Pod`` apply to pods only, never to templates: ``enableServiceLinks`` and requests
copied from limits. ``hostPort`` from ``containerPort`` for host-network pods is pod-only too (the
``DefaultHostNetworkHostPortsInPodTemplates`` gate is off by default).

Serialisation also matters: Go always emits a non-pointer struct such as a container's
``resources`` (``{}``), so those zero values are written out here as upstream stores them.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["default_pod", "default_pod_spec", "image_pull_policy"]

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_TERMINATION_GRACE_PERIOD = 30
DEFAULT_VOLUME_MODE = 0o644  # 420, the defaultMode of secret/configMap/downwardAPI/projected volumes
DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")

# docker reference grammar (github.com/distribution/reference), loosely: lowercase path
# components, optional domain with port, optional tag, optional digest.
_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)


def image_pull_policy(image: str) -> str:
    """``Always`` for a ``:latest`` or untagged image without digest, else ``IfNotPresent``.

    As ``SetDefaults_Container`` with ``parsers.ParseImageName``: an unparsable image (empty,
    upper case) gives no tag and so ``IfNotPresent``.
    """
    m = _REFERENCE.match(image)
    if not m:
        return "IfNotPresent"
    tag, digest = m.group("tag"), m.group("digest")
    if tag == "latest" or (not tag and not digest):
        return "Always"
    return "IfNotPresent"


def _default_http_get(handler: Any) -> None:
    if isinstance(handler, dict) and isinstance(handler.get("httpGet"), dict):
        action = handler["httpGet"]
        if not action.get("path"):
            action["path"] = "/"
        if not action.get("scheme"):
            action["scheme"] = "HTTP"


def _default_probe(probe: dict[str, Any]) -> None:
    for name, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1)):
        if not probe.get(name):
            probe[name] = value
    if not probe.get("failureThreshold"):
        probe["failureThreshold"] = 3
    _default_http_get(probe)


def _default_field_ref(holder: Any) -> None:
    if isinstance(holder, dict) and isinstance(holder.get("fieldRef"), dict):
        if not holder["fieldRef"].get("apiVersion"):
            holder["fieldRef"]["apiVersion"] = "v1"


def _default_container(container: dict[str, Any]) -> None:
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = DEFAULT_TERMINATION_MESSAGE_PATH
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = image_pull_policy(str(container.get("image") or ""))
    if container.get("resources") is None:
        container["resources"] = {}
    for port in container.get("ports") or []:
        if isinstance(port, dict) and not port.get("protocol"):
            port["protocol"] = "TCP"
    for env in container.get("env") or []:
        if isinstance(env, dict):
            _default_field_ref(env.get("valueFrom"))
    for name in PROBES:
        if isinstance(container.get(name), dict):
            _default_probe(container[name])
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        _default_http_get(lifecycle.get("postStart"))
        _default_http_get(lifecycle.get("preStop"))


_VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
    "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
    "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
    "image",
)  # fmt: skip


def _default_downward_items(source: dict[str, Any]) -> None:
    for item in source.get("items") or []:
        _default_field_ref(item)


def _default_volume(volume: dict[str, Any]) -> None:
    if not any(volume.get(s) is not None for s in _VOLUME_SOURCES):
        volume["emptyDir"] = {}
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict) and host_path.get("type") is None:
        host_path["type"] = ""
    for name in ("secret", "configMap", "downwardAPI", "projected"):
        source = volume.get(name)
        if isinstance(source, dict) and source.get("defaultMode") is None:
            source["defaultMode"] = DEFAULT_VOLUME_MODE
    if isinstance(volume.get("downwardAPI"), dict):
        _default_downward_items(volume["downwardAPI"])
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for source in projected.get("sources") or []:
            if not isinstance(source, dict):
                continue
            if isinstance(source.get("downwardAPI"), dict):
                _default_downward_items(source["downwardAPI"])
            token = source.get("serviceAccountToken")
            if isinstance(token, dict) and token.get("expirationSeconds") is None:
                token["expirationSeconds"] = DEFAULT_TOKEN_EXPIRATION_SECONDS


def default_pod_spec(spec: dict[str, Any]) -> None:
    """``SetDefaults_PodSpec`` plus everything below it; used for pods and pod templates alike."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD
    if not spec.get("schedulerName"):
        spec["schedulerName"] = DEFAULT_SCHEDULER_NAME
    for list_name in CONTAINER_LISTS:
        for container in spec.get(list_name) or []:
            if isinstance(container, dict):
                _default_container(container)
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            _default_volume(volume)


def _requests_from_limits(container: dict[str, Any]) -> None:
    resources = container.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
        return
    requests = resources.get("requests")
    if not isinstance(requests, dict):
        requests = {}
    for name, quantity in resources["limits"].items():
        requests.setdefault(name, quantity)
    if requests:
        resources["requests"] = requests


def default_pod(pod: dict[str, Any]) -> None:
    """``SetDefaults_Pod`` then the pod spec's defaults (upstream order: the Pod's run first)."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        spec = pod["spec"] = {}
    for list_name in ("initContainers", "containers"):
        for container in spec.get(list_name) or []:
            if isinstance(container, dict):
                _requests_from_limits(container)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for list_name in ("initContainers", "containers"):
            for container in spec.get(list_name) or []:
                for port in (container.get("ports") or []) if isinstance(container, dict) else []:
                    if isinstance(port, dict) and not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
    # The priority admission plugin fills priority and preemptionPolicy from the PriorityClass; a
    # pod that already carries a priority gets the PriorityClass default policy here.
    if spec.get("priority") is not None and spec.get("preemptionPolicy") is None:
        spec["preemptionPolicy"] = "PreemptLowerPriority"
    default_pod_spec(spec)
