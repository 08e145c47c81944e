"""The scheduling queue: activeQ, backoffQ and the unschedulable pods, as kube-scheduler keeps them.

Mirrors upstream ``pkg/scheduler/backend/queue/scheduling_queue.go`` (``PriorityQueue``, v1.34) in
its "moveRequestCycle" form (the behaviour without QueueingHints, which the hints only refine):

* **activeQ** holds pods ready to be tried, highest ``spec.priority`` first, then the earliest
  queue timestamp (the ``PrioritySort`` QueueSort plugin). :meth:`SchedulingQueue.pop` waits for
  one, counts an attempt and bumps the scheduling cycle.
* **backoffQ** holds pods waiting out their backoff: ``initial * 2^(attempts-1)``, capped at
  ``max`` (1 s .. 10 s by default, ``calculateBackoffDuration``), counted from the last attempt.
  :meth:`flush_backoff_completed` (run every second by :meth:`run`) moves the expired ones to activeQ.
* **unschedulable pods** are parked until a cluster event may help them.
  :meth:`move_all_to_active_or_backoff` takes an event; a parked pod moves if one of the plugins
  that rejected it registered for that event (:data:`EVENTS_TO_REGISTER`, each plugin's upstream
  ``EventsToRegister``) or if no plugin rejected it (an error, no nodes); it goes to backoffQ while
  still backing off, else to activeQ. Pods parked longer than 5 minutes are moved by
  :meth:`flush_unschedulable_leftover` (every 30 s).
* :meth:`add_unschedulable_if_not_present` takes a pod back after a failed attempt: to backoffQ if
  it was rejected by no plugin, or if a move request arrived while it was being scheduled (the
  event may have made it schedulable); otherwise to the unschedulable pods.
* :meth:`update` follows upstream ``Update``: a pod in activeQ or backoffQ is updated in place; an
  unschedulable pod whose spec or metadata changed (``isPodUpdated``: resourceVersion, generation,
  status, managedFields and finalizers ignored) is moved to backoffQ or activeQ, otherwise updated
  in place; a pod in no queue is added to activeQ.

Pods are keyed ``namespace/name`` (upstream ``podInfoKeyFunc``). Everything runs on one event loop,
so the methods are synchronous except :meth:`pop` and :meth:`run`. Not modelled: QueueingHint
functions, scheduling gates (PreEnqueue), nominated pods, in-flight event recording.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubeds import clock as clock_mod
from kubeds.scheduler.plugins import (
    nodeaffinity,
    nodename,
    nodeports,
    noderesources,
    nodeunschedulable,
    tainttoleration,
)
from kubeds.scheduler.plugins.podresources import pod_priority

__all__ = [
    "ASSIGNED_POD_DELETE",
    "ASSIGNED_POD_UPDATE",
    "EVENTS_TO_REGISTER",
    "NODE_ADD",
    "NODE_ALLOCATABLE_CHANGE",
    "NODE_CONDITION_CHANGE",
    "NODE_LABEL_CHANGE",
    "NODE_TAINT_CHANGE",
    "UNSCHEDULABLE_TIMEOUT",
    "QueueClosed",
    "QueuedPodInfo",
    "SchedulingQueue",
    "calculate_backoff",
    "is_pod_updated",
    "node_scheduling_events",
    "pod_key",
]

log = logging.getLogger(__name__)

DEFAULT_POD_INITIAL_BACKOFF_SECONDS = 1.0
DEFAULT_POD_MAX_BACKOFF_SECONDS = 10.0
DEFAULT_POD_MAX_IN_UNSCHEDULABLE_SECONDS = 300.0
BACKOFF_FLUSH_PERIOD_SECONDS = 1.0
UNSCHEDULABLE_FLUSH_PERIOD_SECONDS = 30.0
MSG_QUEUE_CLOSED = "scheduling queue is closed"
MSG_ALREADY_ACTIVE = "Pod {key} is already present in the active queue"
MSG_ALREADY_BACKOFF = "Pod {key} is already present in the backoff queue"

# Cluster events (upstream ``framework.ClusterEvent`` labels). Node updates are split by what
# changed (``nodeSchedulingPropertiesChange``); a spec.unschedulable change counts as a taint change.
NODE_ADD = "NodeAdd"
NODE_LABEL_CHANGE = "NodeLabelChange"
NODE_TAINT_CHANGE = "NodeTaintChange"
NODE_ALLOCATABLE_CHANGE = "NodeAllocatableChange"
NODE_CONDITION_CHANGE = "NodeConditionChange"
ASSIGNED_POD_DELETE = "AssignedPodDelete"
ASSIGNED_POD_UPDATE = "AssignedPodUpdate"
UNSCHEDULABLE_TIMEOUT = "UnschedulableTimeout"
WILDCARD_EVENTS = frozenset({UNSCHEDULABLE_TIMEOUT})

# Which events may make a pod rejected by a plugin schedulable (each plugin's EventsToRegister).
EVENTS_TO_REGISTER: Mapping[str, frozenset[str]] = {
    nodeunschedulable.NAME: frozenset({NODE_ADD, NODE_TAINT_CHANGE}),
    nodename.NAME: frozenset({NODE_ADD}),
    tainttoleration.NAME: frozenset({NODE_ADD, NODE_TAINT_CHANGE}),
    nodeaffinity.NAME: frozenset({NODE_ADD, NODE_LABEL_CHANGE}),
    nodeports.NAME: frozenset({NODE_ADD, ASSIGNED_POD_DELETE}),
    noderesources.NAME: frozenset(
        {NODE_ADD, NODE_ALLOCATABLE_CHANGE, ASSIGNED_POD_DELETE, ASSIGNED_POD_UPDATE}
    ),
}

_ACTIVE, _BACKOFF, _UNSCHEDULABLE = "activeQ", "backoffQ", "unschedulablePods"


class QueueClosed(Exception):
    """Raised by :meth:`SchedulingQueue.pop` once the queue is closed."""


def pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"


def calculate_backoff(attempts: int, *, initial: float, maximum: float) -> float:
    """Upstream ``calculateBackoffDuration``: ``initial`` doubled per earlier attempt, at most ``maximum``."""
    duration = initial
    for _ in range(1, attempts):
        if duration > maximum - duration:
            return maximum
        duration += duration
    return duration


def is_pod_updated(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether anything but resourceVersion, generation, status, managedFields, finalizers changed."""

    def strip(pod: Mapping[str, Any]) -> dict[str, Any]:
        meta = {
            k: v
            for k, v in (pod.get("metadata") or {}).items()
            if k not in ("resourceVersion", "generation", "managedFields", "finalizers")
        }
        out = {k: v for k, v in pod.items() if k not in ("metadata", "status")}
        out["metadata"] = meta
        claims = (pod.get("status") or {}).get("resourceClaimStatuses")
        if claims:
            out["status"] = {"resourceClaimStatuses": claims}
        return out

    return strip(old) != strip(new)


