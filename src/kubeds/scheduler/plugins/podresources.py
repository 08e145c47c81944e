"""What a pod asks of a node: resource requests and host ports.

Requests mirror upstream ``k8s.io/component-helpers/resource/helpers.go`` (``PodRequests``,
``AggregateContainerRequests``, v1.34) as the scheduler calls it:

* app containers are summed; restartable ("sidecar", ``restartPolicy: Always``) init containers are
  added to that sum too, and keep running while later init containers start;
* each ordinary init container needs its own request plus the sidecars started before it; the pod
  needs the max of the sum above and of every such init-container figure, per resource;
* pod-level ``spec.resources.requests`` (cpu, memory) replace the container aggregate;
* ``spec.overhead`` is added last.

``non_zero=True`` is the scheduler's ``NonMissingContainerRequests`` option
(``pkg/scheduler/util/pod_resources.go``): a container that states no cpu (memory) request counts
as 100m (200Mi) - used for scoring and ``NodeInfo.NonZeroRequested``, never for filtering.

Results are plain ``{resource: int}``: cpu in millicores (``MilliValue``), everything else in units
(``Value``), both rounded up as upstream. Only resources the scheduler accounts are kept: cpu,
memory, ephemeral-storage and "scalar" resources (extended ``vendor.io/x``, ``hugepages-*``,
``attachable-volumes-*``, ``*kubernetes.io/*``), as upstream ``framework.Resource.Add``.

:func:`pod_requests` is memoised on what it reads (each container's requests and restart policy,
pod-level requests, overhead): the pods of one DaemonSet or ReplicaSet share a template, so the
exact (Fraction) arithmetic runs once per template, not once per pod and scheduling step.

Host ports are upstream ``NodeInfo.UsedPorts``/``HostPortInfo`` (``pkg/scheduler/framework/types.go``):
``(protocol, port)`` pairs per host IP, protocol defaulting to TCP and IP to ``0.0.0.0``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Any

from kubeds.models.quantity import QuantityError, milli_value, parse_quantity, value

__all__ = [
    "CPU",
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "EPHEMERAL_STORAGE",
    "MEMORY",
    "PODS",
    "is_scalar_resource",
    "node_allocatable",
    "pod_host_ports",
    "pod_priority",
    "pod_requests",
]

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

DEFAULT_MILLI_CPU_REQUEST = 100  # 0.1 core
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # 200 MiB

DEFAULT_BIND_ALL_HOST_IP = "0.0.0.0"
DEFAULT_PROTOCOL = "TCP"

_POD_LEVEL_RESOURCES = (CPU, MEMORY)
_RESTART_ALWAYS = "Always"


def is_scalar_resource(name: str) -> bool:
    """Extended, hugepages, attachable-volumes or prefixed-native (upstream ``IsScalarResourceName``)."""
    if name.startswith(("hugepages-", "attachable-volumes-")):
        return True
    return "/" in name and not name.startswith("requests.")


def _accounted(name: str) -> bool:
    return name in (CPU, MEMORY, EPHEMERAL_STORAGE) or is_scalar_resource(name)


def _quantities(rl: Mapping[str, Any] | None) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for name, raw in (rl or {}).items():
        if not _accounted(name):
            continue
        try:
            out[name] = parse_quantity(raw)
        except QuantityError:
            continue  # validation rejects these; never let one break scheduling
    return out


def _with_defaults(reqs: dict[str, Fraction]) -> dict[str, Fraction]:
    out = dict(reqs)
    out.setdefault(CPU, Fraction(DEFAULT_MILLI_CPU_REQUEST, 1000))
    out.setdefault(MEMORY, Fraction(DEFAULT_MEMORY_REQUEST))
    return out


def _add(into: dict[str, Fraction], other: Mapping[str, Fraction]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, Fraction(0)) + v


def _max(into: dict[str, Fraction], other: Mapping[str, Fraction]) -> None:
    for k, v in other.items():
        if k not in into or v > into[k]:
            into[k] = v


def _container_requests(container: Mapping[str, Any], non_zero: bool) -> dict[str, Fraction]:
    reqs = _quantities((container.get("resources") or {}).get("requests"))
    return _with_defaults(reqs) if non_zero else reqs


def _to_ints(reqs: Mapping[str, Fraction]) -> dict[str, int]:
    return {k: milli_value(v) if k == CPU else value(v) for k, v in reqs.items()}


_MEMO_SIZE = 1024
_memo: dict[tuple[Any, ...], dict[str, int]] = {}


def _items(rl: Any) -> tuple[tuple[Any, Any], ...] | None:
    return tuple(rl.items()) if rl else None


def _memo_key(spec: Mapping[str, Any], non_zero: bool) -> tuple[Any, ...]:
    """Everything :func:`_compute_requests` reads, as a hashable key (TypeError if unhashable)."""
    key: list[Any] = [non_zero]
    for c in spec.get("containers") or ():
        key.append(_items((c.get("resources") or {}).get("requests")))
    init = spec.get("initContainers")
    if init:
        key.append("init")
        for c in init:
            key.append((_items((c.get("resources") or {}).get("requests")), c.get("restartPolicy")))
    key.append(_items((spec.get("resources") or {}).get("requests")))
    key.append(_items(spec.get("overhead")))
    out = tuple(key)
    hash(out)
    return out


def pod_requests(pod: Mapping[str, Any], *, non_zero: bool = False) -> dict[str, int]:
    """Effective requests of a pod (cpu in millicores), see the module docstring. A fresh dict."""
    spec = pod.get("spec") or {}
    try:
        key = _memo_key(spec, non_zero)
    except (TypeError, AttributeError):
        return _compute_requests(spec, non_zero)
    cached = _memo.get(key)
    if cached is None:
        cached = _compute_requests(spec, non_zero)
        if len(_memo) >= _MEMO_SIZE:
            _memo.clear()
        _memo[key] = cached
    return dict(cached)


def _compute_requests(spec: Mapping[str, Any], non_zero: bool) -> dict[str, int]:
    reqs: dict[str, Fraction] = {}
    for c in spec.get("containers") or ():
        _add(reqs, _container_requests(c, non_zero))
    sidecars: dict[str, Fraction] = {}
    init_max: dict[str, Fraction] = {}
    for c in spec.get("initContainers") or ():
        creqs = _container_requests(c, non_zero)
        if c.get("restartPolicy") == _RESTART_ALWAYS:
            _add(reqs, creqs)
            _add(sidecars, creqs)
            creqs = dict(sidecars)
        else:
            _add(creqs, sidecars)
        _max(init_max, creqs)
    _max(reqs, init_max)
    pod_level = _quantities((spec.get("resources") or {}).get("requests"))
    for name in _POD_LEVEL_RESOURCES:
        if name in pod_level:
            reqs[name] = pod_level[name]
    _add(reqs, _quantities(spec.get("overhead")))
    return _to_ints(reqs)


def node_allocatable(node: Mapping[str, Any]) -> tuple[dict[str, int], int]:
    """``(allocatable resources, allowed pod number)`` from ``status.allocatable``."""
    raw: Mapping[str, Any] = (node.get("status") or {}).get("allocatable") or {}
    allowed = 0
    if PODS in raw:
        try:
            allowed = value(parse_quantity(raw[PODS]))
        except QuantityError:
            allowed = 0
    return _to_ints(_quantities(raw)), allowed


def pod_host_ports(pod: Mapping[str, Any]) -> Iterator[tuple[str, str, int]]:
    """``(hostIP, protocol, hostPort)`` of every app-container port with a host port, sanitised."""
    for c in (pod.get("spec") or {}).get("containers") or ():
        for p in c.get("ports") or ():
            port = int(p.get("hostPort") or 0)
            if port <= 0:
                continue
            yield (
                str(p.get("hostIP") or DEFAULT_BIND_ALL_HOST_IP),
                str(p.get("protocol") or DEFAULT_PROTOCOL),
                port,
            )


def pod_priority(pod: Mapping[str, Any]) -> int:
    """``spec.priority``, 0 when unset (upstream ``corev1helpers.PodPriority``)."""
    prio = (pod.get("spec") or {}).get("priority")
    return int(prio) if prio is not None else 0
