"""Node, Lease and node-condition templates: what a simulated kubelet registers and reports.

A real kubelet builds its Node in ``initialNode`` (kubernetes/kubernetes
``pkg/kubelet/kubelet_node_status.go``) and then runs the status setters of
``pkg/kubelet/nodestatus/setters.go`` (addresses, capacity/allocatable, nodeInfo,
daemonEndpoints and the MemoryPressure/DiskPressure/PIDPressure/Ready conditions); its node
lease comes from ``pkg/kubelet/nodelease`` via ``k8s.io/component-helpers/apimachinery/lease``.
This module writes those objects as plain JSON-shaped dicts, with the reasons and messages the
kubelet uses, so ``kubectl describe node`` reads as it does on a real cluster.

Everything is a pure function of its arguments: times come in as ``now`` and identifiers that
a real machine would have (machine ID, system UUID, boot ID, node IP, pod CIDR) are derived
deterministically from the node's name or IP, so a restarted simulator reproduces them.

Condition knobs: a node annotation ``kubeds.io/condition-<Type>: "True"|"False"`` overrides
what the simulated kubelet reports for that condition type (``kubeds node condition``);
:func:`desired_node_conditions` reads them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from collections.abc import Mapping
from typing import Any

from kubeds.clock import format_time

__all__ = [
    "CONDITION_ANNOTATION_PREFIX",
    "CONDITION_ARGS",
    "DEFAULT_EPHEMERAL_STORAGE",
    "DEFAULT_KUBELET_VERSION",
    "KUBELET_PORT",
    "LEASE_NAMESPACE",
    "NODE_CONDITION_TYPES",
    "default_node_status",
    "derive_node_ip",
    "derive_pod_cidr",
    "desired_node_conditions",
    "format_micro_time",
    "lease_renew_interval",
    "new_lease",
    "new_node",
    "node_internal_ip",
    "node_status_conditions",
    "renew_lease",
]

LEASE_NAMESPACE = "kube-node-lease"
DEFAULT_KUBELET_VERSION = "v1.32.0"
KUBELET_PORT = 10250
DEFAULT_EPHEMERAL_STORAGE = "100Gi"
# pkg/kubelet/nodelease: the kubelet renews every leaseDuration * 0.25 (10 s for 40 s).
LEASE_RENEW_INTERVAL_FRACTION = 0.25

CONDITION_ANNOTATION_PREFIX = "kubeds.io/condition-"

OS_IMAGE = "kubeds simulated node"
KERNEL_VERSION = "6.8.0-kubeds"
CONTAINER_RUNTIME_VERSION = "containerd://1.7.24"

NETWORK_UNAVAILABLE = "NetworkUnavailable"
MEMORY_PRESSURE = "MemoryPressure"
DISK_PRESSURE = "DiskPressure"
PID_PRESSURE = "PIDPressure"
READY = "Ready"
# The order a kubelet's setters append them (NetworkUnavailable comes from the route
# controller / network plugin, which on a fresh node posts before the kubelet's first status).
NODE_CONDITION_TYPES = (NETWORK_UNAVAILABLE, MEMORY_PRESSURE, DISK_PRESSURE, PID_PRESSURE, READY)
# Condition type -> keyword of node_status_conditions.
CONDITION_ARGS = {
    NETWORK_UNAVAILABLE: "network_unavailable",
    MEMORY_PRESSURE: "memory_pressure",
    DISK_PRESSURE: "disk_pressure",
    PID_PRESSURE: "pid_pressure",
    READY: "ready",
}

# (reason, message) for condition status "True" and "False", as pkg/kubelet/nodestatus/setters.go
# (and pkg/controller/route/route_controller.go for NetworkUnavailable) words them.
_CONDITION_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    MEMORY_PRESSURE: {
        "True": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
        "False": ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    },
    DISK_PRESSURE: {
        "True": ("KubeletHasDiskPressure", "kubelet has disk pressure"),
        "False": ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    },
    PID_PRESSURE: {
        "True": ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
        "False": ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    },
    READY: {
        "True": ("KubeletReady", "kubelet is posting ready status"),
        # runtimeErrors() in pkg/kubelet/runtime.go when the runtime stops answering.
        "False": ("KubeletNotReady", "container runtime is down"),
    },
    NETWORK_UNAVAILABLE: {
        "True": ("NoRouteCreated", "RouteController failed to create a route"),
        "False": ("RouteCreated", "RouteController created a route"),
    },
}


def _status_word(flag: bool) -> str:
    return "True" if flag else "False"


def _hex(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _uuid_from(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:32]}"


def derive_node_ip(name: str) -> str:
    """A stable InternalIP for a node that has none: an address in 172.16.0.0/12 from its name."""
    offset = int(_hex("node-ip", name)[:8], 16) % ((1 << 20) - 2) + 1
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("172.16.0.0")) + offset))


def derive_pod_cidr(node_ip: str) -> str:
    """The node's pod CIDR: ``10.<c>.<d>.0/24`` from the last two octets of its IPv4 address.

    Unique for nodes whose IPs differ in their low 16 bits (any set of nodes in one /16).
    Upstream the node IPAM controller allocates ``spec.podCIDR``; simulated nodes derive it.
    """
    addr = ipaddress.ip_address(node_ip)
    if isinstance(addr, ipaddress.IPv4Address):
        low = int(addr) & 0xFFFF
        return f"10.{low >> 8}.{low & 0xFF}.0/24"
    low = int(addr) & 0xFFFFFFFF
    return str(ipaddress.IPv6Network(((0xFD00 << 112) | (low << 64), 80)))


def node_internal_ip(node: Mapping[str, Any]) -> str:
    """The node's first InternalIP address, else one derived from its name."""
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP" and address.get("address"):
            return str(address["address"])
    return derive_node_ip(str(node.get("metadata", {}).get("name", "")))


