"""The manage loop's decisions: which nodes need a daemon pod and which pods must go.

Mirrors upstream ``pkg/controller/daemon/daemon_controller.go`` ``podsShouldBeOnNode``, ``manage``
and ``getUnscheduledPodsWithoutNode``. For each node, with ``(should_run, should_continue_running)``
from :mod:`.placement`:

* should run and no pod → create one;
* may continue running → pods being deleted are ignored; a Failed pod is deleted (Warning
  ``FailedDaemonPod``) unless its node is in failed-pod backoff, and is replaced on a later sync; a
  Succeeded pod is deleted (Normal ``SucceededDaemonPod``); of the remaining pods, without surge
  all but the oldest are deleted (bound first, then creation time, then name); with surge the
  oldest current-hash pod and the oldest other pod are kept, and the old one goes once it is not
  Ready or the new one is available;
* must not continue running → every pod not already being deleted is deleted.

Unbound pods pinned to nodes that no longer exist are deleted too (pod GC only handles bound pods).

The failed-pod backoff lives in the controller (``flowcontrol.Backoff``, 1 s doubling to 15 min):
``backoff_active(key)`` says whether a key is still backing off; the plan lists the keys whose pods
are deleted now (the controller advances their backoff) and those skipped (it re-enqueues the
DaemonSet after the current delay).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.placement import Placement
from kubeds.controllers.daemonset.pods import (
    failed_pods_backoff_key,
    is_being_deleted,
    is_pod_available,
    is_pod_ready,
    sort_pods_oldest_first,
)
from kubeds.controllers.daemonset.rolling import allows_surge

__all__ = [
    "Event",
    "ManagePlan",
    "manage_decisions",
    "pods_should_be_on_node",
    "slow_start_batches",
    "unscheduled_pods_without_node",
]

Pod = Mapping[str, Any]


@dataclass(frozen=True)
class Event:
    """An event the controller records on the DaemonSet."""

    type: str
    reason: str
    message: str


@dataclass
class ManagePlan:
    """What one manage pass decided, for one node or for all of them."""

    nodes_needing_pods: list[str] = field(default_factory=list)
    pods_to_delete: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    backoff_advanced: list[str] = field(default_factory=list)  # call backoff.next(key, now)
    backoff_skipped: list[str] = field(default_factory=list)  # re-enqueue after the current delay

    def extend(self, other: ManagePlan) -> None:
        self.nodes_needing_pods.extend(other.nodes_needing_pods)
        self.pods_to_delete.extend(other.pods_to_delete)
        self.events.extend(other.events)
        self.backoff_advanced.extend(other.backoff_advanced)
        self.backoff_skipped.extend(other.backoff_skipped)


def _name(pod: Pod) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")


def _phase(pod: Pod) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _hash_label(pod: Pod) -> str | None:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    value = labels.get(c.CONTROLLER_REVISION_HASH_LABEL)
    return None if value is None else str(value)


def _settled(pod: Pod) -> bool:
    """Neither being deleted nor terminal: a pod ``_prune_terminal`` keeps without a word."""
    return not is_being_deleted(pod) and _phase(pod) not in ("Failed", "Succeeded")


def pods_should_be_on_node(
    node: Mapping[str, Any],
    ds: Mapping[str, Any],
    node_pods: Sequence[Pod] | None,
    *,
    hash_: str,
    now: dt.datetime,
    backoff_active: Callable[[str], bool],
    placement: Placement | None = None,
) -> ManagePlan:
    """The creates and deletes one node needs (upstream ``podsShouldBeOnNode``)."""
    plan = ManagePlan()
    node_name = str((node.get("metadata") or {}).get("name") or "")
    should_run, should_continue_running = (placement or Placement(ds)).should_run(node)
    pods = list(node_pods or ())
    exists = bool(pods)
    if should_run and not exists:
        plan.nodes_needing_pods.append(node_name)
    elif should_continue_running:
        running = _prune_terminal(ds, node_name, pods, plan, backoff_active)
        if not allows_surge(ds):
            if len(running) > 1:
                plan.pods_to_delete.extend(_name(p) for p in sort_pods_oldest_first(running)[1:])
        elif len(running) <= 1:
            # Surging needs at least one pod not being deleted on the node.
            if not running and should_run:
                plan.nodes_needing_pods.append(node_name)
        else:
            _prune_surge(ds, running, hash_, now, plan)
    elif exists:
        plan.pods_to_delete.extend(_name(p) for p in pods if not is_being_deleted(p))
    return plan


def _prune_terminal(
    ds: Mapping[str, Any],
    node_name: str,
    pods: list[Pod],
    plan: ManagePlan,
    backoff_active: Callable[[str], bool],
) -> list[Pod]:
    """Delete Failed (with backoff) and Succeeded pods; return the others not being deleted."""
    namespace = (ds.get("metadata") or {}).get("namespace") or ""
    running: list[Pod] = []
    for pod in pods:
        if is_being_deleted(pod):
            continue
        phase = _phase(pod)
        names = {"namespace": namespace, "pod": _name(pod), "node": node_name}
        if phase == "Failed":
            # The controller often fights a kubelet that rejects the pod: back off, don't hot-loop.
            key = failed_pods_backoff_key(ds, node_name)
            if backoff_active(key):
                plan.backoff_skipped.append(key)
                continue
            plan.backoff_advanced.append(key)
            plan.events.append(
                Event(c.EVENT_WARNING, c.FAILED_DAEMON_POD_REASON, c.MSG_FAILED_DAEMON_POD.format(**names))
            )
            plan.pods_to_delete.append(_name(pod))
        elif phase == "Succeeded":
            plan.events.append(
                Event(
                    c.EVENT_NORMAL, c.SUCCEEDED_DAEMON_POD_REASON, c.MSG_SUCCEEDED_DAEMON_POD.format(**names)
                )
            )
            plan.pods_to_delete.append(_name(pod))
        else:
            running.append(pod)
    return running


def _prune_surge(
    ds: Mapping[str, Any], running: list[Pod], hash_: str, now: dt.datetime, plan: ManagePlan
) -> None:
    """Keep the oldest current pod and the oldest old pod; drop the old one when it is done."""
    oldest_new: Pod | None = None
    oldest_old: Pod | None = None
    for pod in sort_pods_oldest_first(running):
        if _hash_label(pod) == hash_:
            if oldest_new is None:
                oldest_new = pod
                continue
        elif oldest_old is None:
            oldest_old = pod
            continue
        plan.pods_to_delete.append(_name(pod))
    if oldest_new is None or oldest_old is None:
        return
    min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    if not is_pod_ready(oldest_old) or is_pod_available(oldest_new, min_ready, now):
        plan.pods_to_delete.append(_name(oldest_old))


def unscheduled_pods_without_node(
    nodes: Sequence[Mapping[str, Any]], node_to_daemon_pods: Mapping[str, Sequence[Pod]]
) -> list[str]:
    """Unbound pods pinned to nodes not in ``nodes`` (pod GC never deletes those)."""
    existing = {(n.get("metadata") or {}).get("name") for n in nodes}
    result: list[str] = []
    for node_name in sorted(node_to_daemon_pods):
        if node_name in existing:
            continue
        result.extend(
            _name(p) for p in node_to_daemon_pods[node_name] if not (p.get("spec") or {}).get("nodeName")
        )
    return result


def manage_decisions(
    ds: Mapping[str, Any],
    nodes: Sequence[Mapping[str, Any]],
    node_to_daemon_pods: Mapping[str, Sequence[Pod]],
    *,
    hash_: str,
    now: dt.datetime,
    backoff_active: Callable[[str], bool],
    placement: Placement | None = None,
) -> ManagePlan:
    """The whole manage pass (upstream ``manage`` before ``syncNodes``), nodes in ``nodes`` order.

    ``node_to_daemon_pods`` comes from :func:`kubeds.controllers.daemonset.pods.nodes_to_daemon_pods`
    over the claimed pods. ``syncNodes`` then caps creates and deletes at
    :data:`~kubeds.controllers.daemonset.constants.BURST_REPLICAS` each. ``placement`` may be a
    remembered :class:`~.placement.MemoPlacement` of this DaemonSet.
    """
    placement = placement or Placement(ds)
    plan = ManagePlan()
    for node in nodes:
        name = (node.get("metadata") or {}).get("name") or ""
        node_pods = node_to_daemon_pods.get(name)
        if not node_pods:
            # The common case, decided without building a plan: a node without pods needs one
            # exactly when the DaemonSet should run there (every branch below agrees).
            if placement.should_run(node)[0]:
                plan.nodes_needing_pods.append(str(name))
            continue
        if len(node_pods) == 1 and _settled(node_pods[0]) and placement.should_run(node)[1]:
            # The steady state: one live pod where it may keep running needs nothing, with or
            # without surge (one pod is never pruned as a duplicate nor as a surged old pod).
            continue
        plan.extend(
            pods_should_be_on_node(
                node,
                ds,
                node_pods,
                hash_=hash_,
                now=now,
                backoff_active=backoff_active,
                placement=placement,
            )
        )
    plan.pods_to_delete.extend(unscheduled_pods_without_node(nodes, node_to_daemon_pods))
    return plan


def slow_start_batches(count: int, *, initial: int = c.SLOW_START_INITIAL_BATCH_SIZE) -> list[int]:
    """Batch sizes ``syncNodes`` creates ``count`` pods in: 1, 2, 4, ... (the last one trimmed).

    The controller stops after the first batch with a failure and lowers its expectations by the
    creates it never attempted.
    """
    batches: list[int] = []
    pos, size = 0, min(count, initial)
    while pos < count:
        batches.append(size)
        pos += size
        size = min(2 * size, count - pos)
    return batches
