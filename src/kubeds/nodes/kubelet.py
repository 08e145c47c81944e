"""Every simulated kubelet of a simulator, as one reconcile loop over a shared timer.

A real kubelet is one process per node; 5,000 of them as 5,000 asyncio tasks with their own
sleeps would cost more than the control plane. :class:`KubeletFleet` is one
:class:`~kubeds.machinery.controller.Controller` (a rate-limited work queue and a few workers)
whose keys name what is due, for every node at once:

* ``lease:<node>``: renew the node's Lease (:mod:`kubeds.nodes.leases`) every ``renew_interval``
  (+ up to 4 % jitter, as the lease controller's ``JitterUntil``), unless the node is failed. Like
  KWOK, which had to cut its heartbeat rate at 5,000 nodes, the renewals of all nodes together are
  capped (``max_renew_rate``, 400/s by default: the kubelet's 10 s up to 4,000 nodes, 12.5 s at
  5,000), never stretching the interval past half the lease duration;
* ``node:<node>`` and ``pod:<ns>/<name>``: play the next lifecycle stage of the node or pod
  (:mod:`kubeds.nodes.stages` with the stage sets of :mod:`kubeds.nodes.profiles`, after KWOK's
  ``pkg/kwok/controllers/{node,pod}_controller.go``): the node's registration, condition changes
  and its status heartbeat every ``status_report_interval``; the pod's ContainerCreating, Running,
  image pull failures and graceful deletion;
* ``static:<node>``: keep the node's mirror pods in line with its manifests (:mod:`.staticpods`).

Timing lives in the work queue's single delaying task (a heap), not in tasks per node: a key due
later is ``add_after``-ed, and due times are rounded up to ``tick`` seconds (a timer-wheel slot),
so a wake-up releases every key of the slot at once and the workers send their API calls as a
batch. Stage plans are remembered as (stage, due): an informer event re-matches the object and
keeps the plan while the same stage still applies (a heartbeat stays five minutes away however
often the node changes), replaces it otherwise, and drops it when no stage applies. A worker
re-matches before playing, so a plan made stale by a change is never played.

Playing a stage is one write: a stage due at once after it that says ``coalesce`` (the fast
profile's pod-ready after pod-create) is folded into the same status patch (:mod:`.chain`), so a
bound pod becomes Running+Ready with one PATCH, as the kubelet's status manager posts only the
latest status. Events (Pulling, Started, ...) are queued on the recorder, whose writer sends them
in the background: the status write never waits for them.

Our own writes come back through the informers; until the cache has caught up with the
resourceVersion we wrote, older events are ignored and the object is not played again, so a stage
is never played twice on a stale copy. The plan made on the write's answer stands: the echo of that
same resourceVersion is not matched again. Pods of a node that is failed or not simulated do not move.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import random
from collections.abc import Mapping
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.machinery import cache, controller, events, informer as informer_mod
from kubeds.nodes import annotations as knobs, chain, leases, profiles, stages, staticpods

__all__ = ["HEARTBEAT_STAGE", "KubeletFleet", "Timing"]

log = logging.getLogger(__name__)

HEARTBEAT_STAGE = "node-heartbeat"
# The heartbeat's jitter: reports come between the interval and 10 % later (KWOK's heartbeat stage).
HEARTBEAT_JITTER = 1.1
# The lease controller's JitterUntil factor (k8s.io/component-helpers apimachinery/lease).
LEASE_JITTER = 0.04
FIELD_MANAGER = "kubelet"
LEASE, NODE, POD, STATIC = "lease", "node", "pod", "static"
EPSILON = 1e-6


@dataclasses.dataclass(frozen=True)
class Timing:
    renew_interval: float
    status_report_interval: float
    tick: float
    lease_duration: float = 40.0
    max_renew_rate: float = 0.0

    def lease_interval(self, nodes: int) -> float:
        """Seconds between renewals with ``nodes`` nodes: ``renew_interval``, stretched so that all
        nodes together renew at most ``max_renew_rate`` times a second (never beyond half the
        lease duration, so a lease always gets two chances before it expires)."""
        if self.max_renew_rate <= 0:
            return self.renew_interval
        stretched = min(nodes / self.max_renew_rate, self.lease_duration / 2)
        return max(self.renew_interval, stretched)


def heartbeat_every(profile: profiles.Profile, seconds: float) -> profiles.Profile:
    """``profile`` with its heartbeat stage re-posting every ``seconds`` (+ 10 % jitter)."""
    delay = stages.Delay(duration_ms=int(seconds * 1000), jitter_ms=int(seconds * 1000 * HEARTBEAT_JITTER))
    node_stages = tuple(
        dataclasses.replace(s, delay=delay) if s.name == HEARTBEAT_STAGE else s for s in profile.node_stages
    )
    return dataclasses.replace(profile, node_stages=node_stages)


def _rv(obj: Mapping[str, Any] | None) -> int:
    text = str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "")
    return int(text) if text.isdigit() else 0


def pod_key(pod: Mapping[str, Any]) -> str:
    return f"{POD}:{cache.meta_namespace_key(pod)}"


class KubeletFleet(controller.Controller):
    """The kubelets of every simulated node: leases, node and pod stages, mirror pods."""

    kind = "simulated kubelet"

    def __init__(
        self,
        api: api_mod.ApiClient,
        *,
        nodes: informer_mod.Informer,
        pods: informer_mod.Informer,
        profile: profiles.Profile,
        keeper: leases.LeaseKeeper,
        recorder: events.EventRecorder,
        timing: Timing,
        rng: random.Random,
        workers: int,
        clock: clock_mod.Clock = clock_mod.REAL,
    ) -> None:
        super().__init__(name="node-simulator", workers=workers, clock=clock)
        self._nodes = nodes
        self._pods = pods
        self._pods_api = api.resource("v1", "pods")
        self._nodes_api = api.resource("v1", "nodes")
        self.profile = heartbeat_every(profile, timing.status_report_interval)
        self._keeper = keeper
        self._recorder = recorder
        self._timing = timing
        self._rng = rng
        self._plans: dict[str, tuple[str, float]] = {}
        self._written: dict[str, int] = {}
        # key -> resourceVersion of the copy the current plan (or the lack of one) was made on: the
        # informer's echo of our own write is not matched again (_play planned on the response).
        self._decided: dict[str, int] = {}
        # pod key -> (resourceVersion, the stage that version matched): see _match.
        self._matched: dict[str, tuple[int, stages.Stage | None]] = {}
        self._known: set[str] = set()
        self.informers = [nodes, pods]

    # -- timer --------------------------------------------------------------------------------

    def after(self, key: str, seconds: float) -> float:
        """Queue ``key`` in ``seconds``, rounded up to the next tick; returns the due time."""
        now = self.clock.monotonic()
        if seconds <= 0:
            self.queue.add(key)
            return now
        tick = self._timing.tick
        due = math.ceil((now + seconds) / tick - EPSILON) * tick if tick > 0 else now + seconds
        self.queue.add_after(key, max(0.0, due - now))
        return due

    @property
    def planned(self) -> int:
        """How many node and pod stages are waiting to be played."""
        return len(self._plans)

    # -- event handlers (enqueue only) ----------------------------------------------------------

    def register(self) -> None:
        """Add the informer handlers (nodes first, so pods find their node in the cache)."""
        self._nodes.add_event_handler(
            on_add=self._node_added, on_update=self._node_updated, on_delete=self._node_deleted
        )
        self._pods.add_event_handler(
            on_add=self._pod_changed,
            on_update=lambda _, new: self._pod_changed(new),
            on_delete=self._pod_deleted,
        )

    def _node_added(self, node: dict[str, Any]) -> None:
        name = str(node["metadata"]["name"])
        if name not in self._known:
            self._known.add(name)
            has_status = bool(self._condition(node, "Ready"))
            # A node that already reports (a restarted simulator) renews within one interval,
            # spread out; a new one takes its lease at once.
            spread = self._rng.uniform(0, self._timing.renew_interval) if name in self._keeper else 0.0
            self.after(f"{LEASE}:{name}", spread if has_status else 0.0)
            self.queue.add(f"{STATIC}:{name}")
        self._replan(f"{NODE}:{name}", node)
        self._replan_pods(name)

    def _node_updated(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        name = str(new["metadata"]["name"])
        if name not in self._known:
            self._node_added(new)
            return
        key = f"{NODE}:{name}"
        rv = _rv(new)
        if rv < self._written.get(key, 0):
            return
        was_failed, failed = knobs.is_failed(old), knobs.is_failed(new)
        if was_failed and not failed:
            self.queue.add(f"{LEASE}:{name}")
        if not rv or self._decided.get(key) != rv:
            self._replan(key, new)
        if was_failed != failed:
            self._replan_pods(name)
        old_static = (old["metadata"].get("annotations") or {}).get(knobs.STATIC_PODS_ANNOTATION)
        new_static = (new["metadata"].get("annotations") or {}).get(knobs.STATIC_PODS_ANNOTATION)
        if old_static != new_static or (was_failed and not failed):
            self.queue.add(f"{STATIC}:{name}")

    def _node_deleted(self, node: dict[str, Any]) -> None:
        name = str(node["metadata"]["name"])
        self._known.discard(name)
        self._forget(f"{NODE}:{name}")
        # The lease key finds the node gone and deletes its Lease.
        self.queue.add(f"{LEASE}:{name}")
        self._replan_pods(name)

    def _pod_changed(self, pod: dict[str, Any]) -> None:
        key = pod_key(pod)
        rv = _rv(pod)
        if rv < self._written.get(key, 0) or (rv and self._decided.get(key) == rv):
            return
        self._replan(key, pod)

    def _pod_deleted(self, pod: dict[str, Any]) -> None:
        self._forget(pod_key(pod))
        if staticpods.is_mirror_pod(pod):
            self.queue.add(f"{STATIC}:{pod['spec']['nodeName']}")

    def _forget(self, key: str) -> None:
        self._matched.pop(key, None)
        self._plans.pop(key, None)
        self._written.pop(key, None)
        self._decided.pop(key, None)

    def _replan_pods(self, node_name: str) -> None:
        for pod in self._pods.indexer.by_index(cache.NODE_NAME_INDEX, node_name):
            self._replan(pod_key(pod), pod)

    # -- stage plans ----------------------------------------------------------------------------

    @staticmethod
    def _condition(node: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
        for cond in (node.get("status") or {}).get("conditions") or []:
            if cond.get("type") == ctype:
                return dict(cond)
        return None

    def _node_of(self, pod: Mapping[str, Any]) -> dict[str, Any] | None:
        name = (pod.get("spec") or {}).get("nodeName")
        return self._nodes.indexer.get_by_key(str(name)) if name else None

    def _match(self, key: str, obj: Mapping[str, Any]) -> stages.Stage | None:
        if key.startswith(NODE + ":"):
            return stages.match_stage(self.profile.node_stages, obj)
        node = self._node_of(obj)
        if node is None or knobs.is_failed(node):
            return None
        # A pod's stage depends on the pod alone (its selectors and predicates read nothing else),
        # so one version is matched once: its event plans it, and the sync that plays it finds it.
        rv = _rv(obj)
        known = self._matched.get(key)
        if rv and known is not None and known[0] == rv:
            return known[1]
        stage = stages.match_stage(self.profile.pod_stages, obj)
        if rv:
            self._matched[key] = (rv, stage)
        return stage

    def _replan(self, key: str, obj: Mapping[str, Any]) -> None:
        """Plan the stage that applies to ``obj`` now, keeping a plan for the same stage."""
        self._decided[key] = _rv(obj)
        stage = self._match(key, obj)
        if stage is None:
            self._plans.pop(key, None)
            return
        current = self._plans.get(key)
        if current is not None and current[0] == stage.name:
            return
        delay = stages.stage_delay(stage, obj, now=self.clock.now(), rng=self._rng).total_seconds()
        self._plans[key] = (stage.name, self.after(key, delay))

    # -- sync -----------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        kind, _, name = key.partition(":")
        if kind == LEASE:
            await self._sync_lease(name)
        elif kind == STATIC:
            await self._sync_static(name)
        elif kind in (NODE, POD):
            await self._sync_stage(key, name)
        else:
            log.warning("node simulator: unknown key %r", key)

    async def _sync_lease(self, name: str) -> None:
        node = self._nodes.indexer.get_by_key(name)
        if node is None:
            if name not in self._known:
                await self._delete_lease_if_node_gone(name)
            return
        if knobs.is_failed(node):
            return  # a dead machine renews nothing; recovery queues the key again
        await self._keeper.renew(node, now=self.clock.now())
        interval = self._timing.lease_interval(len(self._known))
        self.after(f"{LEASE}:{name}", interval * (1 + LEASE_JITTER * self._rng.random()))

    async def _delete_lease_if_node_gone(self, name: str) -> None:
        try:
            await self._nodes_api.get(name)
        except errors.NotFound:
            await self._keeper.delete(name)

    async def _sync_stage(self, key: str, name: str) -> None:
        store = self._nodes.indexer if key.startswith(NODE + ":") else self._pods.indexer
        obj = store.get_by_key(name)
        plan = self._plans.get(key)
        if obj is None or plan is None:
            self._plans.pop(key, None)
            return
        if _rv(obj) < self._written.get(key, 0):
            # Our last write has not reached the cache yet: its event plans again.
            self._plans.pop(key, None)
            self._decided.pop(key, None)
            return
        stage_name, due = plan
        now = self.clock.monotonic()
        if due > now + EPSILON:
            self.after(key, due - now)  # queued early by an older, earlier deadline
            return
        del self._plans[key]
        stage = self._match(key, obj)
        if stage is None or stage.name != stage_name:
            self._replan(key, obj)
            return
        try:
            written = await self._play(key, stage, obj)
        except Exception:
            # Keep the plan, so the rate-limited retry of the key plays the stage again.
            self._plans[key] = (stage_name, now)
            raise
        if written is not None:
            self._replan(key, written)

    async def _play(self, key: str, stage: stages.Stage, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Play ``stage`` on ``obj``; the object as written (None when deleted or unchanged)."""
        meta = obj["metadata"]
        is_pod = key.startswith(POD + ":")
        node = self._node_of(obj) if is_pod else None
        used = self._used_pod_ips(str(obj["spec"]["nodeName"]), meta) if is_pod else frozenset()
        own_stages = self.profile.pod_stages if is_pod else self.profile.node_stages
        result = chain.play_chain(
            stage,
            obj,
            match=lambda view: stages.match_stage(own_stages, view),
            now=self.clock.now(),
            node=node,
            used_pod_ips=used,
        )
        if result.events:
            host = str(obj["spec"]["nodeName"]) if is_pod else str(meta["name"])
            # The kubelet's recorder names its own node as the event source; the recorder only
            # queues them (its writer sends them in the background), so the status write never waits.
            self._recorder.host = host
            for event in result.events:
                self._recorder.event(obj, *event)
        written: dict[str, Any] | None = None
        client = self._pods_api if is_pod else self._nodes_api
        if result.status_patch is not None:
            try:
                written = await client.patch(
                    str(meta["name"]),
                    result.status_patch,
                    namespace=meta.get("namespace"),
                    subresource="status",
                    field_manager=FIELD_MANAGER,
                )
            except errors.NotFound:
                return None
            self._written[key] = _rv(written)
        if result.delete:
            try:
                await client.delete(
                    str(meta["name"]),
                    namespace=meta.get("namespace"),
                    grace_period_seconds=0,
                    preconditions={"uid": str(meta.get("uid", ""))},
                )
            except (errors.NotFound, errors.Conflict):
                pass
            return None
        return written

    def _used_pod_ips(self, node_name: str, meta: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(
            str(p["status"]["podIP"])
            for p in self._pods.indexer.by_index(cache.NODE_NAME_INDEX, node_name)
            if (p.get("status") or {}).get("podIP") and p["metadata"].get("uid") != meta.get("uid")
        )

    async def _sync_static(self, name: str) -> None:
        node = self._nodes.indexer.get_by_key(name)
        if node is None or knobs.is_failed(node):
            return
        existing = self._pods.indexer.by_index(cache.NODE_NAME_INDEX, name)
        plan = staticpods.plan_mirror_pods(node, existing, now=self.clock.now())
        for namespace, pod_name, uid in plan.delete:
            try:
                await self._pods_api.delete(
                    pod_name, namespace=namespace, grace_period_seconds=0, preconditions={"uid": uid}
                )
            except (errors.NotFound, errors.Conflict):
                pass
        for pod in plan.create:
            try:
                await self._pods_api.create(copy.deepcopy(pod), field_manager=FIELD_MANAGER)
            except errors.AlreadyExists:
                # Still being deleted (or not yet in our cache): its deletion event queues us again.
                pass