@dataclass
class QueuedPodInfo:
    """A pod in the queue (upstream ``framework.QueuedPodInfo``)."""

    pod: Mapping[str, Any]
    key: str
    timestamp: float
    attempts: int = 0
    initial_attempt_timestamp: float | None = None
    unschedulable_plugins: frozenset[str] = frozenset()
    seq: int = 0

    @property
    def priority(self) -> int:
        return pod_priority(self.pod)


class _KeyedHeap:
    """A heap of :class:`QueuedPodInfo` by a sort key, with removal by pod key (lazy deletion)."""

    def __init__(self, sort_key: Callable[[QueuedPodInfo], tuple[float, ...]]) -> None:
        self._sort_key = sort_key
        self._heap: list[tuple[tuple[float, ...], int, QueuedPodInfo]] = []
        self._items: dict[str, QueuedPodInfo] = {}
        self._entry_seq: dict[str, int] = {}
        self._counter = itertools.count()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: str) -> QueuedPodInfo | None:
        return self._items.get(key)

    def push(self, info: QueuedPodInfo) -> None:
        """Add or re-position ``info`` (keyed by ``info.key``)."""
        n = next(self._counter)
        self._items[info.key] = info
        self._entry_seq[info.key] = n
        heapq.heappush(self._heap, (self._sort_key(info), n, info))

    def remove(self, key: str) -> QueuedPodInfo | None:
        self._entry_seq.pop(key, None)
        return self._items.pop(key, None)

    def peek(self) -> QueuedPodInfo | None:
        self._drop_stale()
        return self._heap[0][2] if self._heap else None

    def pop(self) -> QueuedPodInfo | None:
        self._drop_stale()
        if not self._heap:
            return None
        _, _, info = heapq.heappop(self._heap)
        del self._items[info.key]
        del self._entry_seq[info.key]
        return info

    def values(self) -> list[QueuedPodInfo]:
        return list(self._items.values())

    def _drop_stale(self) -> None:
        while self._heap:
            _, n, info = self._heap[0]
            if self._entry_seq.get(info.key) == n:
                return
            heapq.heappop(self._heap)