def _node_info(name: str, *, kubelet_version: str) -> dict[str, Any]:
    machine = _hex("machine-id", name)[:32]
    return {
        "architecture": "amd64",
        "bootID": _uuid_from(_hex("boot-id", name)[:32]),
        "containerRuntimeVersion": CONTAINER_RUNTIME_VERSION,
        "kernelVersion": KERNEL_VERSION,
        "kubeProxyVersion": kubelet_version,
        "kubeletVersion": kubelet_version,
        "machineID": machine,
        "operatingSystem": "linux",
        "osImage": OS_IMAGE,
        "systemUUID": _uuid_from(_hex("system-uuid", name)[:32]),
    }


def _resources(*, cpu: str, memory: str, pods: str) -> dict[str, str]:
    return {
        "cpu": cpu,
        "ephemeral-storage": DEFAULT_EPHEMERAL_STORAGE,
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": memory,
        "pods": pods,
    }


def default_node_status(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "16Gi",
    pods: str = "110",
    internal_ip: str | None = None,
    kubelet_version: str = DEFAULT_KUBELET_VERSION,
) -> dict[str, Any]:
    """The status fields a kubelet reports at registration, conditions excepted."""
    ip = internal_ip or derive_node_ip(name)
    resources = _resources(cpu=cpu, memory=memory, pods=pods)
    return {
        "addresses": [{"address": ip, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
        "allocatable": dict(resources),
        "capacity": dict(resources),
        # DaemonEndpoint's JSON tag is "Port", capitalised, upstream.
        "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
        "nodeInfo": _node_info(name, kubelet_version=kubelet_version),
    }


def new_node(
    name: str,
    *,
    labels: Mapping[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    cpu: str = "4",
    memory: str = "16Gi",
    pods: str = "110",
    internal_ip: str,
    kubelet_version: str = DEFAULT_KUBELET_VERSION,
) -> dict[str, Any]:
    """The Node a simulated kubelet registers (POST /api/v1/nodes).

    Conditions are left to the ``node-initialize`` stage, as KWOK does; everything else the
    kubelet's ``initialNode`` + setters would send is here.
    """
    all_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    all_labels.update(labels or {})
    pod_cidr = derive_pod_cidr(internal_ip)
    spec: dict[str, Any] = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]}
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": all_labels,
            "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": spec,
        "status": default_node_status(
            name,
            cpu=cpu,
            memory=memory,
            pods=pods,
            internal_ip=internal_ip,
            kubelet_version=kubelet_version,
        ),
    }


