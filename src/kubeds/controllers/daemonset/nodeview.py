"""What one node means to one DaemonSet: an immutable summary and its time-dependent evaluation.

The incremental sync (:mod:`.dsview`) keeps one :class:`NodeSummary` per (DaemonSet, node) and
recomputes it only when the node or one of the DaemonSet's pods on it changed. A summary holds what
upstream ``pkg/controller/daemon/daemon_controller.go`` looks up per node in ``manage``
(``podsShouldBeOnNode``) and ``updateDaemonSetStatus``, and what ``update.go`` ``rollingUpdate``
looks up per node (``findUpdatedPodsOnNode``):

* the node's existence and ``(should_run, should_continue_running)`` (:mod:`.placement`);
* the claimed pods targeting it, terminal pods being deleted left out as ``getNodesToDaemonPods``
  does, oldest first (``podByCreationTimestampAndPhase``), with the few facts the decisions read
  (:class:`PodFacts`);
* ``findUpdatedPodsOnNode``'s answer: the new pod, the old pod, or "excess".

Only availability (``minReadySeconds``) depends on the clock. :func:`evaluate_node` turns a summary and
``now`` into a :class:`NodeState`: the node's contribution to the seven status counters and to the
rolling-update counts, and the *tags* (which node sets it belongs to: "needs a create", "needs the
full manage check", "has an old pod that may be replaced", ...). A node with a pod that is Ready but
not yet available is tagged :data:`TAG_WAITING` and evaluated again on every sync until it is.
Everything here is pure; the branches mirror :mod:`.decisions`, :mod:`.rolling` and :mod:`.status`,
and the equivalence test checks the aggregate against those functions on random clusters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.pods import is_being_deleted, is_pod_terminal, parse_time, pod_age_key

__all__ = [
    "COUNT_FIELDS",
    "TAGS",
    "NodeState",
    "NodeSummary",
    "PodFacts",
    "evaluate_node",
    "pod_facts",
    "summarize_node",
]

Pod = Mapping[str, Any]

# Contribution of one node; the status counters first, in status.COUNTERS order (minus numberUnavailable).
COUNT_FIELDS = (
    "desiredNumberScheduled",
    "currentNumberScheduled",
    "numberMisscheduled",
    "numberReady",
    "updatedNumberScheduled",
    "numberAvailable",
    "old_nodes",  # nodes with one old pod (findUpdatedPodsOnNode ok): the rolling update has work
    "unavailable",  # rollingUpdate without surge: numUnavailable
    "surging",  # rollingUpdate with surge: numSurge
    "surge_available",  # rollingUpdate with surge: numAvailable
)
N_COUNTS = len(COUNT_FIELDS)

# manage: an existing node with no pod where the DaemonSet should run (a create, nothing else to check).
TAG_CREATE = "create"
# manage: an existing node whose pods need podsShouldBeOnNode (anything but the two trivial states).
TAG_MANAGE = "manage"
# manage: pods pinned to a node that does not exist (getUnscheduledPodsWithoutNode).
TAG_MISSING = "missing"
# Ready but not yet available: evaluate again on every sync.
TAG_WAITING = "waiting"
# rollingUpdate without surge: the only pod is old and not available (always replaced) / available.
TAG_OLD_UNAVAILABLE = "old-unavailable"
TAG_OLD_AVAILABLE = "old-available"
# rollingUpdate with surge.
TAG_SURGE_MISSING = "surge-missing"  # an old pod alone on a node that does not exist: an error
TAG_SURGE_NEW_NOW = "surge-new-now"  # old pod unavailable, should run: its new pod is created at once
TAG_SURGE_DELETE_OLD = "surge-delete-old"  # old pod deleted now (new one available, or sunset+unavailable)
TAG_SURGE_SUNSET = "surge-sunset"  # old pod available where the DaemonSet no longer runs
TAG_SURGE_CANDIDATE = "surge-candidate"  # old pod available, should run: a new pod within maxSurge
TAG_SURGE_WAIT = "surge-wait"  # old pod beside a new pod Ready but not yet available
TAGS = (
    TAG_CREATE,
    TAG_MANAGE,
    TAG_MISSING,
    TAG_WAITING,
    TAG_OLD_UNAVAILABLE,
    TAG_OLD_AVAILABLE,
    TAG_SURGE_MISSING,
    TAG_SURGE_NEW_NOW,
    TAG_SURGE_DELETE_OLD,
    TAG_SURGE_SUNSET,
    TAG_SURGE_CANDIDATE,
    TAG_SURGE_WAIT,
)


@dataclass(frozen=True, slots=True)
class PodFacts:
    """The facts of one daemon pod the decisions read."""

    name: str
    uid: str
    deleting: bool
    phase: str
    ready: bool
    ready_since: dt.datetime | None  # the Ready condition's lastTransitionTime
    updated: bool  # current hash or template generation (IsPodUpdated)
    current_hash: bool  # the controller-revision-hash label is the current hash (surge pruning)
    created: dt.datetime

    def available(self, min_ready: int, now: dt.datetime) -> bool:
        """``IsPodAvailable``: Ready, and Ready for strictly more than ``min_ready`` seconds."""
        if not self.ready:
            return False
        if not min_ready:
            return True
        if self.ready_since is None:
            return False
        return self.ready_since + dt.timedelta(seconds=min_ready) < now


def pod_facts(pod: Pod, *, hash_: str, generation: int | None) -> PodFacts:
    """The :class:`PodFacts` of ``pod`` for the current ``hash_`` and template ``generation``."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    labels = meta.get("labels") or {}
    ready = False
    since: dt.datetime | None = None
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Ready":
            ready = cond.get("status") == "True"
            since = parse_time(cond.get("lastTransitionTime"))
            break
    pod_hash = labels.get(c.CONTROLLER_REVISION_HASH_LABEL)
    current_hash = bool(hash_) and pod_hash == hash_
    template_matches = generation is not None and labels.get(c.POD_TEMPLATE_GENERATION_LABEL) == str(
        generation
    )
    return PodFacts(
        name=str(meta.get("name") or ""),
        uid=str(meta.get("uid") or ""),
        deleting=meta.get("deletionTimestamp") is not None,
        phase=str(status.get("phase") or ""),
        ready=ready,
        ready_since=since,
        updated=current_hash or template_matches,
        current_hash=pod_hash is not None and str(pod_hash) == hash_,
        created=pod_age_key(pod)[1],
    )


