"""One scheduling decision: filters, scores and the FailedScheduling message, as pure functions.

Mirrors upstream ``pkg/scheduler/schedule_one.go`` (``schedulePod``, ``findNodesThatFitPod``,
``findNodesThatPassFilters``, ``numFeasibleNodesToFind``, ``prioritizeNodes``, ``selectHost``) and
``pkg/scheduler/framework/types.go`` (``NodeInfo``), v1.34, with the default profile
(``pkg/scheduler/apis/config/v1/default_plugins.go``) reduced to the plugins kubeds models:

* filters, in profile order, stopping at the first rejection per node: NodeUnschedulable, NodeName,
  TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit;
* scores with their default weights: TaintToleration 3, NodeAffinity 2, NodeResourcesFit
  (LeastAllocated) 1, NodeResourcesBalancedAllocation 1; each plugin's scores are normalised, then
  multiplied by the weight and summed; the highest total wins, ties broken by reservoir sampling
  with ``rng`` as upstream ``selectHost`` does;
* PreFilter: NodeAffinity may narrow the nodes to those named by ``matchFields metadata.name`` (a
  DaemonSet pod is evaluated on its one node); the others count as
  "node(s) didn't satisfy plugin(s) [NodeAffinity]";
* feasible-node search starts at ``start_index`` (round robin, the caller keeps
  ``next_start_index``) and stops after ``numFeasibleNodesToFind`` feasible nodes (all below 100
  nodes; ``percentage_of_nodes_to_score`` 0 = adaptive ``50 - n/125`` %, at least 5 %, 100 nodes);
  one feasible node is returned without scoring;
* no feasible node: the FitError message of :mod:`kubeds.scheduler.messages`, with the
  DefaultPreemption PostFilter's message (:mod:`kubeds.scheduler.plugins.defaultpreemption`).

:class:`NodeInfo` is the scheduler cache's per-node aggregate: the node, the pods assigned to it
(bound or assumed) and their summed requests (actual and "non-zero"), host ports in use, and the
node's allocatable. Not modelled: nominated pods, PodTopologySpread, InterPodAffinity,
ImageLocality, volume plugins, extenders, scheduling gates.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeds.models.affinity import RequiredNodeAffinity
from kubeds.scheduler.messages import NO_NODES_AVAILABLE, fit_error_message, reason_histogram
from kubeds.scheduler.plugins import (
    balancedallocation,
    defaultpreemption,
    nodeaffinity,
    nodename,
    nodeports,
    noderesources,
    nodeunschedulable,
    tainttoleration,
)
from kubeds.scheduler.plugins.podresources import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    is_scalar_resource,
    node_allocatable,
    pod_host_ports,
    pod_requests,
)
from kubeds.scheduler.plugins.status import (
    SUCCESS,
    UNSCHEDULABLE,
    UNSCHEDULABLE_AND_UNRESOLVABLE,
    FilterResult,
)

__all__ = [
    "SCORE_WEIGHTS",
    "SUCCESS",
    "UNSCHEDULABLE",
    "UNSCHEDULABLE_AND_UNRESOLVABLE",
    "CycleState",
    "FilterResult",
    "NodeInfo",
    "ScheduleResult",
    "num_feasible_nodes_to_find",
    "run_filters",
    "schedule_pod",
    "select_host",
]

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
ABSENT_NODES_REASON_FMT = "node(s) didn't satisfy plugin(s) [{plugins}]"
TERMINAL_PHASES = ("Succeeded", "Failed")

SCORE_WEIGHTS: Mapping[str, int] = {
    tainttoleration.NAME: 3,
    nodeaffinity.NAME: 2,
    noderesources.NAME: 1,
    balancedallocation.NAME: 1,
}

_PortKey = tuple[str, int]


def _pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return str(meta.get("uid") or f"{meta.get('namespace') or ''}/{meta.get('name') or ''}")


@dataclass
class _PodUsage:
    requests: dict[str, int]
    non_zero_cpu: int
    non_zero_memory: int
    ports: list[tuple[str, str, int]]


class NodeInfo:
    """A node plus what the pods assigned to it (incl. assumed ones) use."""

    __slots__ = (
        "_usage",
        "allocatable",
        "allowed_pod_number",
        "node",
        "non_zero_requested",
        "pods",
        "requested",
        "used_ports",
    )

    def __init__(self, node: Mapping[str, Any], pods: Iterable[Mapping[str, Any]] = ()) -> None:
        self.node: Mapping[str, Any] = node
        self.allocatable, self.allowed_pod_number = node_allocatable(node)
        self.pods: dict[str, Mapping[str, Any]] = {}
        self.requested: dict[str, int] = {}
        self.non_zero_requested: dict[str, int] = {CPU: 0, MEMORY: 0}
        self.used_ports: dict[str, Counter[_PortKey]] = {}
        self._usage: dict[str, _PodUsage] = {}
        for pod in pods:
            self.add_pod(pod)

    @classmethod
    def build(cls, node: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> NodeInfo:
        """A NodeInfo of the node's non-terminal pods (the scheduler's informer drops the others)."""
        live = (p for p in pods if (p.get("status") or {}).get("phase") not in TERMINAL_PHASES)
        return cls(node, live)

    @property
    def name(self) -> str:
        return str((self.node.get("metadata") or {}).get("name") or "")

    def set_node(self, node: Mapping[str, Any]) -> None:
        """Replace the node object (labels, taints, allocatable changed); pods are kept."""
        self.node = node
        self.allocatable, self.allowed_pod_number = node_allocatable(node)

    def add_pod(self, pod: Mapping[str, Any], *, state: CycleState | None = None) -> None:
        """Account a pod on this node; adding a pod already present replaces it.

        ``state`` is the pod's scheduling-cycle state when the scheduler assumes it: its requests and
        ports are then not computed again.
        """
        key = _pod_key(pod)
        if key in self.pods:
            self.remove_pod(pod)
        if state is None:
            request, non_zero, ports = (
                pod_requests(pod),
                pod_requests(pod, non_zero=True),
                list(pod_host_ports(pod)),
            )
        else:
            request, non_zero, ports = dict(state.request), state.non_zero_request, list(state.wanted_ports)
        usage = _PodUsage(request, non_zero.get(CPU, 0), non_zero.get(MEMORY, 0), ports)
        self.pods[key] = pod
        self._usage[key] = usage
        self._apply(usage, 1)

    def remove_pod(self, pod: Mapping[str, Any] | str) -> bool:
        """Forget a pod (object or key); False if it was not here."""
        key = pod if isinstance(pod, str) else _pod_key(pod)
        usage = self._usage.pop(key, None)
        if usage is None:
            return False
        del self.pods[key]
        self._apply(usage, -1)
        return True

    def _apply(self, usage: _PodUsage, sign: int) -> None:
        for name, amount in usage.requests.items():
            self.requested[name] = self.requested.get(name, 0) + sign * amount
        self.non_zero_requested[CPU] += sign * usage.non_zero_cpu
        self.non_zero_requested[MEMORY] += sign * usage.non_zero_memory
        for ip, protocol, port in usage.ports:
            counter = self.used_ports.setdefault(ip, Counter())
            counter[(protocol, port)] += sign
            if counter[(protocol, port)] <= 0:
                del counter[(protocol, port)]
            if not counter:
                del self.used_ports[ip]

    def clone(self) -> NodeInfo:
        copy = NodeInfo.__new__(NodeInfo)
        copy.node = self.node
        copy.allocatable, copy.allowed_pod_number = dict(self.allocatable), self.allowed_pod_number
        copy.pods = dict(self.pods)
        copy.requested = dict(self.requested)
        copy.non_zero_requested = dict(self.non_zero_requested)
        copy.used_ports = {ip: Counter(c) for ip, c in self.used_ports.items()}
        copy._usage = dict(self._usage)
        return copy

    def port_conflict(self, ip: str, protocol: str, port: int) -> bool:
        """Upstream ``HostPortInfo.CheckConflict`` (0.0.0.0 overlaps every IP)."""
        if port <= 0:
            return False
        key = (protocol or "TCP", port)
        ip = ip or "0.0.0.0"
        if ip == "0.0.0.0":
            return any(key in used for used in self.used_ports.values())
        return any(key in self.used_ports.get(k, ()) for k in ("0.0.0.0", ip))

    def allocatable_and_requested(
        self, resource: str, pod_request: int, *, non_zero: bool
    ) -> tuple[int, int]:
        """``(allocatable, node requested + pod_request)`` for scoring (``calculateResourceAllocatableRequest``)."""
        if resource in (CPU, MEMORY):
            used = (self.non_zero_requested if non_zero else self.requested).get(resource, 0)
            return self.allocatable.get(resource, 0), used + pod_request
        if resource == EPHEMERAL_STORAGE:
            return self.allocatable.get(resource, 0), self.requested.get(resource, 0) + pod_request
        if is_scalar_resource(resource) and pod_request and resource in self.allocatable:
            return self.allocatable[resource], self.requested.get(resource, 0) + pod_request
        return 0, 0


@dataclass(frozen=True)
class ScheduleResult:
    """``node_name`` None = unschedulable; ``message`` is then the FailedScheduling event text."""

    node_name: str | None
    diagnosis: dict[str, int] = field(default_factory=dict)
    message: str = ""
    evaluated_nodes: int = 0
    feasible_nodes: int = 0
    next_start_index: int = 0
    node_statuses: dict[str, FilterResult] = field(default_factory=dict)
    unschedulable_plugins: frozenset[str] = frozenset()
    preemption_candidates: tuple[str, ...] = ()
    scores: dict[str, int] = field(default_factory=dict)
    state: CycleState | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CycleState:
    """What upstream's PreFilter/PreScore compute once per pod."""

    request: dict[str, int]
    non_zero_request: dict[str, int]
    wanted_ports: list[tuple[str, str, int]]
    required: RequiredNodeAffinity
    prefer_tolerations: list[Mapping[str, Any]]

    @classmethod
    def of(cls, pod: Mapping[str, Any]) -> CycleState:
        return cls(
            request=pod_requests(pod),
            non_zero_request=pod_requests(pod, non_zero=True),
            wanted_ports=list(pod_host_ports(pod)),
            required=RequiredNodeAffinity.from_pod(pod),
            prefer_tolerations=tainttoleration.prefer_no_schedule_tolerations(pod),
        )