def node_status_conditions(
    *,
    now: dt.datetime,
    ready: bool = True,
    memory_pressure: bool = False,
    disk_pressure: bool = False,
    pid_pressure: bool = False,
    network_unavailable: bool = False,
    previous: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The node's conditions as the kubelet setters write them.

    ``lastHeartbeatTime`` is always ``now``; ``lastTransitionTime`` is kept from ``previous``
    when that condition's status is unchanged. Conditions of other types in ``previous`` (set
    by someone else, e.g. node-problem-detector) stay where they were, untouched; known types
    are updated in place or appended in kubelet order.
    """
    wanted = {
        NETWORK_UNAVAILABLE: _status_word(network_unavailable),
        MEMORY_PRESSURE: _status_word(memory_pressure),
        DISK_PRESSURE: _status_word(disk_pressure),
        PID_PRESSURE: _status_word(pid_pressure),
        READY: _status_word(ready),
    }
    stamp = format_time(now)

    def build(ctype: str, old: Mapping[str, Any] | None) -> dict[str, Any]:
        status = wanted[ctype]
        reason, message = _CONDITION_TEXT[ctype][status]
        transition = stamp
        if old is not None and old.get("status") == status and old.get("lastTransitionTime"):
            transition = str(old["lastTransitionTime"])
        return {
            "type": ctype,
            "status": status,
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": transition,
            "reason": reason,
            "message": message,
        }

    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for old in previous or []:
        ctype = old.get("type")
        if ctype in wanted and ctype not in seen:
            result.append(build(ctype, old))
            seen.add(ctype)
        elif ctype not in wanted:
            result.append(dict(old))
    for ctype in NODE_CONDITION_TYPES:
        if ctype not in seen:
            result.append(build(ctype, None))
    return result


def desired_node_conditions(node: Mapping[str, Any]) -> dict[str, bool]:
    """Keyword arguments for :func:`node_status_conditions` from the node's condition knobs.

    ``kubeds.io/condition-DiskPressure: "True"`` asks for DiskPressure=True, and so on; with no
    knob a simulated kubelet reports a healthy node.
    """
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    args = {arg: ctype == READY for ctype, arg in CONDITION_ARGS.items()}
    for ctype, arg in CONDITION_ARGS.items():
        value = annotations.get(CONDITION_ANNOTATION_PREFIX + ctype)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            args[arg] = value.lower() == "true"
    return args


def format_micro_time(t: dt.datetime) -> str:
    """RFC 3339 with microseconds, as ``metav1.MicroTime`` serialises (``...05.000000Z``)."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_lease(node_name: str, node_uid: str, *, now: dt.datetime, duration: int = 40) -> dict[str, Any]:
    """The node's Lease in ``kube-node-lease``, owned by the Node (pkg/kubelet/nodelease)."""
    metadata: dict[str, Any] = {"name": node_name, "namespace": LEASE_NAMESPACE}
    if node_uid:
        metadata["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "Node", "name": node_name, "uid": node_uid}
        ]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": node_name,
            "leaseDurationSeconds": duration,
            "renewTime": format_micro_time(now),
        },
    }


def renew_lease(lease: Mapping[str, Any], *, now: dt.datetime) -> dict[str, Any]:
    """A copy of ``lease`` with ``spec.renewTime`` set to ``now`` (the kubelet's renew)."""
    renewed = dict(lease)
    renewed["spec"] = {**(lease.get("spec") or {}), "renewTime": format_micro_time(now)}
    return renewed


def lease_renew_interval(duration: int = 40) -> float:
    """Seconds between renewals for a lease of ``duration`` seconds (upstream: 25 %)."""
    return duration * LEASE_RENEW_INTERVAL_FRACTION
