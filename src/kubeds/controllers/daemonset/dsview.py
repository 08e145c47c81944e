"""The incrementally maintained view of one DaemonSet: its claimed pods, node summaries and counters.

Upstream ``syncDaemonSet`` (``pkg/controller/daemon/daemon_controller.go``) re-lists every node and
every pod of the namespace, re-claims them and walks all nodes in ``manage``,
``updateDaemonSetStatus`` and ``rollingUpdate``: each sync is O(nodes), and a rollout syncs about
twice per pod, so O(nodes²) overall. Here the result of that walk is kept between syncs:

* the claimed pods of the DaemonSet by target node (``getNodesToDaemonPods``), terminal pods being
  deleted included (history cleanup counts their hashes) and the pods naming no node apart;
* a :class:`~.nodeview.NodeSummary` and its evaluated :class:`~.nodeview.NodeState` per node that
  exists or has pods;
* the sum of every node's counts (the status counters and the rolling-update counts) and, per tag,
  the sorted names of the nodes carrying it (:class:`SortedNames`), so a decision reads only the
  nodes it acts on.

Pods and nodes are changed with :meth:`DaemonSetView.set_pod` and :meth:`DaemonSetView.refresh_node`;
every change replaces the node's old contribution by its new one (a delta). The view depends on the
DaemonSet only through :attr:`DaemonSetView.key` (UID, spec generation, current hash, template
generation): when the key changes the owner builds a new view. Nothing here does I/O or reads a
clock; :mod:`.views` feeds it from the informer caches and :mod:`.viewdecisions` decides from it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.nodeview import (
    EMPTY_STATE,
    N_COUNTS,
    TAG_WAITING,
    TAGS,
    NodeState,
    NodeSummary,
    evaluate_node,
    summarize_node,
)
from kubeds.controllers.daemonset.placement import Placement
from kubeds.controllers.daemonset.podtemplate import (
    TargetNodeError,
    get_target_node_name,
    get_template_generation,
)

__all__ = ["DaemonSetView", "SortedNames", "view_key"]

Pod = Mapping[str, Any]
ViewKey = tuple[str, str, str, str]


def view_key(ds: Mapping[str, Any], hash_: str) -> ViewKey:
    """What the view depends on: UID, spec version (generation, else resourceVersion), hash, template generation.

    The placement, the selector, the update strategy and ``minReadySeconds`` are in the spec (any
    change bumps ``metadata.generation``); ``hash_`` and the template-generation annotation decide
    which pods are up to date.
    """
    meta = ds.get("metadata") or {}
    generation = meta.get("generation")
    spec_version = f"g{generation}" if generation else f"rv{meta.get('resourceVersion') or ''}"
    return str(meta.get("uid") or ""), spec_version, hash_, str(get_template_generation(ds))


class SortedNames:
    """A set of names kept sorted: O(log n) membership changes, the first k names in O(k)."""

    __slots__ = ("_names", "_set")

    def __init__(self) -> None:
        self._names: list[str] = []
        self._set: set[str] = set()

    def add(self, name: str) -> None:
        if name not in self._set:
            self._set.add(name)
            bisect.insort(self._names, name)

    def discard(self, name: str) -> None:
        if name in self._set:
            self._set.discard(name)
            del self._names[bisect.bisect_left(self._names, name)]

    def first(self, k: int) -> list[str]:
        return self._names[: max(k, 0)]

    def __contains__(self, name: object) -> bool:
        return name in self._set

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __bool__(self) -> bool:
        return bool(self._names)


class DaemonSetView:
    """Claimed pods, node summaries, counters and tagged node sets of one DaemonSet."""

    def __init__(self, ds: Mapping[str, Any], hash_: str, *, built_at: float = 0.0) -> None:
        meta = ds.get("metadata") or {}
        self.key = view_key(ds, hash_)
        self.namespace = str(meta.get("namespace") or "")
        self.hash = hash_
        self.generation = get_template_generation(ds)
        self.min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        self.placement = Placement(ds)
        self.built_at = built_at
        self.pods: dict[str, Pod] = {}  # claimed pods naming a node, by namespace/name
        self.pod_node: dict[str, str] = {}
        self.node_pods: dict[str, dict[str, Pod]] = {}
        self.untargeted: dict[str, Pod] = {}  # claimed pods naming no node
        self.hash_counts: dict[str, int] = {}  # hash labels of self.pods (live revisions)
        self.summaries: dict[str, NodeSummary] = {}
        self.states: dict[str, NodeState] = {}
        self.tags: dict[str, SortedNames] = {tag: SortedNames() for tag in TAGS}
        self.totals: list[int] = [0] * N_COUNTS
        # Filled by the informer handlers (via :mod:`.views`), drained by the next refresh.
        self.dirty_pods: set[str] = set()
        self.dirty_nodes: set[str] = set()

    # -- pods -----------------------------------------------------------------------------------

    def set_pod(self, key: str, pod: Pod | None) -> set[str]:
        """Record ``pod`` (claimed) or its absence (None) under ``key``; returns the nodes touched."""
        touched: set[str] = set()
        old_node = self.pod_node.pop(key, None)
        if old_node is not None:
            touched.add(old_node)
            old = self.pods.pop(key)
            self._count_hash(old, -1)
            on_node = self.node_pods.get(old_node)
            if on_node is not None:
                on_node.pop(key, None)
                if not on_node:
                    del self.node_pods[old_node]
        self.untargeted.pop(key, None)
        if pod is None:
            return touched
        try:
            node_name = get_target_node_name(pod)
        except TargetNodeError:
            self.untargeted[key] = pod
            return touched
        self.pods[key] = pod
        self.pod_node[key] = node_name
        self.node_pods.setdefault(node_name, {})[key] = pod
        self._count_hash(pod, 1)
        touched.add(node_name)
        return touched

    def _count_hash(self, pod: Pod, delta: int) -> None:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        value = labels.get(c.CONTROLLER_REVISION_HASH_LABEL)
        if not value:
            return
        h = str(value)
        count = self.hash_counts.get(h, 0) + delta
        if count > 0:
            self.hash_counts[h] = count
        else:
            self.hash_counts.pop(h, None)

    def contains_pod(self, key: str) -> bool:
        return key in self.pod_node or key in self.untargeted

    def claimed_pods(self) -> list[Pod]:
        """Every claimed pod (those naming no node too), as ``claimPods`` returns them."""
        return [*self.pods.values(), *self.untargeted.values()]

    def live_pods(self) -> Iterator[Pod]:
        """The pods ``getNodesToDaemonPods(includeDeletedTerminal=true)`` groups (history cleanup)."""
        return iter(self.pods.values())

    # -- nodes ----------------------------------------------------------------------------------

    def refresh_node(self, name: str, node: Mapping[str, Any] | None, *, now: dt.datetime) -> None:
        """Recompute the summary of node ``name`` (``node`` is its cached object, None if absent)."""
        pods = self.node_pods.get(name)
        if node is None and not pods:
            self._set_state(name, EMPTY_STATE)
            self.summaries.pop(name, None)
            return
        summary = summarize_node(
            name,
            exists=node is not None,
            placement=self.placement.should_run(node) if node is not None else (False, False),
            pods=list(pods.values()) if pods else (),
            hash_=self.hash,
            generation=self.generation,
        )
        self.summaries[name] = summary
        self._set_state(name, evaluate_node(summary, min_ready=self.min_ready, now=now))

    def reevaluate_waiting(self, *, now: dt.datetime, skip: Iterable[str] = ()) -> None:
        """Evaluate again the nodes whose pods were Ready but not yet available."""
        skipped = set(skip)
        for name in list(self.tags[TAG_WAITING]):
            if name not in skipped:
                self._set_state(name, evaluate_node(self.summaries[name], min_ready=self.min_ready, now=now))

    def _set_state(self, name: str, state: NodeState) -> None:
        old = self.states.get(name, EMPTY_STATE)
        if old == state:
            return
        totals = self.totals
        for i, (a, b) in enumerate(zip(old.counts, state.counts, strict=True)):
            if a != b:
                totals[i] += b - a
        for tag in old.tags - state.tags:
            self.tags[tag].discard(name)
        for tag in state.tags - old.tags:
            self.tags[tag].add(name)
        if state is EMPTY_STATE or state == EMPTY_STATE:
            self.states.pop(name, None)
        else:
            self.states[name] = state

    # -- bulk -----------------------------------------------------------------------------------

    def load(
        self,
        claimed: Iterable[Pod],
        nodes: Iterable[Mapping[str, Any]],
        *,
        key_of: Callable[[Pod], str],
        now: dt.datetime,
    ) -> None:
        """Fill an empty view from the claimed pods and every cached node."""
        for pod in claimed:
            self.set_pod(key_of(pod), pod)
        seen: set[str] = set()
        for node in nodes:
            name = str((node.get("metadata") or {}).get("name") or "")
            seen.add(name)
            self.refresh_node(name, node, now=now)
        for name in list(self.node_pods):
            if name not in seen:
                self.refresh_node(name, None, now=now)

    def count(self, field_index: int) -> int:
        return self.totals[field_index]
