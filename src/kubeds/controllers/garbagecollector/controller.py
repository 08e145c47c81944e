"""The garbage collector: cascading deletion over ownerReferences (background, foreground, orphan).

Mirrors upstream ``pkg/controller/garbagecollector/garbagecollector.go`` (``attemptToDeleteItem``,
``classifyReferences``, ``isDangling``, ``processDeletingDependentsItem``, ``orphanDependents``,
``attemptToOrphanWorker``) over the graph of :mod:`.graph_builder`. Two rate-limited queues of node
uids, each drained by ``workers`` tasks (``--concurrent-gc-syncs``, default 20):

* ``attempt_to_delete``: a node being deleted without ``foregroundDeletion`` is left alone (it is on
  its way out). Otherwise its latest state is read; absent (or another uid under that name) → a virtual
  delete event removes it from the graph. A node deleting dependents drops its ``foregroundDeletion``
  finalizer once no dependent with ``blockOwnerDeletion`` remains (and requeues those that do).
  Otherwise its ownerReferences are classified by a live GET of each owner (uid must match; the absent
  owners are remembered in an LRU so 5,000 pods of one deleted DaemonSet cost one GET): *solid* (exists,
  not foreground-deleting) → keep the object, patch away dangling and waiting references; only
  *waiting* owners and the object has dependents of its own → delete it with Foreground (after
  unblocking its references if a dependent is itself deleting dependents, to break cycles); no solid
  owner → delete it, honouring an ``orphan`` or ``foregroundDeletion`` finalizer it already carries,
  else Background.
* ``attempt_to_orphan``: strip the owner's uid from every dependent (bounded-concurrency patches), then
  remove the ``orphan`` finalizer so the API server finishes deleting the owner.

Deviation for speed, with upstream's safety: the "latest state" of an observed node comes from the
informer cache (which is never older than the graph, as the cache is updated before the graph event
is queued) instead of a GET per item; the DELETE carries a resourceVersion precondition exactly as
upstream's ``deleteObject`` does, so a decision made on stale ownerReferences fails with a conflict
and is re-checked live. Virtual nodes and owners are always read live.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers.garbagecollector import graph as g, graph_builder as gb, operations, restmapper
from kubeds.machinery import informer as informer_mod, ratelimit, workqueue

__all__ = ["GarbageCollector", "GarbageCollectorConfig"]

log = logging.getLogger(__name__)

POLICY_ORPHAN = "Orphan"
POLICY_FOREGROUND = "Foreground"
POLICY_BACKGROUND = "Background"
DEFAULT_WORKERS = 20  # kube-controller-manager --concurrent-gc-syncs
DEFAULT_ORPHAN_CONCURRENCY = 50
MSG_ORPHAN_FAILED = "failed to orphan dependents of owner {owner}, got errors"
MSG_SYNC_ERROR = "error syncing item {item}: {error}"

Obj = Mapping[str, Any]


class _VirtualDeleteEnqueued(Exception):
    """Upstream ``enqueuedVirtualDeleteEventErr``: the item is absent; the graph will drop it."""


class _NamespacedOwnerOfClusterScoped(Exception):
    """Upstream ``namespacedOwnerOfClusterScopedObjectErr``: an invalid reference, never retried."""


class _StaleCache(Exception):
    """A decision taken on the informer cache met a newer object (the DELETE's precondition failed)."""


class _Action(enum.Enum):
    FORGET = "forget"
    REQUEUE = "requeue"


_Handler = Callable[[str], Awaitable[_Action]]


@dataclasses.dataclass(frozen=True)
class GarbageCollectorConfig:
    """Knobs of the garbage collector, defaulting to kube-controller-manager's."""

    workers: int = DEFAULT_WORKERS
    resources: tuple[restmapper.ResourceMapping, ...] = restmapper.DEFAULT_MONITORED
    orphan_concurrency: int = DEFAULT_ORPHAN_CONCURRENCY
    absent_owner_cache_size: int = g.DEFAULT_ABSENT_OWNER_CACHE_SIZE

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.orphan_concurrency < 1:
            raise ValueError("orphan_concurrency must be at least 1")
        if self.absent_owner_cache_size < 1:
            raise ValueError("absent_owner_cache_size must be at least 1")
        if not self.resources:
            raise ValueError("resources must name at least one resource to monitor")
        for mapping in self.resources:
            restmapper.lookup(mapping.api_version, mapping.kind)


class GarbageCollector:
    """Deletes objects whose owners are gone and finishes foreground and orphan deletions."""

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: GarbageCollectorConfig | None = None,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informer_factory: informer_mod.SharedInformerFactory | None = None,
    ) -> None:
        self.config = config or GarbageCollectorConfig()
        self.api = api
        self.clock = clock
        self.attempt_to_delete = workqueue.RateLimitingQueue(
            clock=clock,
            rate_limiter=ratelimit.default_controller_rate_limiter(clock),
            name="garbage_collector_attempt_to_delete",
        )
        self.attempt_to_orphan = workqueue.RateLimitingQueue(
            clock=clock,
            rate_limiter=ratelimit.default_controller_rate_limiter(clock),
            name="garbage_collector_attempt_to_orphan",
        )
        self.absent_owner_cache = g.ReferenceCache(self.config.absent_owner_cache_size)
        self.graph = gb.GraphBuilder(
            attempt_to_delete=self.attempt_to_delete,
            attempt_to_orphan=self.attempt_to_orphan,
            absent_owner_cache=self.absent_owner_cache,
        )
        self.ops = operations.Operations(api)
        self._owns_factory = informer_factory is None
        self.factory = informer_factory or informer_mod.SharedInformerFactory(api, clock=clock)
        self._informers: dict[tuple[str, str], informer_mod.Informer] = {}
        for mapping in self.config.resources:
            inf = self.factory.informer(mapping.api_version, mapping.plural)
            on_add, on_update, on_delete = self.graph.handlers(mapping)
            inf.add_event_handler(on_add=on_add, on_update=on_update, on_delete=on_delete)
            self._informers[(mapping.api_version, mapping.kind)] = inf
        self._running = False
        self._stopped = asyncio.Event()

    # -- running --------------------------------------------------------------------------------

    def has_synced(self) -> bool:
        """Whether every monitored informer has listed once (upstream ``IsSynced``)."""
        return all(inf.has_synced() for inf in self._informers.values())

    async def run(self) -> None:
        """Monitor the resources, build the graph and run the workers until :meth:`stop` or cancel."""
        self._running = True
        self._stopped.clear()
        log.info("starting garbage collector controller")
        self.factory.start()
        graph_task = asyncio.get_running_loop().create_task(self.graph.run(), name="gc-graph-builder")
        try:
            for inf in self._informers.values():
                await inf.wait_for_sync()
            log.debug("garbage collector: all resource monitors have synced")
            async with asyncio.TaskGroup() as group:
                for index in range(self.config.workers):
                    group.create_task(
                        self._worker(self.attempt_to_delete, self._attempt_to_delete_worker),
                        name=f"gc-attempt-to-delete-{index}",
                    )
                    group.create_task(
                        self._worker(self.attempt_to_orphan, self._attempt_to_orphan_worker),
                        name=f"gc-attempt-to-orphan-{index}",
                    )
        finally:
            self.attempt_to_delete.shutdown()
            self.attempt_to_orphan.shutdown()
            graph_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await graph_task
            if self._owns_factory:
                await self.factory.stop()
            log.info("shutting down garbage collector controller")
            self._running = False
            self._stopped.set()

    async def stop(self) -> None:
        """Stop taking items, let the workers finish the ones they hold, and stop the monitors."""
        self.attempt_to_delete.shutdown()
        self.attempt_to_orphan.shutdown()
        if self._running:
            await self._stopped.wait()

    async def _worker(self, queue: workqueue.RateLimitingQueue, handle: _Handler) -> None:
        while True:
            try:
                uid = await queue.get()
            except workqueue.ShutDown:
                return
            try:
                action = await handle(uid)
            except Exception:
                log.exception("garbage collector: unexpected failure on %s", uid)
                action = _Action.REQUEUE
            try:
                if action is _Action.REQUEUE:
                    queue.add_rate_limited(uid)
                else:
                    queue.forget(uid)
            finally:
                queue.done(uid)

    # -- attemptToDelete ------------------------------------------------------------------------

    async def _attempt_to_delete_worker(self, uid: str) -> _Action:
        node = self.graph.uid_to_node.get(uid)
        if node is None:
            return _Action.FORGET
        try:
            await self.attempt_to_delete_item(node)
        except (_VirtualDeleteEnqueued, _NamespacedOwnerOfClusterScoped):
            return _Action.FORGET
        except restmapper.RESTMappingError as exc:
            # An owner of a kind this cluster does not serve (yet): retry with backoff, as upstream.
            log.error(MSG_SYNC_ERROR.format(item=node.identity, error=exc))
            return _Action.REQUEUE
        except Exception as exc:
            log.warning(MSG_SYNC_ERROR.format(item=node.identity, error=exc))
            return _Action.REQUEUE
        current = self.graph.uid_to_node.get(uid)
        if current is not None and current.virtual:
            # Not seen by an informer yet: check again later (upstream issue 56121).
            return _Action.REQUEUE
        return _Action.FORGET

    async def attempt_to_delete_item(self, item: g.Node) -> None:
        """Delete ``item`` if none of its owners remains; tidy its ownerReferences otherwise."""
        if item.being_deleted and not item.deleting_dependents:
            return
        try:
            await self._attempt_to_delete_item(item, from_cache=not item.virtual)
        except _StaleCache:
            # The cached object changed before the DELETE: decide again on the live object.
            await self._attempt_to_delete_item(item, from_cache=False)

    async def _attempt_to_delete_item(self, item: g.Node, *, from_cache: bool) -> None:
        latest = await self._latest(item, from_cache=from_cache)
        cached = latest is self._cached(item.identity)
        if item.deleting_dependents:
            await self._process_deleting_dependents_item(item)
            return
        meta = latest.get("metadata") or {}
        owner_refs: list[Obj] = list(meta.get("ownerReferences") or [])
        if not owner_refs:
            return
        solid, dangling, waiting = await self._classify_references(item, owner_refs)
        if solid:
            if not dangling and not waiting:
                return
            uids = [str(ref.get("uid") or "") for ref in (*dangling, *waiting)]
            log.debug("garbage collector: removing references %s from %s", uids, item.identity)
            await self.ops.patch(item.identity, operations.delete_owner_refs_patch(item.uid, uids))
            return
        if waiting and item.dependents:
            if any(dep.deleting_dependents for dep in item.sorted_dependents()):
                # A dependent is itself waiting for us: unblock to avoid a deadlock cycle.
                await self.ops.patch(item.identity, item.unblock_owner_references_patch())
            policy = POLICY_FOREGROUND
        elif g.has_finalizer(latest, g.FINALIZER_ORPHAN):
            policy = POLICY_ORPHAN
        elif g.has_finalizer(latest, g.FINALIZER_FOREGROUND):
            policy = POLICY_FOREGROUND
        else:
            policy = POLICY_BACKGROUND
        log.debug("garbage collector: deleting %s with propagationPolicy %s", item.identity, policy)
        try:
            await self.ops.delete_object(
                item.identity,
                resource_version=str(meta.get("resourceVersion") or ""),
                owners_at_resource_version=owner_refs,
                policy=policy,
            )
        except errors.NotFound:
            self.graph.enqueue_virtual_delete_event(item.identity)
            raise _VirtualDeleteEnqueued from None
        except errors.Conflict:
            if cached:
                raise _StaleCache from None
            raise

    async def _latest(self, item: g.Node, *, from_cache: bool) -> Obj:
        """The item's current state: the informer cache for observed nodes, else a live GET."""
        if from_cache:
            cached = self._cached(item.identity)
            if cached is not None and (cached.get("metadata") or {}).get("uid") == item.uid:
                return cached
        try:
            latest = await self.ops.get_object(item.identity)
        except errors.NotFound:
            self.graph.enqueue_virtual_delete_event(item.identity)
            raise _VirtualDeleteEnqueued from None
        if (latest.get("metadata") or {}).get("uid") != item.uid:
            self.graph.enqueue_virtual_delete_event(item.identity)
            raise _VirtualDeleteEnqueued
        return latest

    def _cached(self, identity: g.ObjectReference) -> Obj | None:
        inf = self._informers.get((identity.api_version, identity.kind))
        if inf is None or not inf.has_synced():
            return None
        key = f"{identity.namespace}/{identity.name}" if identity.namespace else identity.name
        return inf.indexer.get_by_key(key)

    async def _classify_references(
        self, item: g.Node, refs: list[Obj]
    ) -> tuple[list[Obj], list[Obj], list[Obj]]:
        """Upstream ``classifyReferences``: (solid, dangling, waitingForDependentsDeletion)."""
        solid: list[Obj] = []
        dangling: list[Obj] = []
        waiting: list[Obj] = []
        for ref in refs:
            owner = await self._live_owner(ref, item)
            if owner is None:
                dangling.append(ref)
            elif g.being_deleted(owner) and g.has_finalizer(owner, g.FINALIZER_FOREGROUND):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    async def _live_owner(self, ref: Obj, item: g.Node) -> Obj | None:
        """Upstream ``isDangling``: the owner object, or None when absent (or another uid has its name)."""
        key = g.reference_coordinates(ref)
        if self.absent_owner_cache.has(key):
            return None
        key = g.reference_coordinates(ref, namespace=item.identity.namespace)
        if self.absent_owner_cache.has(key):
            return None
        mapping = restmapper.lookup(key.api_version, key.kind)
        if not mapping.namespaced:
            key = dataclasses.replace(key, namespace="")
        elif not item.identity.namespace:
            log.info("garbage collector: %s is cluster-scoped but refers to namespaced owner %s", item, key)
            raise _NamespacedOwnerOfClusterScoped
        try:
            owner = await self.ops.get_object(key)
        except errors.NotFound:
            self.absent_owner_cache.add(key)
            return None
        if (owner.get("metadata") or {}).get("uid") != key.uid:
            self.absent_owner_cache.add(key)
            return None
        return owner

    async def _process_deleting_dependents_item(self, item: g.Node) -> None:
        blocking = item.blocking_dependents()
        if not blocking:
            log.debug("garbage collector: removing the foregroundDeletion finalizer of %s", item.identity)
            await self.ops.remove_finalizer(item.identity, g.FINALIZER_FOREGROUND)
            return
        for dep in blocking:
            # A dependent already on its way out needs nothing; its delete event requeues us.
            if not dep.deleting_dependents and not dep.being_deleted:
                self.attempt_to_delete.add(dep.uid)

    # -- attemptToOrphan ------------------------------------------------------------------------

    async def _attempt_to_orphan_worker(self, uid: str) -> _Action:
        owner = self.graph.uid_to_node.get(uid)
        if owner is None:
            return _Action.FORGET
        try:
            await self.orphan_dependents(owner.identity, owner.sorted_dependents())
            await self.ops.remove_finalizer(owner.identity, g.FINALIZER_ORPHAN)
        except Exception as exc:
            log.warning("garbage collector: orphaning the dependents of %s failed: %s", owner.identity, exc)
            return _Action.REQUEUE
        return _Action.FORGET

    async def orphan_dependents(self, owner: g.ObjectReference, dependents: list[g.Node]) -> None:
        """Remove ``owner`` from the ownerReferences of every dependent (missing dependents are fine)."""
        limit = asyncio.Semaphore(self.config.orphan_concurrency)
        failures: list[Exception] = []

        async def orphan(dep: g.Node) -> None:
            async with limit:
                try:
                    await self.ops.patch(
                        dep.identity, operations.delete_owner_refs_patch(dep.uid, [owner.uid])
                    )
                except errors.NotFound:
                    pass
                except (errors.ApiError, errors.TransportError) as exc:
                    failures.append(exc)

        await asyncio.gather(*(orphan(dep) for dep in dependents))
        if failures:
            raise ExceptionGroup(MSG_ORPHAN_FAILED.format(owner=owner), failures)
