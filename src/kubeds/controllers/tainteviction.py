"""Taint-based eviction: delete pods from nodes whose NoExecute taints they do not tolerate (long enough).

Mirrors upstream ``pkg/controller/tainteviction/taint_eviction.go`` and ``timed_workers.go``:

* Node events whose NoExecute taints changed enqueue the node; pod events whose ``nodeName`` or
  tolerations changed (or add/delete) enqueue the pod. The node worker records the node's NoExecute
  taints and re-judges every pod on it; the pod worker re-judges one pod against its node's recorded
  taints. Judging (``processPodOnNode``), with the matching of :func:`kubeds.models.taints.get_matching_tolerations`:

  - no NoExecute taint left: cancel any scheduled eviction;
  - a taint no toleration matches: delete now;
  - otherwise the smallest ``tolerationSeconds`` among the tolerations used (any ``<= 0``: now); none
    set: tolerated forever, cancel any scheduled eviction; else schedule deletion that many seconds
    from now. An eviction already scheduled no later than that is kept, so its timer keeps running
    from when it was first scheduled (upstream compares with ``Before``; on a fake clock two passes can
    share an instant, hence ``<=`` here).
* Scheduled evictions live in :class:`TimedWorkerQueue` (one timer task per pod on the injected
  clock). Firing records ``TaintManagerEviction`` "Marking for deletion Pod ns/name", sets the pod's
  ``DisruptionTarget`` condition (reason ``DeletionByTaintManager``) through ``pods/status`` and
  DELETEs it with its default grace period, retrying 5 times. A cancelled pending eviction records
  "Cancelling deletion of Pod ns/name". A fired key stays in the queue (without a timer) until the
  pod is gone, so a terminating pod is not deleted twice.

Upstream measures ``tolerationSeconds`` from when the controller observes the taint, not from the
taint's ``timeAdded``; so does this controller.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers import runnable
from kubeds.controllers.nodelifecycle.worker import QueueWorker
from kubeds.machinery import cache, events, informer as informer_mod
from kubeds.models import taints as taint_model

__all__ = [
    "TaintEvictionController",
    "TaintEvictionControllerConfig",
    "TimedWorkerQueue",
    "get_min_toleration_time",
    "get_no_execute_taints",
]

log = logging.getLogger(__name__)

COMPONENT = "taint-eviction-controller"
EVENT_TAINT_MANAGER_EVICTION = "TaintManagerEviction"
MSG_MARKING_FOR_DELETION = "Marking for deletion Pod {key}"
MSG_CANCELLING_DELETION = "Cancelling deletion of Pod {key}"
CONDITION_DISRUPTION_TARGET = "DisruptionTarget"
REASON_DELETION_BY_TAINT_MANAGER = "DeletionByTaintManager"
MSG_DELETION_BY_TAINT_MANAGER = "Taint manager: deleting due to NoExecute taint"
RETRY_SLEEP = 0.01

ApiFailure = (errors.ApiError, errors.TransportError)


@dataclasses.dataclass
class TaintEvictionControllerConfig:
    workers: int = 8
    deletion_retries: int = 5

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.deletion_retries < 1:
            raise ValueError("deletion_retries must be at least 1")


def get_no_execute_taints(taints: Sequence[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    return [t for t in taints or () if t.get("effect") == taint_model.NO_EXECUTE]


def get_min_toleration_time(tolerations: Sequence[Mapping[str, Any]]) -> float:
    """Seconds until eviction for the tolerations used: 0 for none or any ``<= 0``, -1 for forever."""
    if not tolerations:
        return 0.0
    seconds = [t.get("tolerationSeconds") for t in tolerations if t.get("tolerationSeconds") is not None]
    if not seconds:
        return -1.0
    smallest = min(int(s) for s in seconds if isinstance(s, int | float))
    return 0.0 if smallest <= 0 else float(smallest)


@dataclasses.dataclass
class _Work:
    created_at: dt.datetime
    fire_at: dt.datetime
    task: asyncio.Task[None] | None


WorkFn = Callable[[str], Awaitable[None]]


class TimedWorkerQueue:
    """Keys that run ``work_fn`` at a time on the clock, unless cancelled first (upstream ``TimedWorkerQueue``)."""

    def __init__(self, work_fn: WorkFn, *, clock: clock_mod.Clock) -> None:
        self._work_fn = work_fn
        self._clock = clock
        self._workers: dict[str, _Work] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add_work(self, key: str, *, created_at: dt.datetime, fire_at: dt.datetime) -> None:
        """Schedule ``key``; a key already present (pending or fired) is left alone."""
        if key in self._workers:
            return
        delay = (fire_at - self._clock.now()).total_seconds()
        task = asyncio.get_running_loop().create_task(self._fire(key, delay), name=f"taint-eviction:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._workers[key] = _Work(created_at=created_at, fire_at=fire_at, task=task)

    def cancel_work(self, key: str) -> bool:
        """Forget ``key``; True if an eviction was still pending."""
        work = self._workers.pop(key, None)
        if work is None or work.task is None:
            return False
        work.task.cancel()
        return True

    def get_pending(self, key: str) -> _Work | None:
        """The pending (not yet fired) work of ``key``."""
        work = self._workers.get(key)
        return work if work is not None and work.task is not None else None

    def __contains__(self, key: object) -> bool:
        return key in self._workers

    @property
    def pending(self) -> list[str]:
        return sorted(k for k, w in self._workers.items() if w.task is not None)

    async def _fire(self, key: str, delay: float) -> None:
        if delay > 0:
            await self._clock.sleep(delay)
        work = self._workers.get(key)
        if work is not None:
            # From here on the work runs to its end: cancelling it no longer counts as a cancellation.
            work.task = None
        try:
            await self._work_fn(key)
        except Exception:
            log.exception("evicting pod %s failed", key)
            if self._workers.get(key) is work:
                del self._workers[key]

    async def close(self) -> None:
        """Cancel every timer and every eviction in flight."""
        tasks = list(self._tasks)
        self._workers.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class TaintEvictionController(runnable.Runnable):
    """Deletes pods that do not tolerate their node's NoExecute taints, at once or after tolerationSeconds."""

    task_name = "taint-eviction-controller"

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: TaintEvictionControllerConfig,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informers: informer_mod.SharedInformerFactory | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self._owns_factory = informers is None
        self._factory = informers or informer_mod.SharedInformerFactory(api, clock=clock)
        self._pod_client = api.resource("v1", "pods")
        self.nodes = self._factory.informer("v1", "nodes")
        self.pods = self._factory.informer("v1", "pods")
        if cache.NODE_NAME_INDEX not in self.pods.indexer.get_indexers():
            self.pods.indexer.add_indexers({cache.NODE_NAME_INDEX: cache.index_by_node_name})
        self.recorder = events.EventRecorder(api, component=COMPONENT, clock=clock)
        self.tainted_nodes: dict[str, list[Mapping[str, Any]]] = {}
        self.eviction_queue = TimedWorkerQueue(self._delete_pod, clock=clock)
        self.node_worker = QueueWorker(
            self.handle_node_update,
            name="noexec_taint_node",
            kind="Node",
            workers=config.workers,
            clock=clock,
        )
        self.pod_worker = QueueWorker(
            self.handle_pod_update, name="noexec_taint_pod", kind="Pod", workers=config.workers, clock=clock
        )
        self.nodes.add_event_handler(
            on_add=lambda node: self.node_updated(None, node),
            on_update=self.node_updated,
            on_delete=lambda node: self.node_updated(node, None),
        )
        self.pods.add_event_handler(
            on_add=lambda pod: self.pod_updated(None, pod),
            on_update=self.pod_updated,
            on_delete=lambda pod: self.pod_updated(pod, None),
        )

    # -- running --------------------------------------------------------------------------------

    async def _run(self) -> None:
        log.info("starting taint eviction controller")
        self._factory.start()
        self.recorder.start()
        try:
            await self.nodes.wait_for_sync()
            await self.pods.wait_for_sync()
            async with asyncio.TaskGroup() as group:
                group.create_task(self.node_worker.run())
                group.create_task(self.pod_worker.run())
        finally:
            self.node_worker.shutdown()
            self.pod_worker.shutdown()
            await self.eviction_queue.close()
            with contextlib.suppress(Exception):
                await self.recorder.stop()
            if self._owns_factory:
                await self._factory.stop()
            log.info("shutting down taint eviction controller")

    # -- handlers -------------------------------------------------------------------------------

    def pod_updated(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
        """Enqueue a pod whose node or tolerations changed, or that came or went (upstream ``PodUpdated``)."""
        if old is not None and new is not None:
            old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
            if old_spec.get("nodeName") == new_spec.get("nodeName") and (
                old_spec.get("tolerations") or []
            ) == (new_spec.get("tolerations") or []):
                return
        obj = new if new is not None else old
        if obj is not None:
            self.pod_worker.enqueue(cache.meta_namespace_key(obj))

    def node_updated(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
        """Enqueue a node whose NoExecute taints changed, or that came or went (upstream ``NodeUpdated``)."""
        if old is not None and new is not None:
            old_taints = get_no_execute_taints((old.get("spec") or {}).get("taints"))
            if old_taints == get_no_execute_taints((new.get("spec") or {}).get("taints")):
                return
        obj = new if new is not None else old
        if obj is not None:
            self.node_worker.enqueue(cache.meta_namespace_key(obj))

    # -- workers --------------------------------------------------------------------------------

    async def handle_pod_update(self, key: str) -> None:
        pod = self.pods.indexer.get(key)
        if pod is None:
            self._cancel_work_with_event(key)
            return
        node_name = str((pod.get("spec") or {}).get("nodeName") or "")
        taints = self.tainted_nodes.get(node_name) if node_name else None
        if taints is None:
            # The node has no NoExecute taint (or is gone): its update already cancelled evictions.
            return
        self.process_pod_on_node(
            key, tolerations=(pod.get("spec") or {}).get("tolerations") or [], taints=taints
        )

    async def handle_node_update(self, name: str) -> None:
        node = self.nodes.indexer.get(name)
        if node is None:
            self.tainted_nodes.pop(name, None)
            return
        taints = get_no_execute_taints((node.get("spec") or {}).get("taints"))
        if taints:
            self.tainted_nodes[name] = taints
        else:
            self.tainted_nodes.pop(name, None)
        pods = self.pods.indexer.by_index(cache.NODE_NAME_INDEX, name)
        if not taints:
            for pod in pods:
                self._cancel_work_with_event(cache.meta_namespace_key(pod))
            return
        now = self.clock.now()
        for pod in pods:
            self.process_pod_on_node(
                cache.meta_namespace_key(pod),
                tolerations=(pod.get("spec") or {}).get("tolerations") or [],
                taints=taints,
                now=now,
            )

    def process_pod_on_node(
        self,
        key: str,
        *,
        tolerations: Sequence[Mapping[str, Any]],
        taints: Sequence[Mapping[str, Any]],
        now: dt.datetime | None = None,
    ) -> None:
        """Schedule, keep or cancel the eviction of one pod given its node's NoExecute taints."""
        now = now or self.clock.now()
        if not taints:
            self._cancel_work_with_event(key)
            return
        all_tolerated, used = taint_model.get_matching_tolerations(taints, tolerations)
        if not all_tolerated:
            log.info("not all taints are tolerated by pod %s; deleting it", key)
            self._cancel_work_with_event(key)
            self.eviction_queue.add_work(key, created_at=now, fire_at=now)
            return
        min_seconds = get_min_toleration_time(used)
        if min_seconds < 0:
            self._cancel_work_with_event(key)
            return
        start = now
        trigger = now + dt.timedelta(seconds=min_seconds)
        scheduled = self.eviction_queue.get_pending(key)
        if scheduled is not None:
            start = scheduled.created_at
            if start + dt.timedelta(seconds=min_seconds) <= trigger:
                return
            self._cancel_work_with_event(key)
        self.eviction_queue.add_work(key, created_at=start, fire_at=trigger)

    def _cancel_work_with_event(self, key: str) -> None:
        if self.eviction_queue.cancel_work(key):
            self.recorder.event(
                _pod_ref(key),
                events.EVENT_TYPE_NORMAL,
                EVENT_TAINT_MANAGER_EVICTION,
                MSG_CANCELLING_DELETION.format(key=key),
            )

    # -- deletion -------------------------------------------------------------------------------

    async def _delete_pod(self, key: str) -> None:
        log.info("taint eviction controller deleting pod %s", key)
        self.recorder.event(
            _pod_ref(key),
            events.EVENT_TYPE_NORMAL,
            EVENT_TAINT_MANAGER_EVICTION,
            MSG_MARKING_FOR_DELETION.format(key=key),
        )
        namespace, name = cache.split_meta_namespace_key(key)
        for attempt in range(self.config.deletion_retries):
            try:
                await self._add_condition_and_delete(namespace, name)
                return
            except errors.NotFound:
                return
            except ApiFailure:
                if attempt == self.config.deletion_retries - 1:
                    raise
                await self.clock.sleep(RETRY_SLEEP)

    async def _add_condition_and_delete(self, namespace: str, name: str) -> None:
        pod = await self._pod_client.get(name, namespace=namespace)
        conditions = (pod.get("status") or {}).get("conditions") or []
        existing = next((c for c in conditions if c.get("type") == CONDITION_DISRUPTION_TARGET), None)
        wanted = {
            "type": CONDITION_DISRUPTION_TARGET,
            "status": "True",
            "reason": REASON_DELETION_BY_TAINT_MANAGER,
            "message": MSG_DELETION_BY_TAINT_MANAGER,
        }
        if existing is None or any(existing.get(k) != v for k, v in wanted.items()):
            condition = dict(wanted)
            condition["lastTransitionTime"] = (
                existing.get("lastTransitionTime")
                if existing is not None and existing.get("status") == "True"
                else clock_mod.format_time(self.clock.now())
            )
            patch = {
                "metadata": {"uid": (pod.get("metadata") or {}).get("uid")},
                "status": {"conditions": [condition]},
            }
            await self._pod_client.patch(
                name, patch, namespace=namespace, patch_type="strategic", subresource="status"
            )
        await self._pod_client.delete(name, namespace=namespace)


def _pod_ref(key: str) -> dict[str, Any]:
    namespace, name = cache.split_meta_namespace_key(key)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}}