def _filter_results(
    pod: Mapping[str, Any], node_info: NodeInfo, s: CycleState
) -> Iterator[tuple[str, FilterResult]]:
    """The filters in profile order, lazily (the caller stops at the first rejection)."""
    yield nodeunschedulable.NAME, nodeunschedulable.filter(pod, node_info)
    yield nodename.NAME, nodename.filter(pod, node_info)
    yield tainttoleration.NAME, tainttoleration.filter(pod, node_info)
    yield nodeaffinity.NAME, nodeaffinity.filter(pod, node_info, required=s.required)
    yield nodeports.NAME, nodeports.filter(pod, node_info, wanted=s.wanted_ports)
    yield noderesources.NAME, noderesources.filter(pod, node_info, request=s.request)


def run_filters(
    pod: Mapping[str, Any], node_info: NodeInfo, *, state: CycleState | None = None
) -> FilterResult:
    """The first rejecting filter's result (with its plugin name), else success."""
    s = CycleState.of(pod) if state is None else state
    for name, result in _filter_results(pod, node_info, s):
        if not result.is_success:
            return result.with_plugin(name)
    return FilterResult.success()


def num_feasible_nodes_to_find(num_all_nodes: int, percentage_of_nodes_to_score: int = 0) -> int:
    """How many feasible nodes to look for before scoring (upstream ``numFeasibleNodesToFind``)."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    percentage = percentage_of_nodes_to_score
    if percentage == 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    num_nodes = num_all_nodes * percentage // 100
    return max(num_nodes, MIN_FEASIBLE_NODES_TO_FIND)


def select_host(totals: Sequence[tuple[str, int]], *, rng: random.Random) -> str:
    """The highest total; among equals, each is picked with equal probability (reservoir sampling)."""
    if not totals:
        raise ValueError("empty priority list")
    best_name, best = totals[0]
    ties = 1
    for name, total in totals[1:]:
        if total > best:
            best_name, best, ties = name, total, 1
        elif total == best:
            ties += 1
            if rng.randrange(ties) == 0:
                best_name = name
    return best_name


def _prioritize(pod: Mapping[str, Any], feasible: Sequence[NodeInfo], state: CycleState) -> dict[str, int]:
    taint = tainttoleration.normalize(
        [tainttoleration.score(pod, n, tolerations=state.prefer_tolerations) for n in feasible]
    )
    affinity = nodeaffinity.normalize([nodeaffinity.score(pod, n) for n in feasible])
    fit = [noderesources.score(pod, n, request=state.non_zero_request) for n in feasible]
    balanced = [balancedallocation.score(pod, n, request=state.request) for n in feasible]
    w = SCORE_WEIGHTS
    totals: dict[str, int] = {}
    for i, n in enumerate(feasible):
        totals[n.name] = (
            taint[i] * w[tainttoleration.NAME]
            + affinity[i] * w[nodeaffinity.NAME]
            + fit[i] * w[noderesources.NAME]
            + balanced[i] * w[balancedallocation.NAME]
        )
    return totals


def _unschedulable(
    pod: Mapping[str, Any],
    node_infos: Sequence[NodeInfo],
    statuses: dict[str, FilterResult],
    *,
    absent: FilterResult | None,
    pre_filter_msg: str = "",
    evaluated: int,
    next_start: int,
) -> ScheduleResult:
    num_all = len(node_infos)
    absent_count = num_all - len(statuses)
    absent_reasons = absent.reasons if absent is not None else []
    histogram = reason_histogram(statuses.values(), absent_reasons=absent_reasons, absent_count=absent_count)
    plugins = {s.plugin for s in statuses.values() if s.plugin}
    if absent is not None and absent.plugin:
        plugins.add(absent.plugin)
    full_statuses = dict(statuses)
    if absent is not None:
        for n in node_infos:
            full_statuses.setdefault(n.name, absent)
    outcome = defaultpreemption.post_filter(pod, node_infos, full_statuses, run_filters=run_filters)
    message = fit_error_message(
        num_all, histogram, pre_filter_msg=pre_filter_msg, post_filter_msg=outcome.message
    )
    return ScheduleResult(
        None,
        diagnosis=histogram,
        message=message,
        evaluated_nodes=evaluated,
        next_start_index=next_start,
        node_statuses=full_statuses,
        unschedulable_plugins=frozenset(plugins),
        preemption_candidates=outcome.candidates,
    )


def schedule_pod(
    pod: Mapping[str, Any],
    node_infos: Sequence[NodeInfo],
    *,
    percentage_of_nodes_to_score: int = 0,
    rng: random.Random | None = None,
    start_index: int = 0,
    pre: nodeaffinity.PreFilterResult | None = None,
    state: CycleState | None = None,
) -> ScheduleResult:
    """Pick a node for ``pod`` among ``node_infos`` (the cache snapshot), or explain why none fits.

    ``pre`` and ``state`` are the NodeAffinity PreFilter result and the cycle state if the caller
    has them already (computed from ``pod`` otherwise); the result carries the state.
    """
    if not node_infos:
        return ScheduleResult(None, message=NO_NODES_AVAILABLE)
    if state is None:
        state = CycleState.of(pod)
    if pre is None:
        pre = nodeaffinity.pre_filter(pod)
    if pre.status is not None:
        rejected = pre.status.with_plugin(nodeaffinity.NAME)
        return _unschedulable(
            pod, node_infos, {}, absent=rejected, pre_filter_msg=rejected.message, evaluated=0, next_start=0
        )
    candidates: Sequence[NodeInfo] = node_infos
    absent: FilterResult | None = None
    if pre.node_names is not None:
        candidates = [n for n in node_infos if n.name in pre.node_names]
        reason = ABSENT_NODES_REASON_FMT.format(plugins=nodeaffinity.NAME)
        absent = FilterResult.unschedulable(reason, unresolvable=True).with_plugin(nodeaffinity.NAME)

    to_find = num_feasible_nodes_to_find(len(candidates), percentage_of_nodes_to_score)
    feasible: list[NodeInfo] = []
    statuses: dict[str, FilterResult] = {}
    processed = 0
    count = len(candidates)
    start = start_index % count if count else 0
    for i in range(count):
        if len(feasible) >= to_find:
            break
        node_info = candidates[(start + i) % count]
        processed += 1
        result = run_filters(pod, node_info, state=state)
        if result.is_success:
            feasible.append(node_info)
        else:
            statuses[node_info.name] = result
    next_start = (start + processed) % count if count else 0

    if not feasible:
        return _unschedulable(
            pod, node_infos, statuses, absent=absent, evaluated=processed, next_start=next_start
        )
    if len(feasible) == 1:
        return ScheduleResult(
            feasible[0].name,
            evaluated_nodes=processed,
            feasible_nodes=1,
            next_start_index=next_start,
            node_statuses=statuses,
            state=state,
        )
    totals = _prioritize(pod, feasible, state)
    chosen = select_host(list(totals.items()), rng=rng or random.Random())
    return ScheduleResult(
        chosen,
        evaluated_nodes=processed,
        feasible_nodes=len(feasible),
        next_start_index=next_start,
        node_statuses=statuses,
        scores=totals,
        state=state,
    )
