"""The node lifecycle controller: node health from heartbeats and Leases, and the taints that follow it.

Mirrors upstream ``pkg/controller/nodelifecycle/node_lifecycle_controller.go`` with the taint manager
split out (``SeparateTaintEvictionController``; see :mod:`kubeds.controllers.tainteviction`):

* **Condition taints** (``doNoScheduleTaintingPass`` + ``reconcileNodeLabels``): every node add or
  update enqueues the node; its worker makes the NoSchedule condition taints match the conditions
  and ``spec.unschedulable`` (:mod:`.taints`), and the beta os/arch labels match the stable ones.
* **Health** (``monitorNodeHealth`` every ``node_monitor_period``): for each node, :mod:`.health`
  decides from the Ready heartbeat and the node's Lease in ``kube-node-lease`` whether the kubelet
  has been silent longer than the grace period; if so the conditions go Unknown through
  ``nodes/status``. On a Ready -> not-Ready transition the node gets a ``NodeNotReady`` event and
  its pods' Ready conditions go False (``MarkPodsNotReady``; also for pods bound later, via the pod
  queue). New nodes get ``RegisteredNode``, removed ones ``RemovingNode``.
* **NoExecute taints** (``processTaintBaseEviction`` + ``doNoExecuteTaintingPass`` every
  ``tainting_period``): Ready False -> ``not-ready:NoExecute``, Ready Unknown ->
  ``unreachable:NoExecute``, swapped at once when the node already has the other one, otherwise
  queued per zone and added at the zone's rate (:mod:`.zones`, with upstream's disruption states);
  Ready True removes both.

Simplifications: the per-node health pass runs sequentially (upstream fans out to 8 goroutines);
a taint swap is one patch instead of an add then a remove.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers import runnable
from kubeds.controllers.nodelifecycle import health as health_mod, taints as node_taints, writes, zones
from kubeds.controllers.nodelifecycle.worker import QueueWorker, every
from kubeds.machinery import cache, events, informer as informer_mod

__all__ = ["NodeLifecycleController", "NodeLifecycleControllerConfig"]

log = logging.getLogger(__name__)

COMPONENT = "node-controller"
LEASE_NAMESPACE = "kube-node-lease"
NODE_HEALTH_UPDATE_RETRY = 5
LABEL_EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption"
EVENT_REGISTERED_NODE = "RegisteredNode"
MSG_REGISTERED_NODE = "Registered Node {name} in Controller"
EVENT_REMOVING_NODE = "RemovingNode"
MSG_REMOVING_NODE = "Removing Node {name} from Controller"
RETRY_NO_READY_CONDITION = 0.05
# Thousands of nodes registering at once would overflow the recorder's queue (1000): let it catch up.
EVENT_BACKLOG_LIMIT = 500

ApiFailure = (errors.ApiError, errors.TransportError)


@dataclasses.dataclass
class NodeLifecycleControllerConfig:
    """Upstream's kube-controller-manager flags of the same names (seconds, rates per second)."""

    node_monitor_period: float = 5.0
    node_monitor_grace_period: float = 40.0
    node_startup_grace_period: float = 60.0
    node_eviction_rate: float = 0.1
    secondary_node_eviction_rate: float = 0.01
    large_cluster_size_threshold: int = 50
    unhealthy_zone_threshold: float = 0.55
    tainting_period: float = 0.1
    workers: int = 4

    def __post_init__(self) -> None:
        for name in ("node_monitor_period", "node_monitor_grace_period", "node_startup_grace_period"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if self.tainting_period <= 0:
            raise ValueError("tainting_period must be greater than zero")
        if self.node_eviction_rate < 0 or self.secondary_node_eviction_rate < 0:
            raise ValueError("eviction rates must not be negative")
        if not 0 < self.unhealthy_zone_threshold <= 1:
            raise ValueError("unhealthy_zone_threshold must be in (0, 1]")
        if self.large_cluster_size_threshold < 0:
            raise ValueError("large_cluster_size_threshold must not be negative")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _status(cond: Mapping[str, Any] | None) -> str:
    return str((cond or {}).get("status") or "")


class NodeLifecycleController(runnable.Runnable):
    """Watches Nodes, Leases and Pods; keeps node conditions honest and the lifecycle taints current."""

    task_name = "node-lifecycle-controller"

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: NodeLifecycleControllerConfig,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informers: informer_mod.SharedInformerFactory | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self._owns_factory = informers is None
        self._factory = informers or informer_mod.SharedInformerFactory(api, clock=clock)
        self._node_client = api.resource("v1", "nodes")
        self._pod_client = api.resource("v1", "pods")
        self.nodes = self._factory.informer("v1", "nodes")
        self.leases = self._factory.informer("coordination.k8s.io/v1", "leases", namespace=LEASE_NAMESPACE)
        self.pods = self._factory.informer("v1", "pods")
        if cache.NODE_NAME_INDEX not in self.pods.indexer.get_indexers():
            self.pods.indexer.add_indexers({cache.NODE_NAME_INDEX: cache.index_by_node_name})
        self.recorder = events.EventRecorder(api, component=COMPONENT, clock=clock)
        self.node_worker = QueueWorker(
            self.sync_node, name="node_lifecycle_controller", kind="Node", workers=config.workers, clock=clock
        )
        self.pod_worker = QueueWorker(
            self.sync_pod,
            name="node_lifecycle_controller_pods",
            kind="Pod",
            workers=config.workers,
            clock=clock,
        )
        self.health: dict[str, health_mod.NodeHealth] = {}
        self.known_nodes: dict[str, dict[str, Any]] = {}
        self.zone_states: dict[str, str] = {}
        self.zone_tainters: dict[str, zones.RateLimitedTimedQueue] = {}
        self._nodes_to_retry: set[str] = set()
        self.nodes.add_event_handler(
            on_add=lambda node: self.node_worker.enqueue(_name(node)),
            on_update=lambda old, new: self.node_worker.enqueue(_name(new)),
        )
        self.pods.add_event_handler(
            on_add=lambda pod: self._pod_updated(None, pod),
            on_update=self._pod_updated,
        )

    # -- running --------------------------------------------------------------------------------

    async def _run(self) -> None:
        log.info("starting node lifecycle controller")
        self._factory.start()
        self.recorder.start()
        try:
            for inf in (self.nodes, self.leases, self.pods):
                await inf.wait_for_sync()
            async with asyncio.TaskGroup() as group:
                group.create_task(self.node_worker.run())
                group.create_task(self.pod_worker.run())
                group.create_task(
                    every(
                        self.config.node_monitor_period,
                        self.monitor_node_health,
                        clock=self.clock,
                        name="monitorNodeHealth",
                    )
                )
                group.create_task(
                    every(
                        self.config.tainting_period,
                        self.do_no_execute_tainting_pass,
                        clock=self.clock,
                        name="doNoExecuteTaintingPass",
                    )
                )
        finally:
            self.node_worker.shutdown()
            self.pod_worker.shutdown()
            with contextlib.suppress(Exception):
                await self.recorder.stop()
            if self._owns_factory:
                await self._factory.stop()
            log.info("shutting down node lifecycle controller")

    # -- handlers -------------------------------------------------------------------------------

    def _pod_updated(self, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> None:
        node_name = (new.get("spec") or {}).get("nodeName")
        if node_name and (old is None or (old.get("spec") or {}).get("nodeName") != node_name):
            self.pod_worker.enqueue(cache.meta_namespace_key(new))

    # -- NoSchedule condition taints ------------------------------------------------------------

    async def sync_node(self, name: str) -> None:
        """The condition taints and label reconciliation of one node (upstream ``doNodeProcessingWorker``)."""
        node = self.nodes.indexer.get(name)
        if node is None:
            return
        try:
            await self.do_no_schedule_tainting_pass(node)
            await writes.reconcile_node_labels(self._node_client, node)
        except errors.NotFound:
            return

    async def do_no_schedule_tainting_pass(self, node: Mapping[str, Any]) -> None:
        wanted = node_taints.condition_taints(node)
        current = node_taints.controlled_no_schedule_taints(node)
        to_add, to_remove = node_taints.taint_set_diff(wanted, current)
        if to_add or to_remove:
            await writes.swap_node_taints(
                self._node_client, node, add=to_add, remove=to_remove, clock=self.clock
            )

    # -- pods on not-ready nodes ----------------------------------------------------------------

    async def sync_pod(self, key: str) -> None:
        """A pod newly bound to a node the controller knows is not Ready goes NotReady (``processPod``)."""
        pod = self.pods.indexer.get(key)
        if pod is None:
            return
        node_name = str((pod.get("spec") or {}).get("nodeName") or "")
        saved = self.health.get(node_name)
        if saved is None:
            return
        if self.nodes.indexer.get(node_name) is None:
            raise LookupError(f"node {node_name!r} of pod {key} is not in the cache yet")
        if saved.ready_condition is None or _status(saved.ready_condition) == "True":
            return
        failures = await writes.mark_pods_not_ready(
            self._pod_client, [pod], node_name=node_name, recorder=self.recorder, clock=self.clock
        )
        if failures:
            raise failures[0]

    # -- health monitoring ----------------------------------------------------------------------

    async def monitor_node_health(self) -> None:
        """One health pass over every cached node (upstream ``monitorNodeHealth``)."""
        nodes = self.nodes.indexer.list()
        added, deleted, new_zone_nodes = self._classify_nodes(nodes)
        for node in new_zone_nodes:
            self._add_zone(node)
        for node in added:
            name = _name(node)
            log.info("node lifecycle controller observed a new Node %s", name)
            self.recorder.event(
                writes.node_event_ref(node),
                events.EVENT_TYPE_NORMAL,
                EVENT_REGISTERED_NODE,
                MSG_REGISTERED_NODE.format(name=name),
            )
            self.known_nodes[name] = node
            self._add_zone(node)
            await self._mark_node_as_reachable(node)
            if self.recorder.pending >= EVENT_BACKLOG_LIMIT:
                await self.recorder.flush()
        for node in deleted:
            name = _name(node)
            log.info("node lifecycle controller observed a Node deletion: %s", name)
            self.recorder.event(
                writes.node_event_ref(node),
                events.EVENT_TYPE_NORMAL,
                EVENT_REMOVING_NODE,
                MSG_REMOVING_NODE.format(name=name),
            )
            self.known_nodes.pop(name, None)
            self.health.pop(name, None)
            self._nodes_to_retry.discard(name)
            for tainter in self.zone_tainters.values():
                tainter.remove(name)

        zone_conditions: dict[str, list[Mapping[str, Any] | None]] = {}
        for cached in nodes:
            outcome = await self._update_node_health(cached)
            if outcome is None:
                continue
            node, observed, current = outcome
            name = _name(node)
            if LABEL_EXCLUDE_DISRUPTION not in ((node.get("metadata") or {}).get("labels") or {}):
                zone_conditions.setdefault(zones.zone_key(node), []).append(current)
            if current is not None:
                await self._process_taint_based_eviction(node, observed)
                became_not_ready = _status(current) != "True" and _status(observed) == "True"
                if became_not_ready:
                    writes.record_node_status_change(self.recorder, node, writes.EVENT_NODE_NOT_READY)
                if became_not_ready or (name in self._nodes_to_retry and _status(observed) != "True"):
                    pods = self.pods.indexer.by_index(cache.NODE_NAME_INDEX, name)
                    failures = await writes.mark_pods_not_ready(
                        self._pod_client, pods, node_name=name, recorder=self.recorder, clock=self.clock
                    )
                    if failures:
                        log.warning(
                            "unable to mark all pods NotReady on node %s: %s; will retry", name, failures[0]
                        )
                        self._nodes_to_retry.add(name)
                        continue
            self._nodes_to_retry.discard(name)
        await self._handle_disruption(zone_conditions, nodes)

    def _classify_nodes(
        self, nodes: Sequence[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        added = [n for n in nodes if _name(n) not in self.known_nodes]
        new_zone = [
            n for n in nodes if _name(n) in self.known_nodes and zones.zone_key(n) not in self.zone_states
        ]
        present = {_name(n) for n in nodes}
        deleted = [n for name, n in self.known_nodes.items() if name not in present]
        return added, deleted, new_zone

    async def _update_node_health(
        self, node: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None] | None:
        """``(node, observed Ready, current Ready)`` after writing Unknown conditions if needed; None on failure."""
        name = _name(node)
        for _ in range(NODE_HEALTH_UPDATE_RETRY):
            result = health_mod.observe(
                node,
                lease=self.leases.indexer.get(f"{LEASE_NAMESPACE}/{name}"),
                saved=self.health.get(name),
                now=self.clock.now(),
                grace_period=self.config.node_monitor_grace_period,
                startup_grace_period=self.config.node_startup_grace_period,
            )
            self.health[name] = result.health
            if result.status_to_write is None:
                return node, result.observed_ready, result.current_ready
            body = copy.deepcopy(node)
            body["status"] = result.status_to_write
            try:
                written = await self._node_client.update_status(body)
            except errors.NotFound:
                return None
            except ApiFailure as exc:
                log.info("updating the health of node %s failed (%s); retrying with a fresh copy", name, exc)
                try:
                    node = await self._node_client.get(name)
                except ApiFailure:
                    return None
                continue
            log.info(
                "node %s: kubelet silent for longer than %ss; conditions set Unknown",
                name,
                result.grace_period,
            )
            self.health[name] = health_mod.after_status_write(result, written=written, now=self.clock.now())
            return written, result.observed_ready, result.current_ready
        log.error("could not update the health of node %s; no pods will be evicted this pass", name)
        return None

    # -- NoExecute taints -----------------------------------------------------------------------

    async def _process_taint_based_eviction(
        self, node: Mapping[str, Any], observed: Mapping[str, Any]
    ) -> None:
        node_taint_list = (node.get("spec") or {}).get("taints")
        status = _status(observed)
        swap: tuple[Mapping[str, str], Mapping[str, str]] | None = None
        if status == "False":
            swap = (node_taints.NOT_READY_TAINT, node_taints.UNREACHABLE_TAINT)
        elif status == "Unknown":
            swap = (node_taints.UNREACHABLE_TAINT, node_taints.NOT_READY_TAINT)
        elif status == "True":
            await self._mark_node_as_reachable(node)
            return
        if swap is None:
            return
        wanted, opposite = swap
        if node_taints.taint_exists(node_taint_list, opposite):
            # The node already has the other NoExecute taint: swap at once, no rate limiting.
            try:
                await writes.swap_node_taints(
                    self._node_client, node, add=[wanted], remove=[opposite], clock=self.clock
                )
            except ApiFailure as exc:
                log.error(
                    "failed to swap %s for %s on node %s: %s",
                    opposite["key"],
                    wanted["key"],
                    _name(node),
                    exc,
                )
            return
        tainter = self._tainter(node)
        if not node_taints.taint_exists(node_taint_list, wanted):
            tainter.remove(_name(node))
        if tainter.add(_name(node), str((node.get("metadata") or {}).get("uid") or "")):
            log.info(
                "node %s is %s; queued for NoExecute tainting",
                _name(node),
                "NotReady" if status == "False" else "unreachable",
            )

    async def _mark_node_as_reachable(self, node: Mapping[str, Any]) -> bool:
        """Remove both NoExecute lifecycle taints and forget any queued tainting."""
        node_taint_list = (node.get("spec") or {}).get("taints")
        remove = [
            t
            for t in (node_taints.UNREACHABLE_TAINT, node_taints.NOT_READY_TAINT)
            if node_taints.taint_exists(node_taint_list, t)
        ]
        if remove:
            try:
                await writes.swap_node_taints(self._node_client, node, remove=remove, clock=self.clock)
            except errors.NotFound:
                pass
            except ApiFailure as exc:
                log.error("failed to remove NoExecute taints from node %s: %s", _name(node), exc)
                return False
        return self._tainter(node).remove(_name(node))

    def _tainter(self, node: Mapping[str, Any]) -> zones.RateLimitedTimedQueue:
        self._add_zone(node)
        return self.zone_tainters[zones.zone_key(node)]

    def _add_zone(self, node: Mapping[str, Any]) -> None:
        self._ensure_zone(zones.zone_key(node))

    def _ensure_zone(self, zone: str) -> None:
        # Tainters outlive their zone's state, as upstream's: a zone that empties and refills keeps its queue.
        if zone not in self.zone_states:
            self.zone_states[zone] = zones.STATE_INITIAL
        if zone not in self.zone_tainters:
            self.zone_tainters[zone] = zones.RateLimitedTimedQueue(
                self.config.node_eviction_rate, clock=self.clock
            )

    async def do_no_execute_tainting_pass(self) -> None:
        """Add the queued NoExecute taints each zone's rate allows (upstream ``doNoExecuteTaintingPass``)."""
        for zone in list(self.zone_tainters):
            await self.zone_tainters[zone].try_process(self._taint_queued_node)

    async def _taint_queued_node(self, item: zones.TimedValue) -> tuple[bool, float]:
        node = self.nodes.indexer.get(item.value)
        if node is None:
            return True, 0.0
        ready = node_taints.get_node_condition(node, node_taints.CONDITION_READY)
        if ready is None:
            return False, RETRY_NO_READY_CONDITION
        if _status(ready) == "False":
            wanted, opposite = node_taints.NOT_READY_TAINT, node_taints.UNREACHABLE_TAINT
        elif _status(ready) == "Unknown":
            wanted, opposite = node_taints.UNREACHABLE_TAINT, node_taints.NOT_READY_TAINT
        else:
            return True, 0.0
        try:
            await writes.swap_node_taints(
                self._node_client, node, add=[wanted], remove=[opposite], clock=self.clock
            )
        except errors.NotFound:
            return True, 0.0
        except ApiFailure as exc:
            log.warning("failed to taint node %s with %s: %s", item.value, wanted["key"], exc)
            return False, 0.0
        log.info("node %s tainted %s:NoExecute", item.value, wanted["key"])
        return True, 0.0

    # -- zone disruption ------------------------------------------------------------------------

    def _reduced_qps(self, zone_size: int) -> float:
        if zone_size > self.config.large_cluster_size_threshold:
            return self.config.secondary_node_eviction_rate
        return 0.0

    def _set_limiter_in_zone(self, zone: str, zone_size: int, state: str) -> None:
        tainter = self.zone_tainters[zone]
        if state == zones.STATE_PARTIAL_DISRUPTION:
            tainter.swap_limiter(self._reduced_qps(zone_size))
        elif state in (zones.STATE_NORMAL, zones.STATE_FULL_DISRUPTION):
            tainter.swap_limiter(self.config.node_eviction_rate)

    async def _handle_disruption(
        self, zone_conditions: Mapping[str, list[Mapping[str, Any] | None]], nodes: Sequence[dict[str, Any]]
    ) -> None:
        """Per-zone tainting rates from the zones' states (upstream ``handleDisruption``)."""
        new_states: dict[str, str] = {}
        all_fully_disrupted = True
        for zone, conditions in zone_conditions.items():
            _, state = zones.compute_zone_state(
                conditions, unhealthy_zone_threshold=self.config.unhealthy_zone_threshold
            )
            if state != zones.STATE_FULL_DISRUPTION:
                all_fully_disrupted = False
            new_states[zone] = state
            self._ensure_zone(zone)
        all_were_fully_disrupted = True
        for zone in list(self.zone_states):
            if zone not in zone_conditions:
                del self.zone_states[zone]
                continue
            if self.zone_states[zone] != zones.STATE_FULL_DISRUPTION:
                all_were_fully_disrupted = False
                break
        if all_fully_disrupted and all_were_fully_disrupted:
            return
        if all_fully_disrupted:
            log.info("node lifecycle controller: every Node is not-Ready; entering master disruption mode")
            for node in nodes:
                await self._mark_node_as_reachable(node)
            for zone in self.zone_states:
                self.zone_tainters[zone].swap_limiter(0.0)
                self.zone_states[zone] = zones.STATE_FULL_DISRUPTION
            return
        if all_were_fully_disrupted:
            log.info("node lifecycle controller: some Nodes are Ready; exiting master disruption mode")
            now = self.clock.now()
            for node in nodes:
                saved = self.health.get(_name(node))
                if saved is not None:
                    saved.probe_timestamp = now
                    saved.ready_transition_timestamp = now
            for zone in self.zone_states:
                self._set_limiter_in_zone(
                    zone, len(zone_conditions.get(zone, ())), new_states.get(zone, zones.STATE_NORMAL)
                )
                self.zone_states[zone] = new_states.get(zone, zones.STATE_NORMAL)
            return
        for zone, state in list(self.zone_states.items()):
            new_state = new_states.get(zone, state)
            if state == new_state:
                continue
            log.info("node lifecycle controller: zone %r is now in state %s", zone, new_state)
            self._set_limiter_in_zone(zone, len(zone_conditions.get(zone, ())), new_state)
            self.zone_states[zone] = new_state
