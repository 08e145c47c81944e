"""Pod garbage collection: pods no kubelet will ever finish, and terminated pods beyond a threshold.

Mirrors upstream ``pkg/controller/podgc/gc_controller.go``. Every ``gc_period`` (20 s), from the
informer caches:

1. **terminated** (``gcTerminated``, only when ``terminated_pod_gc_threshold > 0``): pods whose phase is
   neither Pending, Running nor Unknown, beyond the threshold, evicted ones first, then oldest first
   (name breaks ties);
2. **terminating on out-of-service nodes** (``gcTerminating``): pods with a deletionTimestamp on a node
   that is not Ready and carries the ``node.kubernetes.io/out-of-service`` taint;
3. **orphaned** (``gcOrphaned``): pods bound to a node the cache does not have. The node name is
   quarantined for ``quarantine_time`` (40 s) in case the cache is behind, then checked with a live
   GET; only a 404 makes its pods orphans. They get ``DisruptionTarget`` (reason ``DeletionByPodGC``,
   "PodGC: node no longer exists");
4. **unscheduled terminating** (``gcUnscheduledTerminating``): pods with a deletionTimestamp and no node.

Each is marked Failed through ``pods/status`` (unless already Succeeded or Failed; a pod with no
kubelet would otherwise stay Running forever) and force-deleted with grace period 0. A pod already
gone counts as done. The quarantine is a map of first-seen times rather than upstream's delaying
queue; the effect is the same (a name is re-checked at the first pass after its 40 s).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers import runnable
from kubeds.controllers.nodelifecycle import taints as node_taints
from kubeds.controllers.nodelifecycle.worker import every
from kubeds.machinery import cache, informer as informer_mod

__all__ = [
    "PodGCController",
    "PodGCControllerConfig",
    "eviction_and_creation_order",
    "is_pod_terminated",
    "select_terminated_pods",
    "select_unscheduled_terminating_pods",
]

log = logging.getLogger(__name__)

CONDITION_DISRUPTION_TARGET = "DisruptionTarget"
REASON_DELETION_BY_POD_GC = "DeletionByPodGC"
MSG_NODE_NO_LONGER_EXISTS = "PodGC: node no longer exists"
REASON_EVICTED = "Evicted"
DELETE_CONCURRENCY = 32

ApiFailure = (errors.ApiError, errors.TransportError)


@dataclasses.dataclass
class PodGCControllerConfig:
    """``--terminated-pod-gc-threshold`` and upstream's gcCheckPeriod/quarantineTime, in seconds."""

    gc_period: float = 20.0
    terminated_pod_gc_threshold: int = 12500
    quarantine_time: float = 40.0

    def __post_init__(self) -> None:
        if self.gc_period <= 0:
            raise ValueError("gc_period must be greater than zero")
        if self.quarantine_time < 0:
            raise ValueError("quarantine_time must not be negative")


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_pod_terminated(pod: Mapping[str, Any]) -> bool:
    """Neither Pending, Running nor Unknown (so an empty phase counts, as upstream)."""
    return _phase(pod) not in ("Pending", "Running", "Unknown")


def _is_evicted(pod: Mapping[str, Any]) -> bool:
    return _phase(pod) == "Failed" and (pod.get("status") or {}).get("reason") == REASON_EVICTED


def eviction_and_creation_order(pod: Mapping[str, Any]) -> tuple[bool, str, str]:
    """Sort key: evicted pods first, then by creationTimestamp, then name (``byEvictionAndCreationTimestamp``)."""
    meta = pod.get("metadata") or {}
    return (not _is_evicted(pod), str(meta.get("creationTimestamp") or ""), str(meta.get("name") or ""))


def select_terminated_pods(pods: Sequence[Mapping[str, Any]], *, threshold: int) -> list[Mapping[str, Any]]:
    """The terminated pods to delete so that at most ``threshold`` remain (none when ``threshold <= 0``)."""
    if threshold <= 0:
        return []
    terminated = [p for p in pods if is_pod_terminated(p)]
    excess = len(terminated) - threshold
    if excess <= 0:
        return []
    return sorted(terminated, key=eviction_and_creation_order)[:excess]