@dataclass(frozen=True, slots=True)
class NodeSummary:
    """One node as one DaemonSet sees it (time-independent)."""

    name: str
    exists: bool
    should_run: bool
    should_continue_running: bool
    pods: tuple[Pod, ...]  # oldest first; terminal pods being deleted left out
    facts: tuple[PodFacts, ...]  # parallel to pods
    excess: bool  # findUpdatedPodsOnNode: more than one new or more than one old pod
    new: PodFacts | None
    old: PodFacts | None


def summarize_node(
    name: str,
    *,
    exists: bool,
    placement: tuple[bool, bool],
    pods: Sequence[Pod],
    hash_: str,
    generation: int | None,
) -> NodeSummary:
    """The summary of node ``name`` given its placement answer and every claimed pod targeting it."""
    live = [p for p in pods if not (is_being_deleted(p) and is_pod_terminal(p))]
    if len(live) > 1:
        live.sort(key=pod_age_key)
    facts = tuple(pod_facts(p, hash_=hash_, generation=generation) for p in live)
    new: PodFacts | None = None
    old: PodFacts | None = None
    excess = False
    for f in facts:
        if f.deleting:
            continue
        if f.updated:
            if new is not None:
                excess = True
            new = f
        else:
            if old is not None:
                excess = True
            old = f
    if excess:
        new = old = None
    should_run, should_continue = placement if exists else (False, False)
    return NodeSummary(
        name=name,
        exists=exists,
        should_run=should_run,
        should_continue_running=should_continue,
        pods=tuple(live),
        facts=facts,
        excess=excess,
        new=new,
        old=old,
    )


@dataclass(frozen=True, slots=True)
class NodeState:
    """A summary evaluated at one instant: its counts (:data:`COUNT_FIELDS`) and tags."""

    counts: tuple[int, ...]
    tags: frozenset[str]


EMPTY_STATE = NodeState((0,) * N_COUNTS, frozenset())


def _settled(f: PodFacts) -> bool:
    return not f.deleting and f.phase not in ("Failed", "Succeeded")


def evaluate_node(s: NodeSummary, *, min_ready: int, now: dt.datetime) -> NodeState:
    """The node's contribution to the counters and the node sets, at ``now``."""
    counts = [0] * N_COUNTS
    tags: set[str] = set()
    waiting = False

    def available(f: PodFacts) -> bool:
        nonlocal waiting
        ok = f.available(min_ready, now)
        if f.ready and not ok:
            waiting = True
        return ok

    has_pods = bool(s.pods)
    # -- manage (decisions.manage_decisions) and status (status.compute_status) ----------------------
    if s.exists:
        if not has_pods:
            if s.should_run:
                tags.add(TAG_CREATE)
        elif not (len(s.pods) == 1 and _settled(s.facts[0]) and s.should_continue_running):
            tags.add(TAG_MANAGE)
        if not s.should_run:
            counts[2] += int(has_pods)
        else:
            counts[0] += 1
            if has_pods:
                counts[1] += 1
                first = s.facts[0]
                if first.ready:
                    counts[3] += 1
                    if available(first):
                        counts[5] += 1
                counts[4] += int(first.updated)
    elif has_pods:
        tags.add(TAG_MISSING)
    # -- rolling update (rolling.rolling_update_decisions): nodes with pods or eligible ones ---------
    if has_pods or (s.exists and s.should_run):
        new, old = s.new, s.old
        if s.excess:
            counts[7] += 1
            counts[8] += 1
        else:
            new_ok = new is not None and available(new)
            old_ok = old is not None and available(old)
            # Without surge.
            if (old is None) == (new is None):
                counts[7] += 1
            elif new is not None:
                counts[7] += int(not new_ok)
            elif not old_ok:
                counts[7] += 1
                tags.add(TAG_OLD_UNAVAILABLE)
            else:
                tags.add(TAG_OLD_AVAILABLE)
            # With surge.
            if old is not None:
                counts[6] += 1
                counts[9] += int(old_ok)
                if new is None:
                    if not s.exists:
                        tags.add(TAG_SURGE_MISSING)
                    elif not old_ok:
                        tags.add(TAG_SURGE_NEW_NOW if s.should_run else TAG_SURGE_DELETE_OLD)
                    else:
                        tags.add(TAG_SURGE_CANDIDATE if s.should_run else TAG_SURGE_SUNSET)
                elif not new_ok:
                    counts[8] += 1
                    if new.ready:
                        tags.add(TAG_SURGE_WAIT)
                else:
                    tags.add(TAG_SURGE_DELETE_OLD)
            elif new is not None:
                counts[9] += int(new_ok)
    if waiting and min_ready:
        tags.add(TAG_WAITING)
    return NodeState(tuple(counts), frozenset(tags))
