"""Keeping each DaemonSet's :class:`~.dsview.DaemonSetView` in step with the informer caches.

The client-go shape stays: informer handlers only *mark* what changed (a pod key, a node name) on the
views it may concern, next to the keys :mod:`.handlers` enqueues; :meth:`DaemonSetViews.get`, called by
the sync, reads the caches for what was marked and updates the view, so a sync costs what changed:

* a pod event marks the pod on the view of the DaemonSet its controllerRef names (old and new
  object), on every view of its namespace when it has no controller (a possible adoption), and on
  every view that holds it now (whatever became of it);
* a node add or delete, and a node update that changed labels or taints (the only node fields
  placement reads, upstream ``shouldIgnoreNodeUpdate``), marks the node on every view.

At sync time a marked pod is looked up in the pod cache and claimed again (upstream
``ClaimPods``: the steady state of an owned, selected pod without a request; adoption and release
through :func:`.claims.claim`), then the nodes it left or joined and the marked nodes are summarised
again; nodes whose pods are Ready but not yet available are re-evaluated at every sync. A view is
rebuilt from the caches (every pod of the namespace claimed, every node summarised) on the first sync,
whenever :func:`~.dsview.view_key` changes (a new spec generation, hash or template generation), and
every ``rebuild_interval`` seconds as a safety net (0: on every sync, as upstream's full re-list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.dsview import DaemonSetView, view_key
from kubeds.controllers.daemonset.handlers import controller_ref_of, should_ignore_node_update
from kubeds.controllers.daemonset.podcontrol import aggregate
from kubeds.machinery import cache
from kubeds.models.labels import SelectorError, selector_from_dict

__all__ = ["ClaimFunc", "DaemonSetViews"]

Obj = Mapping[str, Any]
# claim(ds, pods) -> (claimed, errors): .claims.claim bound to the controller's clients.
ClaimFunc = Callable[[Obj, Sequence[Obj]], Awaitable[tuple[list[Obj], list[BaseException]]]]


class DaemonSetViews:
    """One :class:`DaemonSetView` per DaemonSet key, marked by informer events, refreshed by syncs."""

    def __init__(self, *, pods: cache.Indexer, nodes: cache.Indexer, rebuild_interval: float = 300.0) -> None:
        self._pods = pods
        self._nodes = nodes
        self.rebuild_interval = rebuild_interval
        self._views: dict[str, DaemonSetView] = {}
        self.rebuilds = 0  # how many full rebuilds ran (tests and diagnostics)

    # -- informer handlers ----------------------------------------------------------------------

    def pod_changed(self, *objs: Obj) -> None:
        """Pod add (pod), update (old, new) or delete (pod): mark it where it may matter."""
        if not self._views:
            return
        key = cache.meta_namespace_key(objs[-1])
        namespace = str((objs[-1].get("metadata") or {}).get("namespace") or "")
        for obj in objs:
            ref = controller_ref_of(obj)
            if ref is None:
                for view in self._views.values():
                    if view.namespace == namespace:
                        view.dirty_pods.add(key)
            elif ref.get("kind") == c.KIND:
                owner = self._views.get(
                    f"{namespace}/{ref.get('name')}" if namespace else str(ref.get("name"))
                )
                if owner is not None:
                    owner.dirty_pods.add(key)
        for view in self._views.values():
            if view.contains_pod(key):
                view.dirty_pods.add(key)

    def node_added_or_deleted(self, node: Obj) -> None:
        name = cache.meta_namespace_key(node)
        for view in self._views.values():
            view.dirty_nodes.add(name)

    def node_updated(self, old: Obj, cur: Obj) -> None:
        if not should_ignore_node_update(old, cur):
            self.node_added_or_deleted(cur)

    # -- sync side ------------------------------------------------------------------------------

    def forget(self, key: str) -> None:
        self._views.pop(key, None)

    def peek(self, key: str) -> DaemonSetView | None:
        return self._views.get(key)

    async def get(
        self,
        ds: Obj,
        hash_: str,
        *,
        claim: ClaimFunc,
        now: dt.datetime,
        monotonic: float,
        fresh: bool = False,
    ) -> DaemonSetView:
        """The view of ``ds``, brought up to date with the caches (rebuilt when ``fresh`` or stale).

        Raises the aggregate of the claim errors (nothing may be decided on a partial claim).
        """
        key = cache.meta_namespace_key(ds)
        view = self._views.get(key)
        if (
            view is None
            or fresh
            or view.key != view_key(ds, hash_)
            or self.rebuild_interval <= 0
            or monotonic - view.built_at >= self.rebuild_interval
        ):
            return await self._rebuild(key, ds, hash_, claim=claim, now=now, monotonic=monotonic)
        await self._refresh(view, ds, claim=claim, now=now)
        return view

    async def _rebuild(
        self, key: str, ds: Obj, hash_: str, *, claim: ClaimFunc, now: dt.datetime, monotonic: float
    ) -> DaemonSetView:
        view = DaemonSetView(ds, hash_, built_at=monotonic)
        # Registered before the list: whatever changes while the claim waits is marked on it.
        self._views[key] = view
        self.rebuilds += 1
        pods = self._pods.by_index(cache.NAMESPACE_INDEX, view.namespace)
        claimed, failures = await claim(ds, pods)
        err = aggregate(failures)
        if err is not None:
            if self._views.get(key) is view:
                del self._views[key]
            raise err
        view.load(claimed, self._nodes.list(), key_of=cache.meta_namespace_key, now=now)
        return view

    async def _refresh(self, view: DaemonSetView, ds: Obj, *, claim: ClaimFunc, now: dt.datetime) -> None:
        pod_keys, view.dirty_pods = view.dirty_pods, set()
        touched, view.dirty_nodes = view.dirty_nodes, set()
        try:
            if pod_keys:
                await self._reclaim(view, ds, pod_keys, touched, claim=claim)
        finally:
            for name in touched:
                view.refresh_node(name, self._nodes.get_by_key(name), now=now)
            view.reevaluate_waiting(now=now, skip=touched)

    async def _reclaim(
        self, view: DaemonSetView, ds: Obj, pod_keys: set[str], touched: set[str], *, claim: ClaimFunc
    ) -> None:
        """Claim the marked pods again: owned and selected ones at once, the rest through ``claim``."""
        uid = (ds.get("metadata") or {}).get("uid")
        try:
            selector = selector_from_dict((ds.get("spec") or {}).get("selector"))
        except SelectorError:
            selector = None
        to_claim: list[Obj] = []
        for key in pod_keys:
            pod = self._pods.get_by_key(key)
            ref = None if pod is None else controller_ref_of(pod)
            if pod is None or (ref is not None and ref.get("uid") != uid):
                touched |= view.set_pod(key, None)  # gone, or another controller's
                continue
            if ref is not None and selector is not None:
                labels = (pod.get("metadata") or {}).get("labels") or {}
                if selector.matches(labels):
                    touched |= view.set_pod(key, pod)
                    continue
            touched |= view.set_pod(key, None)
            to_claim.append(pod)
        if not to_claim:
            return
        claimed, failures = await claim(ds, to_claim)
        for claimed_pod in claimed:
            touched |= view.set_pod(cache.meta_namespace_key(claimed_pod), claimed_pod)
        err = aggregate(failures)
        if err is not None:
            # Claim them again on the next sync, which the work queue's retry brings.
            view.dirty_pods.update(cache.meta_namespace_key(p) for p in to_claim)
            raise err