def select_unscheduled_terminating_pods(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [
        p
        for p in pods
        if (p.get("metadata") or {}).get("deletionTimestamp") and not (p.get("spec") or {}).get("nodeName")
    ]


def _is_node_ready(node: Mapping[str, Any]) -> bool:
    ready = node_taints.get_node_condition(node, node_taints.CONDITION_READY)
    return ready is not None and ready.get("status") == "True"


class PodGCController(runnable.Runnable):
    """Force-deletes orphaned, unscheduled-terminating and surplus terminated pods."""

    task_name = "pod-garbage-collector"

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: PodGCControllerConfig,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informers: informer_mod.SharedInformerFactory | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self._owns_factory = informers is None
        self._factory = informers or informer_mod.SharedInformerFactory(api, clock=clock)
        self._pod_client = api.resource("v1", "pods")
        self._node_client = api.resource("v1", "nodes")
        self.nodes = self._factory.informer("v1", "nodes")
        self.pods = self._factory.informer("v1", "pods")
        self.quarantine: dict[str, float] = {}

    async def _run(self) -> None:
        log.info("starting pod garbage collector")
        self._factory.start()
        try:
            await self.nodes.wait_for_sync()
            await self.pods.wait_for_sync()
            await every(self.config.gc_period, self.gc, clock=self.clock, name="pod GC")
        finally:
            if self._owns_factory:
                await self._factory.stop()
            log.info("shutting down pod garbage collector")

    async def gc(self) -> None:
        """One collection pass (upstream ``gc``)."""
        pods = self.pods.indexer.list()
        if self.config.terminated_pod_gc_threshold > 0:
            doomed = select_terminated_pods(pods, threshold=self.config.terminated_pod_gc_threshold)
            if doomed:
                log.info("garbage collecting %d terminated pods", len(doomed))
                await self._delete_all(doomed)
        await self._delete_all(self._terminating_out_of_service(pods))
        await self.gc_orphaned(pods)
        await self._delete_all(select_unscheduled_terminating_pods(pods))

    def _terminating_out_of_service(self, pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        doomed: list[Mapping[str, Any]] = []
        for pod in pods:
            if not (pod.get("metadata") or {}).get("deletionTimestamp"):
                continue
            node = self.nodes.indexer.get(str((pod.get("spec") or {}).get("nodeName") or ""))
            if node is None:
                continue
            taint_keys = {t.get("key") for t in (node.get("spec") or {}).get("taints") or ()}
            if not _is_node_ready(node) and node_taints.TAINT_OUT_OF_SERVICE in taint_keys:
                doomed.append(pod)
        return sorted(doomed, key=eviction_and_creation_order)

    async def gc_orphaned(self, pods: Sequence[Mapping[str, Any]]) -> None:
        """Delete the pods of nodes that stayed missing through the quarantine and a live GET."""
        existing = set(self.nodes.indexer.keys())
        now = self.clock.monotonic()
        missing = {
            str((p.get("spec") or {}).get("nodeName")) for p in pods if (p.get("spec") or {}).get("nodeName")
        }
        missing -= existing
        for name in list(self.quarantine):
            if name not in missing:
                del self.quarantine[name]
        deleted: set[str] = set()
        for name in sorted(missing):
            first_seen = self.quarantine.setdefault(name, now)
            if now - first_seen < self.config.quarantine_time:
                continue
            del self.quarantine[name]
            try:
                await self._node_client.get(name)
            except errors.NotFound:
                deleted.add(name)
            except ApiFailure as exc:
                log.warning("pod GC: error while getting node %s: %s", name, exc)
        orphans = [p for p in pods if (p.get("spec") or {}).get("nodeName") in deleted]
        condition = {
            "type": CONDITION_DISRUPTION_TARGET,
            "status": "True",
            "reason": REASON_DELETION_BY_POD_GC,
            "message": MSG_NODE_NO_LONGER_EXISTS,
        }
        for pod in orphans:
            log.info(
                "found orphaned pod %s assigned to the deleted node %s; deleting",
                cache.meta_namespace_key(pod),
                (pod.get("spec") or {}).get("nodeName"),
            )
        await self._delete_all(orphans, condition=condition)

    async def _delete_all(
        self, pods: Sequence[Mapping[str, Any]], *, condition: Mapping[str, Any] | None = None
    ) -> None:
        gate = asyncio.Semaphore(DELETE_CONCURRENCY)

        async def one(pod: Mapping[str, Any]) -> None:
            async with gate:
                try:
                    await self.mark_failed_and_delete(pod, condition=condition)
                except ApiFailure as exc:
                    log.warning("pod GC failed to delete pod %s: %s", cache.meta_namespace_key(pod), exc)

        await asyncio.gather(*(one(p) for p in pods))

    async def mark_failed_and_delete(
        self, pod: Mapping[str, Any], *, condition: Mapping[str, Any] | None = None
    ) -> None:
        """Patch the pod to Failed (with ``condition``) unless terminal, then delete it with grace 0."""
        meta = pod.get("metadata") or {}
        name, namespace = str(meta.get("name") or ""), meta.get("namespace")
        log.info("pod GC force deleting pod %s", cache.meta_namespace_key(pod))
        try:
            if _phase(pod) not in ("Succeeded", "Failed"):
                status: dict[str, Any] = {"phase": "Failed"}
                if condition is not None:
                    status["conditions"] = [
                        {**condition, "lastTransitionTime": clock_mod.format_time(self.clock.now())}
                    ]
                patch = {"metadata": {"uid": meta.get("uid")}, "status": status}
                await self._pod_client.patch(
                    name, patch, namespace=namespace, patch_type="strategic", subresource="status"
                )
            await self._pod_client.delete(name, namespace=namespace, grace_period_seconds=0)
        except errors.NotFound:
            return
