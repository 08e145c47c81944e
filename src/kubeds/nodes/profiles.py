"""Built-in node profiles: the stage sets ``fast`` and ``realistic`` and the hooks they name.

The stage sets themselves are data, KWOK-shaped YAML in ``kubeds/nodes/profiles/<name>.yaml``
(after kubernetes-sigs/kwok ``kustomize/stage/pod/{fast,general}`` and
``kustomize/stage/node/{fast,heartbeat}``). Both profiles have the same stages and selectors;
``fast`` plays every transition at once (its pod-ready coalesces with pod-create: one status write
from bound to Running+Ready), ``realistic`` waits seconds with jitter. This module
holds what the YAML refers to by name: predicates, status templates and events.

What the status templates write follows the kubelet (kubernetes/kubernetes
``pkg/kubelet/kubelet_pods.go`` ``generateAPIPodStatus``/``getPhase``,
``pkg/kubelet/status/generate.go`` for the Ready/ContainersReady/Initialized conditions,
``pkg/kubelet/images/image_manager.go`` for image pull errors and back-off):

* a bound pod goes Pending with ``PodReadyToStartContainers``/``Initialized`` True,
  ``Ready``/``ContainersReady`` False (``ContainersNotReady``, "containers with unready status:
  [a b]"), containers waiting ``ContainerCreating`` (``PodInitializing`` with init containers),
  ``hostIP``, ``podIP`` (the node IP for hostNetwork pods, else a free address of the node's pod
  CIDR chosen from a hash of the pod) and ``startTime``;
* then Running: every container running, ready and started, with ``imageID`` and a
  ``containerd://`` ID; init containers terminated ``Completed`` (sidecars running);
* an image tagged ``non-existent`` fails: waiting ``ErrImagePull`` with the runtime's error, then
  ``ImagePullBackOff`` with ``Back-off pulling image "<image>"``; the pod stays Pending, never
  Ready (containers whose images pull fine run);
* a pod with ``restartPolicy`` Never (or OnFailure and exit code 0) and a ``kubeds.io/exit-code``
  annotation terminates with that code: Succeeded or Failed;
* a Running pod whose containers are all ready but whose Ready condition someone else set to
  False (the node lifecycle controller, while the node was unreachable) is reported Ready again,
  as the kubelet's status manager reconciles the API with its own status;
* a pod with a ``deletionTimestamp`` is deleted (grace period 0) once its containers stop,
  event ``Killing`` "Stopping container <name>".

Nodes: ``node-initialize`` posts the first conditions (and any missing capacity, addresses,
nodeInfo); ``node-conditions-changed`` reports a changed ``kubeds.io/condition-<Type>`` knob or
a recovery at once; ``node-heartbeat`` re-posts the conditions every 5 minutes, the kubelet's
``nodeStatusReportFrequency`` when the Lease carries liveness. A node annotated
``kubeds.io/failed: "true"`` matches no stage: its kubelet is silent.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from kubeds.clock import format_time
from kubeds.nodes import templates as t
from kubeds.nodes.stages import (
    EventFn,
    PredicateFn,
    Stage,
    StageContext,
    StatusTemplateFn,
    parse_stage,
)

__all__ = [
    "EVENTS",
    "EXIT_CODE_ANNOTATION",
    "NODE_FAILED_ANNOTATION",
    "NON_EXISTENT_TAG",
    "PREDICATES",
    "PROFILES",
    "TEMPLATES",
    "Profile",
    "container_id",
    "image_id",
    "image_tag",
    "load_profile",
    "load_stages",
    "normalize_image",
    "pod_ip",
]

PROFILES = ("fast", "realistic")
NON_EXISTENT_TAG = "non-existent"
EXIT_CODE_ANNOTATION = "kubeds.io/exit-code"
NODE_FAILED_ANNOTATION = "kubeds.io/failed"

WAITING_CREATING = "ContainerCreating"
WAITING_INITIALIZING = "PodInitializing"
ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
NOT_READY_REASON = "ContainersNotReady"
NOT_INITIALIZED_REASON = "ContainersNotInitialized"
COMPLETED_REASON = "PodCompleted"
UNREADY_MESSAGE = "containers with unready status: [{}]"
INCOMPLETE_MESSAGE = "containers with incomplete status: [{}]"
PULL_ERROR_MESSAGE = (
    'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
    'failed to resolve reference "{ref}": {ref}: not found'
)
BACK_OFF_MESSAGE = 'Back-off pulling image "{}"'
PULLING_MESSAGE = 'Pulling image "{}"'
FAILED_PULL_MESSAGE = 'Failed to pull image "{}": {}'
STARTED_MESSAGE = "Started container {}"
KILLING_MESSAGE = "Stopping container {}"


# ---------------------------------------------------------------------------------------------
# images and identifiers


def _split_image(image: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of an image reference; tag and digest may be empty."""
    name, _, digest = image.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest
    return name, "", digest


