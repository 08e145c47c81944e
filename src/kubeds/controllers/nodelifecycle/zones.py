"""Zones, their disruption state, and the rate-limited queue that paces NoExecute tainting per zone.

Mirrors upstream:

* ``k8s.io/component-helpers/node/topology`` ``GetZoneKey``: ``region + ":\\x00:" + zone`` from the
  ``topology.kubernetes.io/{region,zone}`` labels (falling back to the deprecated
  ``failure-domain.beta.kubernetes.io/*``); ``""`` when the node has neither.
* ``node_lifecycle_controller.go`` ``ComputeZoneState``: a zone with no Ready node is in full
  disruption; one with more than two not-Ready nodes making up at least ``unhealthy_zone_threshold``
  (55 %) of it is in partial disruption; otherwise normal. ``handleDisruption`` then sets each zone's
  tainting rate: normal and full disruption use ``--node-eviction-rate`` (0.1/s), partial disruption
  uses ``--secondary-node-eviction-rate`` (0.01/s) in zones larger than ``--large-cluster-size-threshold``
  (50) and stops tainting in smaller ones. When every zone is fully disrupted the controller assumes
  the problem is its own connectivity: it stops tainting everywhere and removes the NoExecute taints.
* ``pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go``: :class:`RateLimitedTimedQueue`, a
  set-backed queue of node names ordered by ``process_at``; :meth:`~RateLimitedTimedQueue.try_process`
  handles items while the zone's token bucket (burst 1, ``flowcontrol.NewTokenBucketRateLimiter``)
  lets it. A processed item leaves the queue but stays in the set, so the node is not queued again
  until :meth:`~RateLimitedTimedQueue.remove` (the node became reachable, or its taint vanished).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod

__all__ = [
    "EVICTION_RATE_LIMITER_BURST",
    "STATE_FULL_DISRUPTION",
    "STATE_INITIAL",
    "STATE_NORMAL",
    "STATE_PARTIAL_DISRUPTION",
    "RateLimitedTimedQueue",
    "TimedValue",
    "TokenBucket",
    "compute_zone_state",
    "zone_key",
]

STATE_INITIAL = "Initial"
STATE_NORMAL = "Normal"
STATE_FULL_DISRUPTION = "FullDisruption"
STATE_PARTIAL_DISRUPTION = "PartialDisruption"
EVICTION_RATE_LIMITER_BURST = 1

LABEL_ZONE = "topology.kubernetes.io/zone"
LABEL_REGION = "topology.kubernetes.io/region"
LABEL_ZONE_BETA = "failure-domain.beta.kubernetes.io/zone"
LABEL_REGION_BETA = "failure-domain.beta.kubernetes.io/region"


def zone_key(node: Mapping[str, Any]) -> str:
    """The node's zone key (upstream ``GetZoneKey``)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    zone = str(labels.get(LABEL_ZONE) or labels.get(LABEL_ZONE_BETA) or "")
    region = str(labels.get(LABEL_REGION) or labels.get(LABEL_REGION_BETA) or "")
    if not zone and not region:
        return ""
    return f"{region}:\x00:{zone}"


def compute_zone_state(
    ready_conditions: Sequence[Mapping[str, Any] | None], *, unhealthy_zone_threshold: float
) -> tuple[int, str]:
    """``(not-ready count, state)`` of one zone from its nodes' Ready conditions (None: never posted)."""
    ready = sum(1 for c in ready_conditions if c is not None and c.get("status") == "True")
    not_ready = len(ready_conditions) - ready
    if ready == 0 and not_ready > 0:
        return not_ready, STATE_FULL_DISRUPTION
    if not_ready > 2 and not_ready / (not_ready + ready) >= unhealthy_zone_threshold:
        return not_ready, STATE_PARTIAL_DISRUPTION
    return not_ready, STATE_NORMAL


class TokenBucket:
    """``try_accept`` succeeds ``qps`` times a second with ``burst`` saved up; ``qps <= 0`` never accepts."""

    def __init__(
        self, qps: float, *, burst: int = EVICTION_RATE_LIMITER_BURST, clock: clock_mod.Clock
    ) -> None:
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        if self.qps > 0:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now

    def try_accept(self) -> bool:
        if self.qps <= 0:
            return False
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def saturation(self) -> float:
        """The used share of the bucket (1.0 when empty), as ``flowcontrol.RateLimiter.Saturation``."""
        if self.qps <= 0:
            return 0.0
        self._refill()
        return 1.0 - self._tokens / self.burst

    def drain_to(self, saturation: float) -> None:
        """Use tokens until the bucket is at least as saturated as ``saturation``."""
        if self.qps > 0:
            self._refill()
            self._tokens = min(self._tokens, self.burst * (1.0 - saturation))


@dataclasses.dataclass
class TimedValue:
    """A queued node: name, uid, when it was added and when it may be processed (seconds, monotonic)."""

    value: str
    uid: str
    added_at: float
    process_at: float


ActionFn = Callable[[TimedValue], Awaitable[tuple[bool, float]]]


class RateLimitedTimedQueue:
    """Unique node names in ``process_at`` order, processed at the pace of a token bucket."""

    def __init__(self, qps: float, *, clock: clock_mod.Clock) -> None:
        self._clock = clock
        self.limiter = TokenBucket(qps, clock=clock)
        self._queue: list[tuple[float, int, TimedValue]] = []
        self._set: set[str] = set()
        self._seq = 0

    def __len__(self) -> int:
        return len(self._queue)

    def __contains__(self, value: object) -> bool:
        return value in self._set

    def add(self, value: str, uid: str) -> bool:
        """Queue ``value`` to be processed now; False if it is already in the set."""
        if value in self._set:
            return False
        now = self._clock.monotonic()
        self._push(TimedValue(value=value, uid=uid, added_at=now, process_at=now))
        self._set.add(value)
        return True

    def remove(self, value: str) -> bool:
        """Forget ``value`` entirely (queue and set); True if it was known."""
        known = value in self._set
        self._set.discard(value)
        self._queue = [entry for entry in self._queue if entry[2].value != value]
        return known

    def clear(self) -> None:
        self._queue.clear()
        self._set.clear()

    def swap_limiter(self, qps: float) -> None:
        """Change the rate; a fresh bucket starts as used as the old one (upstream ``SwapLimiter``)."""
        if qps == self.limiter.qps:
            return
        saturation = self.limiter.saturation()
        limiter = TokenBucket(qps, clock=self._clock)
        limiter.drain_to(saturation)
        self.limiter = limiter

    async def try_process(self, fn: ActionFn) -> None:
        """Process due items while the limiter allows; ``fn`` returns ``(done, retry_after_seconds)``."""
        while self._queue:
            if not self.limiter.try_accept():
                return
            _, _, head = self._queue[0]
            now = self._clock.monotonic()
            if now < head.process_at:
                return
            done, wait = await fn(head)
            # fn awaited: the item may have been removed meanwhile.
            index = next((i for i, entry in enumerate(self._queue) if entry[2] is head), None)
            if index is None:
                continue
            del self._queue[index]
            if not done:
                head.process_at = now + wait + 1e-9
                self._push(head)

    def _push(self, item: TimedValue) -> None:
        self._seq += 1
        bisect.insort(self._queue, (item.process_at, self._seq, item), key=lambda e: (e[0], e[1]))
