"""The scheduler component: informers, the scheduling queue and cache, one scheduling loop, async binding.

Mirrors upstream ``pkg/scheduler`` (v1.34): ``scheduler.go`` (wiring), ``eventhandlers.go`` (what
each Node and Pod event does), ``schedule_one.go`` (``ScheduleOne``, ``schedulingCycle``,
``bindingCycle``, ``handleSchedulingFailure``, ``updatePod``, ``truncateMessage``) and the
DefaultBinder plugin. The decision itself is :func:`kubeds.scheduler.framework.schedule_pod`.

Events (upstream ``addAllEventHandlers``):

* Pods are watched with ``status.phase!=Succeeded,status.phase!=Failed``. A pod with no
  ``spec.nodeName`` whose ``schedulerName`` is ours (or empty) goes to the
  :class:`~kubeds.scheduler.queue.SchedulingQueue`; an assigned pod goes to the
  :class:`~kubeds.scheduler.cache.SchedulerCache` (confirming it if it was assumed). A pod that moves
  from one group to the other (it got bound, or turned terminal) leaves one and joins the other, as
  upstream's ``FilteringResourceEventHandler`` does. Deleting an assigned pod frees room: the
  ``AssignedPodDelete`` event moves unschedulable pods back.
* Nodes feed the cache; an added node, or a change to labels, taints, ``spec.unschedulable``,
  allocatable or condition statuses, is a cluster event for the queue (heartbeats are not).

One scheduling cycle (:meth:`Scheduler.schedule_one`) runs without awaiting, so it sees one
consistent cache: skip deleted and already-assumed pods; pick a host; *assume* the pod on it; then
bind in a background task (``POST pods/{name}/binding``, upstream's binding goroutine), so the loop
goes on with the next pod at once. A pod whose required node affinity names nodes through
``matchFields metadata.name`` (DaemonSet pods) is evaluated only on those nodes, looked up by name
rather than scanned (the PreFilter result and the cycle state are computed once per cycle, and the
assume reuses the state's requests and ports); only if none fits is the full node list used, to word the message as upstream
(the other nodes count as "didn't satisfy plugin(s) [NodeAffinity]").

On failure (:meth:`Scheduler._handle_failure`): the latest cached copy goes back to the queue
(unless it was deleted or got a node meanwhile); a ``FailedScheduling`` Warning event carries the
FitError message (truncated to 1024 characters); the pod's ``PodScheduled`` condition becomes False with
reason ``Unschedulable`` (``SchedulerError`` for errors such as a failed binding) and the untruncated
message, by a strategic-merge patch of ``pods/status``, skipped when nothing changed
(``UpdatePodCondition``). A successful binding records ``Scheduled`` "Successfully assigned
ns/pod to node". Not modelled: preemption (evicting victims and setting ``nominatedNodeName``;
the preemption *message* is upstream's), multiple profiles, extenders, metrics.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.machinery import events as events_mod, informer as informer_mod
from kubeds.scheduler import cache as cache_mod, framework, queue as queue_mod
from kubeds.scheduler.plugins import nodeaffinity
from kubeds.scheduler.plugins.podresources import pod_requests

__all__ = [
    "DEFAULT_SCHEDULER_NAME",
    "REASON_FAILED_SCHEDULING",
    "REASON_SCHEDULED",
    "Scheduler",
    "SchedulerConfig",
    "SchedulerStats",
    "pod_scheduled_condition_patch",
    "truncate_message",
]

log = logging.getLogger(__name__)

DEFAULT_SCHEDULER_NAME = "default-scheduler"
NON_TERMINAL_PODS = "status.phase!=Succeeded,status.phase!=Failed"
TERMINAL_PHASES = ("Succeeded", "Failed")
REASON_SCHEDULED = "Scheduled"
REASON_FAILED_SCHEDULING = "FailedScheduling"
MSG_SCHEDULED = "Successfully assigned {namespace}/{name} to {node}"
MSG_SKIP_DELETING = "skip schedule deleting pod: {namespace}/{name}"
POD_SCHEDULED = "PodScheduled"
POD_REASON_UNSCHEDULABLE = "Unschedulable"
POD_REASON_SCHEDULER_ERROR = "SchedulerError"
NOTE_LENGTH_LIMIT = 1024
TRUNCATE_SUFFIX = " ..."
MSG_BAD_PERCENTAGE = "percentage_of_nodes_to_score must be between 0 and 100, got {value}"
MSG_BAD_BACKOFF = "pod backoff must satisfy 0 < initial <= max, got {initial} and {maximum}"
MSG_EMPTY_NAME = "scheduler_name must not be empty"


@dataclass(frozen=True)
class SchedulerConfig:
    """The scheduler's settings (upstream ``KubeSchedulerConfiguration``, one profile)."""

    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    percentage_of_nodes_to_score: int = 0
    seed: int | None = None
    pod_initial_backoff_seconds: float = queue_mod.DEFAULT_POD_INITIAL_BACKOFF_SECONDS
    pod_max_backoff_seconds: float = queue_mod.DEFAULT_POD_MAX_BACKOFF_SECONDS
    pod_max_in_unschedulable_seconds: float = queue_mod.DEFAULT_POD_MAX_IN_UNSCHEDULABLE_SECONDS

    def __post_init__(self) -> None:
        if not self.scheduler_name:
            raise ValueError(MSG_EMPTY_NAME)
        if not 0 <= self.percentage_of_nodes_to_score <= 100:
            raise ValueError(MSG_BAD_PERCENTAGE.format(value=self.percentage_of_nodes_to_score))
        if not 0 < self.pod_initial_backoff_seconds <= self.pod_max_backoff_seconds:
            raise ValueError(
                MSG_BAD_BACKOFF.format(
                    initial=self.pod_initial_backoff_seconds, maximum=self.pod_max_backoff_seconds
                )
            )