def image_tag(image: str) -> str:
    """The tag of an image reference (``latest`` when it has neither tag nor digest)."""
    _, tag, digest = _split_image(image)
    return tag or ("" if digest else "latest")


def normalize_image(image: str) -> str:
    """The fully qualified reference a container runtime reports (``docker.io/library/x:latest``)."""
    repo, tag, digest = _split_image(image)
    first, _, rest = repo.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = "docker.io", repo
    if domain == "docker.io" and "/" not in path:
        path = "library/" + path
    full = f"{domain}/{path}"
    if digest:
        return f"{full}@{digest}"
    return f"{full}:{tag or 'latest'}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def image_id(image: str) -> str:
    """A stable ``repo@sha256:...`` image ID for an image reference."""
    full = normalize_image(image)
    repo, _, digest = _split_image(full)
    return f"{repo}@{digest or 'sha256:' + _digest('image', full)}"


def container_id(pod: Mapping[str, Any], name: str, *, restart_count: int = 0) -> str:
    """A stable ``containerd://<64 hex>`` ID for a container of ``pod``."""
    meta = pod.get("metadata") or {}
    key = str(meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}")
    return "containerd://" + _digest("container", key, name, str(restart_count))


@functools.lru_cache(maxsize=8192)
def _pod_range(cidr: str) -> tuple[int, int]:
    """(first usable address, how many) of a pod CIDR: parsed once per node, not once per pod."""
    plain = _ipv4_network(cidr)
    if plain is not None:
        network, size = plain
        return network + 2, max(1, size - 3)
    net = ipaddress.ip_network(cidr, strict=False)
    return int(net.network_address) + 2, max(1, net.num_addresses - 3)


def _ipv4_network(cidr: str) -> tuple[int, int] | None:
    """(network address, number of addresses) of a plain ``a.b.c.d/n``, as ``ipaddress`` reads it
    with ``strict=False``; None for anything else (IPv6, leading zeros...), left to ``ipaddress``.
    A rollout meets each node's CIDR for the first time: ``ip_network`` was most of that cost."""
    address, slash, bits = cidr.partition("/")
    octets = address.split(".")
    if not slash or len(octets) != 4 or not bits.isdigit() or len(bits) > 2 or int(bits) > 32:
        return None
    value = 0
    for octet in octets:
        if not octet.isdigit() or len(octet) > 3 or (len(octet) > 1 and octet[0] == "0") or int(octet) > 255:
            return None
        value = value << 8 | int(octet)
    prefix = int(bits)
    size = 1 << (32 - prefix)
    return value & ~(size - 1) & 0xFFFFFFFF, size


def pod_ip(
    pod: Mapping[str, Any], node: Mapping[str, Any] | None, *, used: Collection[str] = frozenset()
) -> str:
    """The pod's IP: the node's for hostNetwork pods, else a free one in the node's pod CIDR.

    The first candidate comes from a hash of the pod's UID (or namespace/name), then the next
    free address; ``.0``, the gateway ``.1`` and the broadcast address are never used.
    """
    node = node or {}
    node_ip = t.node_internal_ip(node)
    if (pod.get("spec") or {}).get("hostNetwork"):
        return node_ip
    cidr = (node.get("spec") or {}).get("podCIDR") or t.derive_pod_cidr(node_ip)
    base, usable = _pod_range(str(cidr))
    meta = pod.get("metadata") or {}
    key = str(meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}")
    start = int(_digest("pod-ip", key)[:16], 16) % usable
    for i in range(min(usable, 1 << 16)):
        candidate = _address_text(base + (start + i) % usable)
        if candidate not in used:
            return candidate
    return _address_text(base + start)


