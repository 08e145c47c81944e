"""Informer event handlers of the DaemonSet controller: which DaemonSet keys an event enqueues.

Mirrors the handlers of upstream ``pkg/controller/daemon/daemon_controller.go`` (released versions up
to at least v1.30). Handlers never write; they map an event to DaemonSet keys, and for pods adjust the
expectations:

* DaemonSet add/update/delete → that DaemonSet. An update whose UID changed (deleted and recreated
  under the same name) is first handled as a delete of the old object; a delete drops the key's
  expectations, so a recreated DaemonSet starts clean. One deliberate difference: the update event
  of the controller's own status write (``own_write`` recognises its resourceVersion) enqueues
  nothing, since that sync already saw every input of it; upstream syncs once more for nothing,
  about one O(nodes) sync in four during a rollout. Any other change, status ones included, is
  still synced.
* Pod add → its controller (``creation_observed``), or, for an orphan, every DaemonSet in the
  namespace whose non-empty selector matches (to adopt it). A pod already being deleted is a delete.
* Pod update → nothing if the resourceVersion is unchanged; a pod being deleted is handled as a delete
  at once (so its replacement is not delayed by the grace period); a changed controllerRef also
  enqueues the old owner; an owned pod enqueues its owner, and again ``minReadySeconds + 1`` seconds
  later when it just became Ready; an orphan enqueues the matching DaemonSets only when its labels or
  controllerRef changed.
* Pod delete → its controller (``deletion_observed``); orphans are ignored.
* Node add → every DaemonSet that should run there. Node update → ignored unless labels or taints
  changed; then every DaemonSet whose ``(shouldRun, shouldContinueRunning)`` differs between the old
  and the new node. Node delete has no handler (pod GC and the sync's "unscheduled pods on
  non-existent nodes" clean up).
* ControllerRevision add → an owned revision enqueues nothing (the ControllerRevision conformance
  test relies on two current revisions coexisting until the next sync); an orphan enqueues the
  matching DaemonSets. Update → as for pods. Delete → its owner.

A controllerRef resolves only when it names kind ``DaemonSet`` and the cached DaemonSet of that name
has the same UID. :class:`PlacementCache` keeps one :class:`~.placement.Placement` per DaemonSet
resourceVersion, so a node event costs one affinity and taint check per DaemonSet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.placement import Placement
from kubeds.controllers.daemonset.pods import is_being_deleted, is_pod_ready
from kubeds.machinery import cache, expectations as expectations_mod
from kubeds.models.labels import SelectorError, selector_from_dict

__all__ = ["DaemonSetEventHandlers", "PlacementCache", "controller_ref_of"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def controller_ref_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true`` (upstream ``metav1.GetControllerOf``)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _rv(obj: Mapping[str, Any]) -> str:
    return str(_meta(obj).get("resourceVersion") or "")


class PlacementCache:
    """:class:`Placement` per DaemonSet, rebuilt when its resourceVersion changes."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, Placement]] = {}

    def get(self, ds: Mapping[str, Any]) -> Placement:
        uid = str(_meta(ds).get("uid") or "")
        rv = _rv(ds)
        hit = self._cache.get(uid)
        if hit is not None and hit[0] == rv and rv:
            return hit[1]
        placement = Placement(ds)
        self._cache[uid] = (rv, placement)
        return placement

    def forget(self, ds: Mapping[str, Any]) -> None:
        self._cache.pop(str(_meta(ds).get("uid") or ""), None)