class SchedulingQueue:
    """activeQ + backoffQ + unschedulable pods (upstream ``PriorityQueue``)."""

    def __init__(
        self,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        pod_initial_backoff_seconds: float = DEFAULT_POD_INITIAL_BACKOFF_SECONDS,
        pod_max_backoff_seconds: float = DEFAULT_POD_MAX_BACKOFF_SECONDS,
        pod_max_in_unschedulable_seconds: float = DEFAULT_POD_MAX_IN_UNSCHEDULABLE_SECONDS,
    ) -> None:
        self._clock = clock
        self._initial = pod_initial_backoff_seconds
        self._max = pod_max_backoff_seconds
        self._max_unschedulable = pod_max_in_unschedulable_seconds
        self._seq = itertools.count()
        self._active = _KeyedHeap(lambda i: (-i.priority, i.timestamp, i.seq))
        self._backoff = _KeyedHeap(lambda i: (self.backoff_expiry(i), i.seq))
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False
        self.scheduling_cycle = 0
        self.move_request_cycle = -1

    # -- introspection --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._active) + len(self._backoff) + len(self._unschedulable)

    def where(self, pod_or_key: Mapping[str, Any] | str) -> str:
        """``"activeQ"``, ``"backoffQ"``, ``"unschedulablePods"`` or ``""`` (tests and debugging)."""
        key = pod_or_key if isinstance(pod_or_key, str) else pod_key(pod_or_key)
        if key in self._active:
            return _ACTIVE
        if key in self._backoff:
            return _BACKOFF
        if key in self._unschedulable:
            return _UNSCHEDULABLE
        return ""

    def counts(self) -> dict[str, int]:
        return {
            _ACTIVE: len(self._active),
            _BACKOFF: len(self._backoff),
            _UNSCHEDULABLE: len(self._unschedulable),
        }

    def backoff_expiry(self, info: QueuedPodInfo) -> float:
        return info.timestamp + calculate_backoff(info.attempts, initial=self._initial, maximum=self._max)

    def is_backing_off(self, info: QueuedPodInfo) -> bool:
        return self.backoff_expiry(info) > self._clock.monotonic()

    # -- adding and removing --------------------------------------------------------------------

    def _new_info(self, pod: Mapping[str, Any]) -> QueuedPodInfo:
        return QueuedPodInfo(pod, pod_key(pod), self._clock.monotonic(), seq=next(self._seq))

    def _to_active(self, info: QueuedPodInfo) -> None:
        self._active.push(info)
        self._wake()

    def add(self, pod: Mapping[str, Any]) -> None:
        """A new unscheduled pod: into activeQ (out of the other queues if it was there)."""
        if self._closed:
            return
        info = self._new_info(pod)
        self._backoff.remove(info.key)
        self._unschedulable.pop(info.key, None)
        self._to_active(info)

    def update(self, old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> None:
        """Upstream ``PriorityQueue.Update``."""
        if self._closed:
            return
        key = pod_key(new)
        for heap in (self._active, self._backoff):
            info = heap.get(key)
            if info is not None:
                info.pod = new
                heap.push(info)
                return
        parked = self._unschedulable.get(key)
        if parked is not None:
            parked.pod = new
            if old is None or is_pod_updated(old, new):
                del self._unschedulable[key]
                if self.is_backing_off(parked):
                    self._backoff.push(parked)
                else:
                    self._to_active(parked)
            return
        self._to_active(self._new_info(new))

    def delete(self, pod: Mapping[str, Any] | str) -> None:
        key = pod if isinstance(pod, str) else pod_key(pod)
        self._active.remove(key)
        self._backoff.remove(key)
        self._unschedulable.pop(key, None)

    def add_unschedulable_if_not_present(self, info: QueuedPodInfo, *, pod_scheduling_cycle: int) -> None:
        """Take a pod back after a failed attempt (upstream ``AddUnschedulableIfNotPresent``).

        Raises ValueError when the pod is already in activeQ or backoffQ (a newer copy was added
        while it was being scheduled).
        """
        if self._closed:
            return
        if info.key in self._active:
            raise ValueError(MSG_ALREADY_ACTIVE.format(key=info.key))
        if info.key in self._backoff:
            raise ValueError(MSG_ALREADY_BACKOFF.format(key=info.key))
        info.timestamp = self._clock.monotonic()
        if self.move_request_cycle >= pod_scheduling_cycle or not info.unschedulable_plugins:
            self._unschedulable.pop(info.key, None)
            self._backoff.push(info)
        else:
            self._unschedulable[info.key] = info

    # -- moving ---------------------------------------------------------------------------------

    def move_all_to_active_or_backoff(
        self, event: str, *, pre_check: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> int:
        """Move the parked pods ``event`` may help (upstream ``MoveAllToActiveOrBackoffQueue``).

        Returns how many moved. Records the move request, so a pod being scheduled right now goes
        to backoffQ, not to the unschedulable pods, if it fails.
        """
        moved = 0
        for key, info in list(self._unschedulable.items()):
            if pre_check is not None and not pre_check(info.pod):
                continue
            if info.unschedulable_plugins and not self._matches(info, event):
                continue
            del self._unschedulable[key]
            if self.is_backing_off(info):
                self._backoff.push(info)
            else:
                self._to_active(info)
            moved += 1
        self.move_request_cycle = self.scheduling_cycle
        if moved:
            log.debug("moved %d unschedulable pods on %s", moved, event)
        return moved

    @staticmethod
    def _matches(info: QueuedPodInfo, event: str) -> bool:
        if event in WILDCARD_EVENTS:
            return True
        return any(event in EVENTS_TO_REGISTER.get(plugin, ()) for plugin in info.unschedulable_plugins)

    def has_unschedulable_pods(self) -> bool:
        return bool(self._unschedulable)

    def flush_backoff_completed(self) -> int:
        """Move every pod whose backoff has expired from backoffQ to activeQ."""
        now = self._clock.monotonic()
        moved = 0
        while True:
            head = self._backoff.peek()
            if head is None or self.backoff_expiry(head) > now:
                return moved
            self._backoff.pop()
            self._to_active(head)
            moved += 1

    def flush_unschedulable_leftover(self) -> int:
        """Move pods parked longer than the maximum (5 min) back to activeQ/backoffQ."""
        now = self._clock.monotonic()
        stale = {k for k, i in self._unschedulable.items() if now - i.timestamp > self._max_unschedulable}
        if not stale:
            return 0
        return self.move_all_to_active_or_backoff(
            UNSCHEDULABLE_TIMEOUT, pre_check=lambda pod: pod_key(pod) in stale
        )

    # -- popping --------------------------------------------------------------------------------

    async def pop(self) -> QueuedPodInfo:
        """The next pod to schedule; counts an attempt and starts a scheduling cycle."""
        while True:
            if self._closed:
                raise QueueClosed(MSG_QUEUE_CLOSED)
            info = self._active.pop()
            if info is not None:
                break
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.scheduling_cycle += 1
        info.attempts += 1
        if info.initial_attempt_timestamp is None:
            info.initial_attempt_timestamp = self._clock.monotonic()
        return info

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        """Stop: :meth:`pop` raises :class:`QueueClosed`, :meth:`run` returns."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(self) -> None:
        """The periodic flushes (backoffQ every second, leftovers every 30 s) until :meth:`close`."""
        since_leftover = 0.0
        while not self._closed:
            await self._clock.sleep(BACKOFF_FLUSH_PERIOD_SECONDS)
            if self._closed:
                return
            self.flush_backoff_completed()
            since_leftover += BACKOFF_FLUSH_PERIOD_SECONDS
            if since_leftover >= UNSCHEDULABLE_FLUSH_PERIOD_SECONDS:
                since_leftover = 0.0
                self.flush_unschedulable_leftover()


def _conditions_status(node: Mapping[str, Any]) -> dict[str, str]:
    conditions = (node.get("status") or {}).get("conditions") or []
    return {str(c.get("type")): str(c.get("status")) for c in conditions if isinstance(c, Mapping)}


def node_scheduling_events(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The cluster events a Node update amounts to (upstream ``nodeSchedulingPropertiesChange``).

    Heartbeat-only updates (condition timestamps, annotations, addresses) give none.
    """
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    events: list[str] = []
    if bool(old_spec.get("unschedulable")) != bool(new_spec.get("unschedulable")):
        events.append(NODE_TAINT_CHANGE)
    if (old.get("status") or {}).get("allocatable") != (new.get("status") or {}).get("allocatable"):
        events.append(NODE_ALLOCATABLE_CHANGE)
    if (old_meta.get("labels") or {}) != (new_meta.get("labels") or {}):
        events.append(NODE_LABEL_CHANGE)
    if (old_spec.get("taints") or []) != (new_spec.get("taints") or []) and NODE_TAINT_CHANGE not in events:
        events.append(NODE_TAINT_CHANGE)
    if _conditions_status(old) != _conditions_status(new):
        events.append(NODE_CONDITION_CHANGE)
    return events
