"""CPython's cyclic garbage collector, set for a long-running plane with a large, stable heap.

A plane caches every Node, Lease and Pod in several informers: hundreds of thousands of
long-lived dicts and lists. With CPython's default thresholds (700, 10, 10) a young collection
runs every 700 net allocations, and each full collection walks the whole heap again: measured on
the cascading deletion of a 2,000-pod DaemonSet, the collector took 3.3 of 7.7 CPU seconds, and its
share grows with the cluster (the heap grows, so every full pass costs more).

The objects a plane keeps are JSON-shaped dicts and lists, which form no reference cycles:
reference counting frees them the moment an informer drops them. So:

* :func:`tune_collector` raises the thresholds (young collections every ``GEN0_THRESHOLD``
  allocations, the older generations ``GEN1_THRESHOLD`` / ``GEN2_THRESHOLD`` times less often);
  cyclic garbage (asyncio frames, exceptions with tracebacks) is still collected, later.
  The young threshold counts *net* allocations (allocations less deallocations) of tracked
  objects since the last collection. A plane that replaces cached objects (an informer drops the
  old Pod as it stores the new one) allocates and frees about as much as it keeps, so a high
  threshold is rarely reached: at 500,000, a 5,000-node DaemonSet rolling update runs no young
  collection at all, where 20,000 ran 74 (1.3 CPU s of 20) that found no garbage;
* :func:`freeze_survivors` collects once, then moves everything still alive into the permanent
  generation (``gc.freeze``), which the collector never walks again; objects frozen and later
  dropped are still freed by reference counting;
* :func:`keep_frozen` repeats that every ``FREEZE_EVERY`` seconds, so the caches that grow after
  start-up join the frozen set too. Each pass walks every object made since the last one that is
  still alive (0.5 CPU s at 5,000 nodes in a rolling update). With the young threshold this high
  the older generations are hardly ever collected, so the pass is mostly the collector's only
  work; every 2 minutes rather than every 30 s, the cached Leases, Pods and Nodes an informer
  replaced in between are never walked at all.

Measured on that deletion: default 7.7 CPU s (collector 3.3 s); frozen after start-up 5.3 s
(1.4 s); thresholds raised (20,000) 4.4 s (0.14 s). On the 5,000-node DaemonSet benchmark the
young threshold went from 20,000 to 500,000: collector time in the rolling update 2.2 s to 0.6 s
(the one full collection of :func:`keep_frozen`), rollout and update about 9 % faster, peak RSS
no higher (see ``docs/benchmarks.md``). The process entry points (``kubeds up``, the
components, benchmarks) call these; library users and tests that build a plane in process get the
same settings through :class:`kubeds.plane.Plane`.
"""

from __future__ import annotations

import gc

from kubeds import clock as clocks

__all__ = ["FREEZE_EVERY", "GEN0_THRESHOLD", "freeze_survivors", "keep_frozen", "tune_collector"]

GEN0_THRESHOLD = 500_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 20
FREEZE_EVERY = 120.0


def tune_collector() -> None:
    """Collect young objects every ``GEN0_THRESHOLD`` allocations instead of 700."""
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)


def freeze_survivors() -> None:
    """Collect, then exempt everything still alive from future collections."""
    gc.collect()
    gc.freeze()


async def keep_frozen(clock: clocks.Clock = clocks.REAL, *, every: float = FREEZE_EVERY) -> None:
    """Every ``every`` seconds, :func:`freeze_survivors` (until cancelled)."""
    while True:
        await clock.sleep(every)
        freeze_survivors()