def _address_text(value: int) -> str:
    if value < 1 << 32:
        return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"
    return str(ipaddress.ip_address(value))


# ---------------------------------------------------------------------------------------------
# pod status pieces


def _containers(pod: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    return list((pod.get("spec") or {}).get(key) or [])


def _is_sidecar(container: Mapping[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"


def _fails(container: Mapping[str, Any]) -> bool:
    return image_tag(str(container.get("image", ""))) == NON_EXISTENT_TAG


def _condition(
    pod: Mapping[str, Any], ctype: str, status: str, *, now: str, reason: str = "", message: str = ""
) -> dict[str, Any]:
    """A pod condition keeping ``lastTransitionTime`` when the status did not change."""
    old = next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == ctype), None)
    cond: dict[str, Any] = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": now}
    if old is not None and old.get("status") == status and old.get("lastTransitionTime"):
        cond["lastTransitionTime"] = old["lastTransitionTime"]
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _conditions(
    pod: Mapping[str, Any], *, now: str, unready: list[str], incomplete: list[str], completed: bool = False
) -> list[dict[str, Any]]:
    """The five conditions in kubelet order; ``unready``/``incomplete`` name the culprits."""
    ready = ("True", "", "")
    if completed:
        ready = ("False", COMPLETED_REASON, "")
    elif unready:
        ready = ("False", NOT_READY_REASON, UNREADY_MESSAGE.format(" ".join(unready)))
    init = ("True", "", "")
    if incomplete:
        init = ("False", NOT_INITIALIZED_REASON, INCOMPLETE_MESSAGE.format(" ".join(incomplete)))
    return [
        # The sandbox is torn down once every container of a finished pod has exited.
        _condition(pod, "PodReadyToStartContainers", "False" if completed else "True", now=now),
        _condition(pod, "Initialized", init[0], now=now, reason=init[1], message=init[2]),
        _condition(pod, "Ready", ready[0], now=now, reason=ready[1], message=ready[2]),
        _condition(pod, "ContainersReady", ready[0], now=now, reason=ready[1], message=ready[2]),
        _condition(pod, "PodScheduled", "True", now=now),
    ]


def _waiting(c: Mapping[str, Any], reason: str, message: str = "") -> dict[str, Any]:
    """A container that has not started: being created, or its image failing to pull."""
    waiting = {"reason": reason, "message": message} if message else {"reason": reason}
    return {
        "name": str(c.get("name", "")),
        "image": normalize_image(str(c.get("image", ""))),
        "imageID": "",
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": waiting},
    }


def _started(
    pod: Mapping[str, Any],
    c: Mapping[str, Any],
    *,
    now: str,
    exit_code: int | None = None,
    ready: bool = True,
) -> dict[str, Any]:
    """A container that started: running, or terminated with ``exit_code``."""
    name, image = str(c.get("name", "")), str(c.get("image", ""))
    started_at = _started_at(pod, name) or now
    out: dict[str, Any] = {
        "containerID": container_id(pod, name),
        "name": name,
        "image": normalize_image(image),
        "imageID": image_id(image),
        "lastState": {},
        "ready": ready,
        "restartCount": 0,
        "started": exit_code is None,
    }
    if exit_code is None:
        out["state"] = {"running": {"startedAt": started_at}}
    else:
        reason = "Completed" if exit_code == 0 else "Error"
        ended = {"exitCode": exit_code, "reason": reason, "startedAt": started_at, "finishedAt": now}
        out["state"] = {"terminated": ended}
    return out


def _started_at(pod: Mapping[str, Any], name: str) -> str | None:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == name:
            running = (cs.get("state") or {}).get("running") or {}
            return running.get("startedAt")
    return None


def _placement(pod: Mapping[str, Any], ctx: StageContext) -> dict[str, Any]:
    """hostIP(s), podIP(s) and startTime, kept when already set."""
    status = pod.get("status") or {}
    host = status.get("hostIP") or t.node_internal_ip(ctx.node or {})
    ip = status.get("podIP") or pod_ip(pod, ctx.node, used=ctx.used_pod_ips)
    return {
        "hostIP": host,
        "hostIPs": [{"ip": host}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": status.get("startTime") or format_time(ctx.now),
    }


def _init_statuses(
    pod: Mapping[str, Any], *, now: str, upto_failure: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """Init containers run in order: completed (sidecars running) up to a failing pull."""
    out: list[dict[str, Any]] = []
    incomplete: list[str] = []
    blocked = False
    for c in _containers(pod, "initContainers"):
        if blocked:
            out.append(_waiting(c, WAITING_INITIALIZING))
        elif upto_failure and _fails(c):
            out.append(_waiting_pull(pod, c))
            blocked = True
        elif _is_sidecar(c):
            out.append(_started(pod, c, now=now))
            continue
        else:
            out.append(_started(pod, c, now=now, exit_code=0))
            continue
        incomplete.append(str(c.get("name", "")))
    return out, incomplete


def _waiting_pull(pod: Mapping[str, Any], c: Mapping[str, Any]) -> dict[str, Any]:
    """ErrImagePull on the first failure; ImagePullBackOff once it already failed."""
    image = str(c.get("image", ""))
    previous = _waiting_reason(pod, str(c.get("name", "")))
    if previous in (ERR_IMAGE_PULL, IMAGE_PULL_BACK_OFF):
        return _waiting(c, IMAGE_PULL_BACK_OFF, BACK_OFF_MESSAGE.format(image))
    message = PULL_ERROR_MESSAGE.format(ref=normalize_image(image))
    return _waiting(c, ERR_IMAGE_PULL, message)


def _waiting_reason(pod: Mapping[str, Any], name: str) -> str:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == name:
            return str(((cs.get("state") or {}).get("waiting") or {}).get("reason") or "")
    return ""


def _sidecar_names(pod: Mapping[str, Any]) -> list[str]:
    return [str(c.get("name", "")) for c in _containers(pod, "initContainers") if _is_sidecar(c)]


# ---------------------------------------------------------------------------------------------
# pod status templates


def pod_pending_status(pod: Mapping[str, Any], ctx: StageContext) -> dict[str, Any]:
    """The kubelet's first status for a bound pod: Pending, containers being created."""
    now = format_time(ctx.now)
    inits = _containers(pod, "initContainers")
    reason = WAITING_INITIALIZING if inits else WAITING_CREATING
    names = [str(c.get("name", "")) for c in _containers(pod, "containers")]
    status: dict[str, Any] = {
        "phase": "Pending",
        "conditions": _conditions(
            pod,
            now=now,
            unready=_sidecar_names(pod) + names,
            incomplete=[str(c.get("name", "")) for c in inits],
        ),
        **_placement(pod, ctx),
        "containerStatuses": [_waiting(c, reason) for c in _containers(pod, "containers")],
    }
    if inits:
        status["initContainerStatuses"] = [_waiting(c, WAITING_INITIALIZING) for c in inits]
    return status


def pod_running_status(pod: Mapping[str, Any], ctx: StageContext) -> dict[str, Any]:
    """Every container started and ready: Running and Ready."""
    now = format_time(ctx.now)
    inits, _ = _init_statuses(pod, now=now, upto_failure=False)
    status: dict[str, Any] = {
        "phase": "Running",
        "conditions": _conditions(pod, now=now, unready=[], incomplete=[]),
        **_placement(pod, ctx),
        "containerStatuses": [_started(pod, c, now=now) for c in _containers(pod, "containers")],
    }
    if inits:
        status["initContainerStatuses"] = inits
    return status


def pod_image_pull_status(pod: Mapping[str, Any], ctx: StageContext) -> dict[str, Any]:
    """Pending with the failing images waiting ErrImagePull, or ImagePullBackOff after that."""
    now = format_time(ctx.now)
    inits, incomplete = _init_statuses(pod, now=now, upto_failure=True)
    containers: list[dict[str, Any]] = []
    unready = [n for n in _sidecar_names(pod) if n in incomplete]
    for c in _containers(pod, "containers"):
        if incomplete:
            containers.append(_waiting(c, WAITING_INITIALIZING))
        elif _fails(c):
            containers.append(_waiting_pull(pod, c))
        else:
            containers.append(_started(pod, c, now=now))
            continue
        unready.append(str(c.get("name", "")))
    status: dict[str, Any] = {
        "phase": "Pending",
        "conditions": _conditions(pod, now=now, unready=unready, incomplete=incomplete),
        **_placement(pod, ctx),
        "containerStatuses": containers,
    }
    if inits:
        status["initContainerStatuses"] = inits
    return status


def _exit_code(pod: Mapping[str, Any]) -> int | None:
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(EXIT_CODE_ANNOTATION)
    try:
        return int(str(raw)) if raw is not None else None
    except ValueError:
        return None


def pod_completed_status(pod: Mapping[str, Any], ctx: StageContext) -> dict[str, Any]:
    """Containers exited with the ``kubeds.io/exit-code`` code: Succeeded (0) or Failed."""
    now = format_time(ctx.now)
    code = _exit_code(pod) or 0
    return {
        "phase": "Succeeded" if code == 0 else "Failed",
        "conditions": _conditions(pod, now=now, unready=[], incomplete=[], completed=True),
        "containerStatuses": [
            _started(pod, c, now=now, exit_code=code, ready=False) for c in _containers(pod, "containers")
        ],
    }


# ---------------------------------------------------------------------------------------------
# node status templates


def node_initialized_status(node: Mapping[str, Any], ctx: StageContext) -> dict[str, Any]:
    """First conditions, plus whatever registration left out (a Node applied with kubectl)."""
    status = node.get("status") or {}
    name = str((node.get("metadata") or {}).get("name", ""))
    info = status.get("nodeInfo") or {}
    version = str(info.get("kubeletVersion") or t.DEFAULT_KUBELET_VERSION)
    defaults = t.default_node_status(name, internal_ip=t.node_internal_ip(node), kubelet_version=version)
    out = node_heartbeat_status(node, ctx)
    for key in ("addresses", "capacity"):
        out[key] = status.get(key) or defaults[key]
    # An unset port comes back from the API server as 0: the kubelet always reports its own.
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    out["daemonEndpoints"] = status["daemonEndpoints"] if port else defaults["daemonEndpoints"]
    out["allocatable"] = status.get("allocatable") or dict(out["capacity"])
    # The API server serialises an unset nodeInfo as empty strings: those are filled in too.
    out["nodeInfo"] = {**defaults["nodeInfo"], **{k: v for k, v in info.items() if v}}
    return out


def node_heartbeat_status(node: Mapping[str, Any], ctx: StageContext) -> dict[str, Any]:
    """The conditions re-posted: heartbeat now, transitions kept, knobs applied."""
    previous = (node.get("status") or {}).get("conditions") or []
    return {
        "conditions": t.node_status_conditions(
            now=ctx.now, previous=previous, **t.desired_node_conditions(node)
        )
    }


# ---------------------------------------------------------------------------------------------
# predicates and events


def _image_pull_fails(pod: Mapping[str, Any]) -> bool:
    return any(_fails(c) for c in _containers(pod, "initContainers") + _containers(pod, "containers"))


def _pod_completes(pod: Mapping[str, Any]) -> bool:
    code = _exit_code(pod)
    policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
    return code is not None and (policy == "Never" or (policy == "OnFailure" and code == 0))


def _node_failed(node: Mapping[str, Any]) -> bool:
    value = ((node.get("metadata") or {}).get("annotations") or {}).get(NODE_FAILED_ANNOTATION)
    return str(value).lower() == "true"


def _node_conditions_stale(node: Mapping[str, Any]) -> bool:
    wanted = t.desired_node_conditions(node)
    have = {c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []}
    return any(
        have.get(ctype) != ("True" if wanted[arg] else "False") for ctype, arg in t.CONDITION_ARGS.items()
    )


def _ready_overwritten(pod: Mapping[str, Any]) -> bool:
    """Every container runs ready, yet the Ready or ContainersReady condition is not True.

    Someone other than the kubelet wrote it: the node lifecycle controller marks the pods of an
    unreachable node NotReady (pkg/controller/nodelifecycle MarkPodsNotReady). Once the node is
    back, the kubelet's status manager finds the API status differing from its own and re-posts
    it. Pods with readinessGates are left alone (their Ready condition is not the kubelet's alone).
    """
    status = pod.get("status") or {}
    if (pod.get("spec") or {}).get("readinessGates"):
        return False
    statuses = status.get("containerStatuses") or []
    if not statuses or not all(cs.get("ready") is True for cs in statuses):
        return False
    have = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return have.get("Ready") != "True" or have.get("ContainersReady") != "True"


def _pull_attempted(pod: Mapping[str, Any], reasons: tuple[str, ...]) -> bool:
    status = pod.get("status") or {}
    statuses = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    return any(((cs.get("state") or {}).get("waiting") or {}).get("reason") in reasons for cs in statuses)


def _first_container(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    containers = _containers(pod, "containers")
    return containers[0] if containers else None


def _pulling_event(pod: Mapping[str, Any], ctx: StageContext) -> tuple[str, str, str] | None:
    first = (_containers(pod, "initContainers") + _containers(pod, "containers"))[:1]
    return ("Normal", "Pulling", PULLING_MESSAGE.format(first[0].get("image", ""))) if first else None


def _started_event(pod: Mapping[str, Any], ctx: StageContext) -> tuple[str, str, str] | None:
    c = _first_container(pod)
    return None if c is None else ("Normal", "Started", STARTED_MESSAGE.format(c.get("name", "")))


def _pull_event(pod: Mapping[str, Any], ctx: StageContext) -> tuple[str, str, str] | None:
    failing = [c for c in _containers(pod, "initContainers") + _containers(pod, "containers") if _fails(c)]
    if not failing:
        return None
    image = str(failing[0].get("image", ""))
    if _waiting_reason(pod, str(failing[0].get("name", ""))) in (ERR_IMAGE_PULL, IMAGE_PULL_BACK_OFF):
        return ("Normal", "BackOff", BACK_OFF_MESSAGE.format(image))
    error = PULL_ERROR_MESSAGE.format(ref=normalize_image(image))
    return ("Warning", "Failed", FAILED_PULL_MESSAGE.format(image, error))


def _killing_event(pod: Mapping[str, Any], ctx: StageContext) -> tuple[str, str, str] | None:
    c = _first_container(pod)
    return None if c is None else ("Normal", "Killing", KILLING_MESSAGE.format(c.get("name", "")))


PREDICATES: dict[str, PredicateFn] = {
    "image-pull-fails": _image_pull_fails,
    "pod-completes": _pod_completes,
    "node-failed": _node_failed,
    "node-conditions-stale": _node_conditions_stale,
    "ready-overwritten": _ready_overwritten,
    "image-pull-attempted": lambda pod: _pull_attempted(pod, (ERR_IMAGE_PULL, IMAGE_PULL_BACK_OFF)),
    "image-pull-errored": lambda pod: _pull_attempted(pod, (ERR_IMAGE_PULL,)),
}
TEMPLATES: dict[str, StatusTemplateFn] = {
    "pod-pending": pod_pending_status,
    "pod-running": pod_running_status,
    "pod-image-pull": pod_image_pull_status,
    "pod-completed": pod_completed_status,
    "node-initialized": node_initialized_status,
    "node-heartbeat": node_heartbeat_status,
}
EVENTS: dict[str, EventFn] = {
    "pulling": _pulling_event,
    "started": _started_event,
    "image-pull": _pull_event,
    "killing": _killing_event,
}


# ---------------------------------------------------------------------------------------------
# loading


@dataclass(frozen=True)
class Profile:
    name: str
    pod_stages: tuple[Stage, ...]
    node_stages: tuple[Stage, ...]


def load_stages(text: str) -> list[Stage]:
    """Stages from a multi-document YAML text, resolving the built-in hook names."""
    return [
        parse_stage(doc, predicates=PREDICATES, templates=TEMPLATES, events=EVENTS)
        for doc in yaml.safe_load_all(text)
        if doc
    ]


@functools.cache
def load_profile(name: str) -> Profile:
    """The built-in profile ``name`` (``fast`` or ``realistic``)."""
    if name not in PROFILES:
        raise ValueError(f"unknown node profile {name!r}; want one of {', '.join(PROFILES)}")
    text = importlib.resources.files("kubeds.nodes").joinpath("profiles", f"{name}.yaml").read_text("utf-8")
    stages = load_stages(text)
    return Profile(
        name=name,
        pod_stages=tuple(s for s in stages if s.resource == "Pod"),
        node_stages=tuple(s for s in stages if s.resource == "Node"),
    )