class DaemonSetEventHandlers:
    """The handlers to register on the DaemonSet, pod, node and ControllerRevision informers."""

    def __init__(
        self,
        *,
        daemonsets: cache.Indexer,
        expectations: expectations_mod.ControllerExpectations,
        enqueue: Callable[[str], None],
        enqueue_after: Callable[[str, float], None],
        placements: PlacementCache,
        own_write: Callable[[Mapping[str, Any]], bool] = lambda _: False,
    ) -> None:
        self._daemonsets = daemonsets
        self._expectations = expectations
        self._enqueue = enqueue
        self._enqueue_after = enqueue_after
        self._placements = placements
        self._own_write = own_write

    # -- lookups --------------------------------------------------------------------------------

    def _enqueue_ds(self, ds: Mapping[str, Any]) -> None:
        self._enqueue(cache.meta_namespace_key(ds))

    def resolve_controller_ref(self, namespace: str, ref: Mapping[str, Any] | None) -> Obj | None:
        """The cached DaemonSet ``ref`` points to, or None (wrong kind, absent, or another UID)."""
        if ref is None or ref.get("kind") != c.KIND:
            return None
        key = f"{namespace}/{ref.get('name')}" if namespace else str(ref.get("name"))
        ds = self._daemonsets.get_by_key(key)
        if ds is None or _meta(ds).get("uid") != ref.get("uid"):
            return None
        return ds

    def daemonsets_selecting(self, obj: Mapping[str, Any]) -> list[Obj]:
        """DaemonSets in ``obj``'s namespace with a non-empty selector matching its labels."""
        namespace = str(_meta(obj).get("namespace") or "")
        labels: Mapping[str, str] = _meta(obj).get("labels") or {}
        result: list[Obj] = []
        for ds in self._daemonsets.by_index(cache.NAMESPACE_INDEX, namespace):
            try:
                selector = selector_from_dict((ds.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if selector.empty or not selector.matches(labels):
                continue
            result.append(ds)
        if len(result) > 1:
            # ControllerRef will ensure we don't do anything crazy, but more than one item in this
            # list signals a user error.
            log.info(
                "user error: more than one DaemonSet is selecting %s/%s",
                namespace,
                _meta(obj).get("name"),
            )
        return result

    # -- DaemonSets -----------------------------------------------------------------------------

    def add_daemonset(self, ds: Obj) -> None:
        self._enqueue_ds(ds)

    def update_daemonset(self, old: Obj, cur: Obj) -> None:
        if _meta(old).get("uid") != _meta(cur).get("uid"):
            self.delete_daemonset(old)
        elif self._own_write(cur):
            return  # the result of this controller's own status write
        self._enqueue_ds(cur)

    def delete_daemonset(self, ds: Obj) -> None:
        key = cache.meta_namespace_key(ds)
        # A DaemonSet recreated under the same name must start with clean expectations.
        self._expectations.delete_expectations(key)
        self._placements.forget(ds)
        self._enqueue(key)

    # -- pods -----------------------------------------------------------------------------------

    def add_pod(self, pod: Obj) -> None:
        if is_being_deleted(pod):
            # On a restart of the controller a pod may already be pending deletion.
            self.delete_pod(pod)
            return
        ref = controller_ref_of(pod)
        if ref is not None:
            ds = self.resolve_controller_ref(str(_meta(pod).get("namespace") or ""), ref)
            if ds is None:
                return
            key = cache.meta_namespace_key(ds)
            self._expectations.creation_observed(key)
            self._enqueue(key)
            return
        # An orphan: wake every matching DaemonSet so one of them adopts it.
        for ds in self.daemonsets_selecting(pod):
            self._enqueue_ds(ds)

    def update_pod(self, old: Obj, cur: Obj) -> None:
        if _rv(old) == _rv(cur):
            return  # a periodic resync: nothing changed
        if is_being_deleted(cur):
            # Graceful deletion started: treat it as deleted now, so the replacement is not held up
            # for the whole grace period.
            self.delete_pod(cur)
            return
        namespace = str(_meta(cur).get("namespace") or "")
        cur_ref = controller_ref_of(cur)
        old_ref = controller_ref_of(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            old_ds = self.resolve_controller_ref(namespace, old_ref)
            if old_ds is not None:
                self._enqueue_ds(old_ds)
        if cur_ref is not None:
            ds = self.resolve_controller_ref(namespace, cur_ref)
            if ds is None:
                return
            self._enqueue_ds(ds)
            min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(cur):
                # One more second to be safely past minReadySeconds when the sync runs.
                self._enqueue_after(cache.meta_namespace_key(ds), float(min_ready) + 1.0)
            return
        labels_changed = _meta(old).get("labels") != _meta(cur).get("labels")
        if labels_changed or ref_changed:
            for ds in self.daemonsets_selecting(cur):
                self._enqueue_ds(ds)

    def delete_pod(self, pod: Obj) -> None:
        ref = controller_ref_of(pod)
        if ref is None:
            return  # nobody cares about an orphan going away
        ds = self.resolve_controller_ref(str(_meta(pod).get("namespace") or ""), ref)
        if ds is None:
            return
        key = cache.meta_namespace_key(ds)
        self._expectations.deletion_observed(key)
        self._enqueue(key)

    # -- nodes ----------------------------------------------------------------------------------

    def add_node(self, node: Obj) -> None:
        for ds in self._daemonsets.list():
            if self._placements.get(ds).should_run(node)[0]:
                self._enqueue_ds(ds)

    def update_node(self, old: Obj, cur: Obj) -> None:
        if should_ignore_node_update(old, cur):
            return
        for ds in self._daemonsets.list():
            placement = self._placements.get(ds)
            if placement.should_run(old) != placement.should_run(cur):
                self._enqueue_ds(ds)

    # -- ControllerRevisions --------------------------------------------------------------------

    def add_history(self, history: Obj) -> None:
        if is_being_deleted(history):
            self.delete_history(history)
            return
        ref = controller_ref_of(history)
        if ref is not None:
            # Owned revisions are picked up by the owner's next sync; enqueueing here would dedup a
            # revision someone just created on purpose.
            return
        for ds in self.daemonsets_selecting(history):
            self._enqueue_ds(ds)

    def update_history(self, old: Obj, cur: Obj) -> None:
        if _rv(old) == _rv(cur):
            return
        namespace = str(_meta(cur).get("namespace") or "")
        cur_ref = controller_ref_of(cur)
        old_ref = controller_ref_of(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            old_ds = self.resolve_controller_ref(namespace, old_ref)
            if old_ds is not None:
                self._enqueue_ds(old_ds)
        if cur_ref is not None:
            ds = self.resolve_controller_ref(namespace, cur_ref)
            if ds is not None:
                self._enqueue_ds(ds)
            return
        labels_changed = _meta(old).get("labels") != _meta(cur).get("labels")
        if labels_changed or ref_changed:
            for ds in self.daemonsets_selecting(cur):
                self._enqueue_ds(ds)

    def delete_history(self, history: Obj) -> None:
        ref = controller_ref_of(history)
        if ref is None:
            return
        ds = self.resolve_controller_ref(str(_meta(history).get("namespace") or ""), ref)
        if ds is not None:
            self._enqueue_ds(ds)


def should_ignore_node_update(old: Mapping[str, Any], cur: Mapping[str, Any]) -> bool:
    """True when neither the labels nor the taints changed (upstream ``shouldIgnoreNodeUpdate``).

    Heartbeats, conditions, allocatable and annotations cannot change where a daemon pod runs.
    """
    old_labels = _meta(old).get("labels") or {}
    cur_labels = _meta(cur).get("labels") or {}
    old_taints = (old.get("spec") or {}).get("taints") or []
    cur_taints = (cur.get("spec") or {}).get("taints") or []
    return bool(old_labels == cur_labels and old_taints == cur_taints)
