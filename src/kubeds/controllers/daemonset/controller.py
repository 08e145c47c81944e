"""The DaemonSet controller loop: informers, work queue and ``syncDaemonSet``.

Mirrors upstream ``pkg/controller/daemon/daemon_controller.go`` (``NewDaemonSetsController``, ``Run``,
``syncDaemonSet``, ``updateDaemonSet``, ``manage``, ``updateDaemonSetStatus``,
``storeDaemonSetStatus``) and the ``rollingUpdate`` driver of ``update.go``. Event handlers
(:mod:`.handlers`) only enqueue ``namespace/name`` keys; :meth:`DaemonSetController.sync` works from
the informer caches, is idempotent, and raises to be retried with backoff. One sync:

1. read the DaemonSet from the cache (gone → drop its expectations and its node view);
2. an empty selector → Warning ``SelectingAll``, nothing else; a DaemonSet being deleted → nothing
   (the garbage collector owns its pods and revisions now);
3. claim the revisions and construct the history (:mod:`.revisions`): the current revision's hash;
4. expectations not yet satisfied (creates/deletes of the previous pass not seen in the cache) →
   only refresh the status, keeping ``observedGeneration``;
5. otherwise ``manage``: claim the pods (:mod:`.claims`), decide per node (:mod:`.decisions`), back off
   failed pods, and ``syncNodes`` (:mod:`.podcontrol`); then, with expectations satisfied again, the
   rolling update (:mod:`.rolling`; ``OnDelete`` does nothing); then prune the history;
6. always write the status (:mod:`.status`) when a counter changed or the generation is newer than
   ``observedGeneration``, retrying once after a fresh GET; requeue after ``minReadySeconds`` while
   ready pods are not yet available. A manage error wins over a status error.

Deliberate differences, for throughput (upstream's sync is O(nodes) and a rollout syncs about twice
per pod, O(nodes²) overall: minutes instead of seconds on 5,000 nodes in Python):

* the node walk is incremental. Each DaemonSet has a node view (:mod:`.views`, :mod:`.dsview`):
  informer handlers mark the pods and nodes that changed, and a sync re-claims those pods and
  re-summarises those nodes only (plus nodes with pods Ready but not yet available); the decisions
  (:mod:`.viewdecisions`) read counters and sorted node sets, and the rolling update does nothing
  when no pod is out of date. A new spec generation or hash rebuilds the view from the caches, as
  does a safety interval (``view_rebuild_interval_seconds``; 0 rebuilds at every step). A randomized
  test checks the view against the whole-cluster functions of :mod:`.decisions`, :mod:`.rolling` and
  :mod:`.status`, which stay the reference;
* upstream runs a status-only sync for every pod event that arrives while its creates are in
  flight; here those of one DaemonSet are coalesced to at most one per
  ``status_only_sync_interval_seconds`` (default 0.1 s; 0 restores upstream's behaviour); the key is
  requeued for the end of the interval, and the full sync that follows once the expectations are
  satisfied is never delayed;
* the status write copies only the object's top level and its status (the cached object is
  read-only and nothing else is written), and pods are created from one prepared template per pass.

:meth:`run` starts the informers, the event recorder and the failed-pod backoff GC, then ``workers``
workers; :meth:`stop` drains them and stops everything the controller started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers.daemonset import constants as c, handlers as handlers_mod
from kubeds.controllers.daemonset.backoff import FailedPodBackoff
from kubeds.controllers.daemonset.claims import Rechecker, claim
from kubeds.controllers.daemonset.dsview import DaemonSetView
from kubeds.controllers.daemonset.history import count_matching
from kubeds.controllers.daemonset.podcontrol import PodControl, aggregate, sync_nodes
from kubeds.controllers.daemonset.revisions import HistoryResult, cleanup_history, construct_history
from kubeds.controllers.daemonset.status import COUNTERS, requeue_after_seconds, should_store_status
from kubeds.controllers.daemonset.viewdecisions import (
    view_manage_plan,
    view_rolling_update,
    view_status,
    view_surge_wait,
)
from kubeds.controllers.daemonset.views import DaemonSetViews
from kubeds.machinery import (
    cache,
    controller as controller_mod,
    events as events_mod,
    expectations as exp_mod,
)
from kubeds.machinery.informer import SharedInformerFactory

__all__ = ["DaemonSetController", "DaemonSetControllerConfig"]

log = logging.getLogger(__name__)

MSG_NODE_TO_PODS = "couldn't get node to daemon pod mapping for daemon set {name!r}: {error}"
MSG_CONSTRUCT_HISTORY = "failed to construct revisions of DaemonSet: {error}"
MSG_CLEANUP_HISTORY = "failed to clean up revisions of DaemonSet: {error}"
MSG_STORE_STATUS = "error storing status for daemon set {namespace}/{name}: {error}"

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class DaemonSetControllerConfig:
    """Knobs of the DaemonSet controller, defaulting to kube-controller-manager's."""

    workers: int = 2  # --concurrent-daemonset-syncs
    burst_replicas: int = c.BURST_REPLICAS
    failed_pod_backoff_initial_seconds: float = c.FAILED_POD_BACKOFF_INITIAL_SECONDS
    failed_pod_backoff_max_seconds: float = c.FAILED_POD_BACKOFF_MAX_SECONDS
    backoff_gc_interval_seconds: float = c.BACKOFF_GC_INTERVAL_SECONDS
    expectations_timeout_seconds: float = c.EXPECTATIONS_TIMEOUT_SECONDS
    # While creates/deletes are in flight, status-only syncs of one DaemonSet run at most this often
    # (0: on every pod event, as upstream). See the module docstring.
    status_only_sync_interval_seconds: float = 0.1
    # Each DaemonSet's node view (see .views) is rebuilt from the caches at least this often, as a
    # safety net; between rebuilds a sync only looks at what changed (0: rebuild at every step).
    view_rebuild_interval_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.burst_replicas < 1:
            raise ValueError("burst_replicas must be at least 1")
        if not 0 < self.failed_pod_backoff_initial_seconds <= self.failed_pod_backoff_max_seconds:
            raise ValueError("failed-pod backoff needs 0 < initial <= max")
        if self.backoff_gc_interval_seconds <= 0:
            raise ValueError("backoff_gc_interval_seconds must be positive")
        if self.expectations_timeout_seconds <= 0:
            raise ValueError("expectations_timeout_seconds must be positive")
        if self.status_only_sync_interval_seconds < 0:
            raise ValueError("status_only_sync_interval_seconds must not be negative")
        if self.view_rebuild_interval_seconds < 0:
            raise ValueError("view_rebuild_interval_seconds must not be negative")