@dataclass
class SchedulerStats:
    """Counters for tests, logs and the benchmark."""

    attempts: int = 0
    bound: int = 0
    unschedulable: int = 0
    errors: int = 0
    evaluated_nodes: int = 0


def truncate_message(message: str) -> str:
    """Upstream ``truncateMessage``: at most 1024 characters, cut ones ending in ``" ..."``."""
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    return message[: NOTE_LENGTH_LIMIT - len(TRUNCATE_SUFFIX)] + TRUNCATE_SUFFIX


def pod_scheduled_condition_patch(
    pod: Mapping[str, Any], *, reason: str, message: str, now: str
) -> dict[str, Any] | None:
    """The status patch setting ``PodScheduled=False`` (upstream ``UpdatePodCondition``), None if unchanged.

    The transition time is kept when the status does not change.
    """
    status = pod.get("status") or {}
    old = next((c for c in status.get("conditions") or [] if c.get("type") == POD_SCHEDULED), None)
    condition: dict[str, Any] = {
        "type": POD_SCHEDULED,
        "status": "False",
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }
    generation = (pod.get("metadata") or {}).get("generation")
    if generation:
        condition["observedGeneration"] = generation
    if old is not None:
        if old.get("status") == "False":
            condition["lastTransitionTime"] = old.get("lastTransitionTime")
        if all(old.get(k) == condition[k] for k in condition):
            return None
    return {"status": {"conditions": [condition]}}