class DaemonSetController(controller_mod.Controller):
    """Runs one daemon pod on every eligible node for each DaemonSet."""

    kind = "DaemonSet"

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: DaemonSetControllerConfig | None = None,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informer_factory: SharedInformerFactory | None = None,
        recorder: events_mod.EventRecorder | None = None,
    ) -> None:
        self.config = config or DaemonSetControllerConfig()
        super().__init__(name="daemonset", workers=self.config.workers, clock=clock)
        self.api = api
        self._owns_factory = informer_factory is None
        self.factory = informer_factory or SharedInformerFactory(api, clock=clock)
        self._owns_recorder = recorder is None
        self.recorder = recorder or events_mod.EventRecorder(api, component=c.CONTROLLER_NAME, clock=clock)
        self.ds_informer = self.factory.informer("apps/v1", "daemonsets")
        self.pod_informer = self.factory.informer("v1", "pods")
        self.node_informer = self.factory.informer("v1", "nodes")
        self.history_informer = self.factory.informer("apps/v1", "controllerrevisions")
        self.informers = [self.ds_informer, self.pod_informer, self.node_informer, self.history_informer]
        self.expectations = exp_mod.ControllerExpectations(
            clock=clock, ttl=self.config.expectations_timeout_seconds
        )
        self.failed_pods_backoff = FailedPodBackoff(
            initial=self.config.failed_pod_backoff_initial_seconds,
            maximum=self.config.failed_pod_backoff_max_seconds,
            clock=clock,
        )
        self.daemonsets = api.resource("apps/v1", "daemonsets")
        self.revisions = api.resource("apps/v1", "controllerrevisions")
        self.pod_control = PodControl(api, recorder=self.recorder)
        self.handlers = handlers_mod.DaemonSetEventHandlers(
            daemonsets=self.ds_informer.indexer,
            expectations=self.expectations,
            enqueue=self.enqueue,
            enqueue_after=self.enqueue_after,
            placements=handlers_mod.PlacementCache(),
            own_write=self._is_own_status_write,
        )
        self.views = DaemonSetViews(
            pods=self.pod_informer.indexer,
            nodes=self.node_informer.indexer,
            rebuild_interval=self.config.view_rebuild_interval_seconds,
        )
        self._register_handlers()
        self._stopped = asyncio.Event()
        self._running = False
        self._last_status_only: dict[str, float] = {}
        self._own_status_rv: dict[str, str] = {}

    def _register_handlers(self) -> None:
        h = self.handlers
        self.ds_informer.add_event_handler(
            on_add=h.add_daemonset, on_update=h.update_daemonset, on_delete=h.delete_daemonset
        )
        self.pod_informer.add_event_handler(on_add=h.add_pod, on_update=h.update_pod, on_delete=h.delete_pod)
        v = self.views
        self.pod_informer.add_event_handler(
            on_add=v.pod_changed, on_update=v.pod_changed, on_delete=v.pod_changed
        )
        self.node_informer.add_event_handler(on_add=h.add_node, on_update=h.update_node)
        self.node_informer.add_event_handler(
            on_add=v.node_added_or_deleted, on_update=v.node_updated, on_delete=v.node_added_or_deleted
        )
        self.history_informer.add_event_handler(
            on_add=h.add_history, on_update=h.update_history, on_delete=h.delete_history
        )

    # -- running --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Start informers, the event writer and backoff GC; process keys until :meth:`stop`."""
        self._running = True
        self._stopped.clear()
        self.recorder.start()
        self.factory.start()
        gc_task = asyncio.get_running_loop().create_task(self._backoff_gc_loop(), name="daemonset-backoff-gc")
        try:
            await super().run()
        finally:
            gc_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gc_task
            if self._owns_recorder:
                await self.recorder.stop()
            if self._owns_factory:
                await self.factory.stop()
            self._running = False
            self._stopped.set()

    async def stop(self) -> None:
        """Stop taking keys, let the workers finish, and stop what :meth:`run` started."""
        self.shutdown()
        if self._running:
            await self._stopped.wait()

    async def _backoff_gc_loop(self) -> None:
        while True:
            await self.clock.sleep(self.config.backoff_gc_interval_seconds)
            self.failed_pods_backoff.gc()

    # -- sync -----------------------------------------------------------------------------------

    def _status_only_wait(self, key: str) -> float:
        """Seconds before another status-only sync of ``key`` may run (0: now)."""
        interval = self.config.status_only_sync_interval_seconds
        last = self._last_status_only.get(key)
        if interval <= 0 or last is None:
            return 0.0
        return max(0.0, last + interval - self.clock.monotonic())

    async def sync(self, key: str) -> None:
        """``syncDaemonSet``: reconcile the DaemonSet ``namespace/name``."""
        ds = self.ds_informer.indexer.get_by_key(key)
        if ds is None:
            log.debug("DaemonSet %s has been deleted", key)
            self.expectations.delete_expectations(key)
            self._last_status_only.pop(key, None)
            self.views.forget(key)
            self._own_status_rv.pop(key, None)
            return
        selector = (ds.get("spec") or {}).get("selector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            self.recorder.event(ds, c.EVENT_WARNING, c.SELECTING_ALL_REASON, c.MSG_SELECTING_ALL)
            return
        if (ds.get("metadata") or {}).get("deletionTimestamp"):
            # Its revisions may already be deleted or orphaned: no status can be trusted now.
            return
        if not self.expectations.satisfied_expectations(key):
            wait = self._status_only_wait(key)
            if wait > 0:
                # Writes of the last pass are still arriving: coalesce status-only syncs.
                self.enqueue_after(key, wait)
                return
        try:
            result = await self._construct_history(ds)
        except Exception as err:
            raise RuntimeError(MSG_CONSTRUCT_HISTORY.format(error=err)) from err
        hash_ = result.hash
        if not self.expectations.satisfied_expectations(key):
            # The controller did not process this generation: do not raise observedGeneration.
            await self._update_status(ds, hash_, update_observed_generation=False)
            self._last_status_only[key] = self.clock.monotonic()
            return
        sync_err: BaseException | None = None
        try:
            await self._update_daemonset(ds, hash_, key, result.old)
        except Exception as err:
            sync_err = err
        try:
            await self._update_status(ds, hash_, update_observed_generation=True)
        except Exception as status_err:
            if sync_err is None:
                raise
            log.error("failed to update status of DaemonSet %s: %s", key, status_err)
        if sync_err is not None:
            raise sync_err

    async def _update_daemonset(self, ds: Obj, hash_: str, key: str, old: Sequence[Obj]) -> None:
        await self._manage(ds, hash_)
        if self.expectations.satisfied_expectations(key):
            strategy = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type")
            if strategy == c.ROLLING_UPDATE:
                await self._rolling_update(ds, hash_)
        try:
            view = await self._view(ds, hash_)
            await cleanup_history(ds, old, view.live_pods(), revisions=self.revisions)
        except Exception as err:
            raise RuntimeError(MSG_CLEANUP_HISTORY.format(error=err)) from err

    # -- claims ---------------------------------------------------------------------------------

    def _rechecker(self, ds: Obj) -> Rechecker:
        meta = ds.get("metadata") or {}

        async def fetch() -> dict[str, Any]:
            return await self.daemonsets.get(str(meta.get("name")), namespace=str(meta.get("namespace")))

        return Rechecker(ds, fetch)

    def _is_own_status_write(self, ds: Obj) -> bool:
        """``ds`` is exactly what this controller's last status write of it stored, and that write
        observed its generation (a spec change is never swallowed as an echo of our own write)."""
        meta = ds.get("metadata") or {}
        rv = meta.get("resourceVersion")
        if not rv or self._own_status_rv.get(cache.meta_namespace_key(ds)) != rv:
            return False
        observed = int((ds.get("status") or {}).get("observedGeneration") or 0)
        return observed >= int(meta.get("generation") or 0)

    async def _claim_pods(self, ds: Obj, pods: Sequence[Obj]) -> tuple[list[Obj], list[BaseException]]:
        """``ClaimPods`` over ``pods`` (adopting and releasing as needed)."""
        return await claim(ds, pods, kind="Pod", patch=self._patch_pod, recheck=self._rechecker(ds))

    async def _view(self, ds: Obj, hash_: str) -> DaemonSetView:
        """The DaemonSet's node view, up to date with the caches (``getNodesToDaemonPods`` and more).

        Upstream re-lists and re-claims every pod of the namespace at each step of a sync; the view
        applies only what the informers marked since the last step (see :mod:`.views`).
        """
        try:
            return await self.views.get(
                ds, hash_, claim=self._claim_pods, now=self.clock.now(), monotonic=self.clock.monotonic()
            )
        except Exception as err:
            name = (ds.get("metadata") or {}).get("name")
            raise RuntimeError(MSG_NODE_TO_PODS.format(name=name, error=err)) from err

    async def _claimed_pods(self, ds: Obj) -> list[Obj]:
        """Every claimed pod, for the rare history deduplication (which relabels them)."""
        namespace = str((ds.get("metadata") or {}).get("namespace") or "")
        pods = self.pod_informer.indexer.by_index(cache.NAMESPACE_INDEX, namespace)
        claimed, failures = await self._claim_pods(ds, pods)
        err = aggregate(failures)
        if err is not None:
            raise RuntimeError(
                MSG_NODE_TO_PODS.format(name=(ds.get("metadata") or {}).get("name"), error=err)
            )
        return claimed

    async def _patch_pod(self, namespace: str, name: str, patch: dict[str, Any]) -> Any:
        return await self.pod_control.patch_pod(namespace, name, patch)

    async def _patch_revision(self, namespace: str, name: str, patch: dict[str, Any]) -> Any:
        return await self.revisions.patch(name, patch, namespace=namespace, patch_type="strategic")

    # -- history --------------------------------------------------------------------------------

    async def _construct_history(self, ds: Obj) -> HistoryResult:
        namespace = str((ds.get("metadata") or {}).get("namespace") or "")
        histories = self.history_informer.indexer.by_index(cache.NAMESPACE_INDEX, namespace)
        claimed, failures = await claim(
            ds, histories, kind="ControllerRevision", patch=self._patch_revision, recheck=self._rechecker(ds)
        )
        err = aggregate(failures)
        if err is not None:
            raise err
        pods: list[Obj] = []
        if count_matching(ds, claimed) > 1:
            pods = await self._claimed_pods(ds)  # only deduplication relabels pods
        return await construct_history(
            ds,
            claimed,
            pods,
            revisions=self.revisions,
            daemonsets=self.daemonsets,
            pods_client=self.pod_control.pods,
        )

    # -- manage and rolling update -----------------------------------------------------------------

    def _still_wanted(self, ds: Obj) -> bool:
        cached = self.ds_informer.indexer.get(ds)
        if cached is None:
            return False
        meta = cached.get("metadata") or {}
        return meta.get("uid") == (ds.get("metadata") or {}).get("uid") and not meta.get("deletionTimestamp")

    async def _sync_nodes(
        self, ds: Obj, pods_to_delete: Sequence[str], nodes_needing: Sequence[str], hash_: str
    ) -> None:
        await sync_nodes(
            ds,
            pods_to_delete,
            nodes_needing,
            hash_,
            pod_control=self.pod_control,
            expectations=self.expectations,
            burst_replicas=self.config.burst_replicas,
            still_wanted=lambda: self._still_wanted(ds),
        )

    async def _manage(self, ds: Obj, hash_: str) -> None:
        view = await self._view(ds, hash_)
        mono = self.clock.monotonic()
        plan = view_manage_plan(
            ds,
            view,
            node=self.node_informer.indexer.get_by_key,
            hash_=hash_,
            now=self.clock.now(),
            backoff_active=lambda k: self.failed_pods_backoff.is_in_backoff_since_update(k, mono),
        )
        key = cache.meta_namespace_key(ds)
        for backoff_key in plan.backoff_skipped:
            self.enqueue_after(key, self.failed_pods_backoff.get(backoff_key))
        for backoff_key in plan.backoff_advanced:
            self.failed_pods_backoff.next(backoff_key, mono)
        for event in plan.events:
            self.recorder.event(ds, event.type, event.reason, event.message)
        await self._sync_nodes(ds, plan.pods_to_delete, plan.nodes_needing_pods, hash_)

    async def _rolling_update(self, ds: Obj, hash_: str) -> None:
        view = await self._view(ds, hash_)
        # Nothing out of date (every sync of a first rollout): no walk at all.
        to_delete, to_create = view_rolling_update(ds, view)
        wait = view_surge_wait(ds, view, now=self.clock.now())
        if wait is not None:
            self.enqueue_after(cache.meta_namespace_key(ds), wait)
        await self._sync_nodes(ds, to_delete, to_create, hash_)

    # -- status ---------------------------------------------------------------------------------

    async def _update_status(self, ds: Obj, hash_: str, *, update_observed_generation: bool) -> None:
        """``updateDaemonSetStatus`` + ``storeDaemonSetStatus``: the view's counters."""
        view = await self._view(ds, hash_)
        status = view_status(ds, view, update_observed_generation=update_observed_generation)
        if should_store_status(ds, status):
            try:
                await self._store_status(ds, status, update_observed_generation=update_observed_generation)
            except (errors.ApiError, errors.TransportError) as err:
                meta = ds.get("metadata") or {}
                raise RuntimeError(
                    MSG_STORE_STATUS.format(namespace=meta.get("namespace"), name=meta.get("name"), error=err)
                ) from err
        delay = requeue_after_seconds(ds, status)
        if delay is not None:
            # A last line of defence against clock skew: count pods once they become available.
            self.enqueue_after(cache.meta_namespace_key(ds), delay)

    async def _store_status(
        self, ds: Obj, status: Mapping[str, Any], *, update_observed_generation: bool
    ) -> None:
        meta = ds.get("metadata") or {}
        # Only the top level and the status are written: the cached object itself stays untouched.
        clone: dict[str, Any] = dict(ds)
        clone["status"] = dict(ds.get("status") or {})
        clone.setdefault("apiVersion", c.API_VERSION)
        clone.setdefault("kind", c.KIND)
        attempt = 0
        while True:
            new_status = clone.setdefault("status", {})
            if update_observed_generation:
                new_status["observedGeneration"] = int(meta.get("generation") or 0)
            for counter in COUNTERS:
                new_status[counter] = status[counter]
            try:
                sent_rv = (clone.get("metadata") or {}).get("resourceVersion")
                stored = await self.daemonsets.update_status(clone, namespace=str(meta.get("namespace")))
                rv = (stored.get("metadata") or {}).get("resourceVersion")
                # A write that changed nothing returns the resourceVersion it was sent: that version
                # is someone else's write (a retry lands on the latest object), so it is not ours.
                if rv and rv != sent_rv:
                    self._own_status_rv[cache.meta_namespace_key(ds)] = str(rv)
                return
            except (errors.ApiError, errors.TransportError):
                if attempt >= c.STATUS_UPDATE_RETRIES:
                    raise
            attempt += 1
            # Retry on the latest object; a failing GET is the more interesting error.
            clone = await self.daemonsets.get(str(meta.get("name")), namespace=str(meta.get("namespace")))