def _spec(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("spec") or {}


def _meta(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("metadata") or {}


def _is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def _is_assigned(pod: Mapping[str, Any]) -> bool:
    return bool(_spec(pod).get("nodeName")) and not _is_terminal(pod)


def _requests_decreased(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    before, after = pod_requests(old), pod_requests(new)
    return any(after.get(name, 0) < amount for name, amount in before.items())


class Scheduler:
    """Places pods on nodes; see the module docstring."""

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: SchedulerConfig | None = None,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
    ) -> None:
        self.api = api
        self.config = config or SchedulerConfig()
        self._clock = clock
        self._rng = random.Random(self.config.seed)
        self._pods = api.resource("v1", "pods")
        self.cache = cache_mod.SchedulerCache()
        self.queue = queue_mod.SchedulingQueue(
            clock=clock,
            pod_initial_backoff_seconds=self.config.pod_initial_backoff_seconds,
            pod_max_backoff_seconds=self.config.pod_max_backoff_seconds,
            pod_max_in_unschedulable_seconds=self.config.pod_max_in_unschedulable_seconds,
        )
        self._factory = informer_mod.SharedInformerFactory(
            api, clock=clock, rng=random.Random(self._rng.random())
        )
        self.node_informer = self._factory.informer("v1", "nodes")
        self.pod_informer = self._factory.informer("v1", "pods", field_selector=NON_TERMINAL_PODS)
        self.recorder = events_mod.EventRecorder(
            api, component=self.config.scheduler_name, clock=clock, rng=random.Random(self._rng.random())
        )
        self.stats = SchedulerStats()
        self._next_start_node_index = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._synced = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False
        self._stopping = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch, then schedule until :meth:`stop` (or cancellation)."""
        if self._running:
            raise RuntimeError("scheduler is already running")
        self._running = True
        self._done.clear()
        self.recorder.start()
        self.node_informer.add_event_handler(
            on_add=self._on_node_add, on_update=self._on_node_update, on_delete=self._on_node_delete
        )
        self.pod_informer.add_event_handler(
            on_add=self._on_pod_add, on_update=self._on_pod_update, on_delete=self._on_pod_delete
        )
        self._factory.start()
        flush: asyncio.Task[None] | None = None
        try:
            if not await self._wait_for_sync_or_stop():
                return
            self._synced.set()
            flush = asyncio.get_running_loop().create_task(self.queue.run(), name="scheduler:flush")
            await self._schedule_loop()
        finally:
            self.queue.close()
            if flush is not None:
                flush.cancel()
                await asyncio.gather(flush, return_exceptions=True)
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._factory.stop()
            await self.recorder.stop()
            self._running = False
            self._done.set()

    async def stop(self) -> None:
        """Stop scheduling; in-flight bindings finish; returns once :meth:`run` has ended."""
        self._stopping.set()
        self.queue.close()
        if self._running:
            await self._done.wait()

    async def _wait_for_sync_or_stop(self) -> bool:
        """Wait for the informers' first list; False if :meth:`stop` came first."""
        synced = asyncio.ensure_future(self._factory.wait_for_cache_sync())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait((synced, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (synced, stopping):
                fut.cancel()
            await asyncio.gather(synced, stopping, return_exceptions=True)
        return not self._stopping.is_set()

    async def wait_for_sync(self) -> None:
        """Until the node and pod informers have listed (scheduling starts then)."""
        await self._synced.wait()

    async def flush_events(self) -> None:
        """Until queued Events are written (tests)."""
        await self.recorder.flush()

    @property
    def pending_tasks(self) -> int:
        """Bindings and status patches still in flight."""
        return len(self._tasks)

    def _spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- event handlers (eventhandlers.go) ------------------------------------------------------

    def _responsible_for(self, pod: Mapping[str, Any]) -> bool:
        return str(_spec(pod).get("schedulerName") or "") in ("", self.config.scheduler_name)

    def _is_queued_kind(self, pod: Mapping[str, Any]) -> bool:
        return not _spec(pod).get("nodeName") and not _is_terminal(pod) and self._responsible_for(pod)

    def _on_pod_add(self, pod: dict[str, Any]) -> None:
        if _is_assigned(pod):
            self.cache.add_pod(pod)
        elif self._is_queued_kind(pod):
            self.queue.add(pod)

    def _on_pod_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if _meta(old).get("uid") != _meta(new).get("uid"):
            self._on_pod_delete(old)
            self._on_pod_add(new)
            return
        if _meta(old).get("resourceVersion") == _meta(new).get("resourceVersion"):
            return
        old_assigned, new_assigned = _is_assigned(old), _is_assigned(new)
        if old_assigned and new_assigned:
            self.cache.update_pod(old, new)
            if self.queue.has_unschedulable_pods() and _requests_decreased(old, new):
                self.queue.move_all_to_active_or_backoff(queue_mod.ASSIGNED_POD_UPDATE)
        elif old_assigned:
            self.cache.remove_pod(old)
            self.queue.move_all_to_active_or_backoff(queue_mod.ASSIGNED_POD_DELETE)
        elif new_assigned:
            self.cache.add_pod(new)
        old_queued, new_queued = self._is_queued_kind(old), self._is_queued_kind(new)
        if old_queued and new_queued:
            if not self.cache.is_assumed_pod(new):
                self.queue.update(old, new)
        elif old_queued:
            self.queue.delete(old)
        elif new_queued:
            self.queue.add(new)

    def _on_pod_delete(self, pod: dict[str, Any]) -> None:
        if _spec(pod).get("nodeName"):
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff(queue_mod.ASSIGNED_POD_DELETE)
        else:
            # An assumed pod deleted before its binding landed is forgotten when the binding fails.
            self.queue.delete(pod)

    def _on_node_add(self, node: dict[str, Any]) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff(queue_mod.NODE_ADD)

    def _on_node_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.cache.update_node(new)
        if not self.queue.has_unschedulable_pods():
            return
        for event in queue_mod.node_scheduling_events(old, new):
            self.queue.move_all_to_active_or_backoff(event)

    def _on_node_delete(self, node: dict[str, Any]) -> None:
        self.cache.remove_node(node)

    # -- scheduling (schedule_one.go) -----------------------------------------------------------

    async def _schedule_loop(self) -> None:
        while True:
            try:
                info = await self.queue.pop()
            except queue_mod.QueueClosed:
                return
            try:
                self.schedule_one(info)
            except Exception as exc:
                log.exception("scheduling pod %s failed unexpectedly", info.key)
                self._handle_failure(info, str(exc), reason=POD_REASON_SCHEDULER_ERROR)
            # Let bindings, status patches and informers run between cycles (upstream runs them
            # in parallel goroutines).
            await asyncio.sleep(0)

    def schedule_one(self, info: queue_mod.QueuedPodInfo) -> None:
        """One scheduling cycle for a popped pod; binding continues in a background task."""
        pod = info.pod
        meta = _meta(pod)
        if meta.get("deletionTimestamp"):
            message = MSG_SKIP_DELETING.format(namespace=meta.get("namespace"), name=meta.get("name"))
            self.recorder.event(pod, events_mod.EVENT_TYPE_WARNING, REASON_FAILED_SCHEDULING, message)
            return
        if self.cache.is_assumed_pod(pod):
            return
        self.stats.attempts += 1
        result = self.find_host(pod)
        self.stats.evaluated_nodes += result.evaluated_nodes
        if result.node_name is None:
            self.stats.unschedulable += 1
            info.unschedulable_plugins = result.unschedulable_plugins
            self._handle_failure(info, result.message, reason=POD_REASON_UNSCHEDULABLE)
            return
        assumed = {**pod, "spec": {**_spec(pod), "nodeName": result.node_name}}
        try:
            self.cache.assume_pod(assumed, state=result.state)
        except cache_mod.CacheError as exc:
            self.stats.errors += 1
            self._handle_failure(info, str(exc), reason=POD_REASON_SCHEDULER_ERROR)
            return
        self._spawn(
            self._bind(info, assumed, result.node_name, cycle=self.queue.scheduling_cycle),
            name=f"bind:{info.key}",
        )

    def find_host(self, pod: Mapping[str, Any]) -> framework.ScheduleResult:
        """Run the framework on the cache; DaemonSet-style pods only on their named nodes."""
        all_nodes = self.cache.node_infos()
        pre = nodeaffinity.pre_filter(pod)
        state = framework.CycleState.of(pod)
        if all_nodes and pre.status is None and pre.node_names is not None:
            names = pre.node_names
            named: Sequence[framework.NodeInfo] = [
                info
                for name in (names if len(names) == 1 else sorted(names))
                if (info := self.cache.get(name)) is not None
            ]
            if named:
                result = self._run_framework(pod, named, num_all=len(all_nodes), pre=pre, state=state)
                if result.node_name is not None:
                    return result
        return self._run_framework(pod, all_nodes, num_all=len(all_nodes), pre=pre, state=state)

    def _run_framework(
        self,
        pod: Mapping[str, Any],
        nodes: Sequence[framework.NodeInfo],
        *,
        num_all: int,
        pre: nodeaffinity.PreFilterResult,
        state: framework.CycleState,
    ) -> framework.ScheduleResult:
        result = framework.schedule_pod(
            pod,
            nodes,
            percentage_of_nodes_to_score=self.config.percentage_of_nodes_to_score,
            rng=self._rng,
            start_index=self._next_start_node_index,
            pre=pre,
            state=state,
        )
        if num_all:
            self._next_start_node_index = (self._next_start_node_index + result.evaluated_nodes) % num_all
        return result

    async def _bind(
        self, info: queue_mod.QueuedPodInfo, assumed: dict[str, Any], node: str, *, cycle: int
    ) -> None:
        meta = _meta(assumed)
        name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace, "uid": meta.get("uid")},
            "target": {"kind": "Node", "name": node},
        }
        try:
            await self._pods.create_subresource(name, "binding", binding, namespace=namespace)
        except (errors.ApiError, errors.TransportError) as exc:
            self.cache.finish_binding(assumed)
            self._binding_failed(info, assumed, exc, cycle=cycle)
            return
        self.cache.finish_binding(assumed)
        self.stats.bound += 1
        message = MSG_SCHEDULED.format(namespace=namespace, name=name, node=node)
        self.recorder.event(assumed, events_mod.EVENT_TYPE_NORMAL, REASON_SCHEDULED, message)

    def _binding_failed(
        self, info: queue_mod.QueuedPodInfo, assumed: dict[str, Any], exc: Exception, *, cycle: int
    ) -> None:
        self.stats.errors += 1
        log.info("binding pod %s failed: %s", info.key, exc)
        if self.cache.is_assumed_pod(assumed):
            try:
                self.cache.forget_pod(assumed)
            except cache_mod.CacheError as forget_exc:
                log.warning("scheduler cache forget_pod failed: %s", forget_exc)
            # Forgetting an assumed pod frees what it held: an AssignedPodDelete for the others.
            uid = cache_mod.pod_uid(assumed)
            self.queue.move_all_to_active_or_backoff(
                queue_mod.ASSIGNED_POD_DELETE, pre_check=lambda p: cache_mod.pod_uid(p) != uid
            )
        info.unschedulable_plugins = frozenset()
        message = exc.message if isinstance(exc, errors.ApiError) else str(exc)
        self._handle_failure(info, message, reason=POD_REASON_SCHEDULER_ERROR, cycle=cycle)

    def _handle_failure(
        self,
        info: queue_mod.QueuedPodInfo,
        message: str,
        *,
        reason: str,
        cycle: int | None = None,
    ) -> None:
        """Requeue, record FailedScheduling and set PodScheduled=False (``handleSchedulingFailure``)."""
        pod = info.pod
        latest = self.pod_informer.indexer.get_by_key(info.key)
        if latest is None:
            log.info("pod %s doesn't exist in informer cache", info.key)
        elif _spec(latest).get("nodeName"):
            log.info("pod %s has been assigned to node %s; not requeued", info.key, _spec(latest)["nodeName"])
        else:
            info.pod = latest
            try:
                self.queue.add_unschedulable_if_not_present(
                    info, pod_scheduling_cycle=self.queue.scheduling_cycle if cycle is None else cycle
                )
            except ValueError as exc:
                log.debug("%s", exc)
        self.recorder.event(
            pod, events_mod.EVENT_TYPE_WARNING, REASON_FAILED_SCHEDULING, truncate_message(message)
        )
        if latest is not None and not _spec(latest).get("nodeName"):
            self._spawn(
                self._update_condition(latest, reason=reason, message=message), name=f"status:{info.key}"
            )

    async def _update_condition(self, pod: Mapping[str, Any], *, reason: str, message: str) -> None:
        patch = pod_scheduled_condition_patch(
            pod, reason=reason, message=message, now=clock_mod.format_time(self._clock.now())
        )
        if patch is None:
            return
        meta = _meta(pod)
        try:
            await self._pods.patch(
                str(meta.get("name")),
                patch,
                namespace=str(meta.get("namespace") or ""),
                patch_type="strategic",
                subresource="status",
            )
        except errors.NotFound:
            return
        except (errors.ApiError, errors.TransportError) as exc:
            log.warning("updating pod %s condition failed: %s", meta.get("name"), exc)
