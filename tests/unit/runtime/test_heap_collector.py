"""kubeds.heap: collector thresholds for a long-lived heap, and freezing what survives start-up."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from kubeds import heap
from kubeds.clock import FakeClock


@pytest.fixture(autouse=True)
def restore_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tune_collector_raises_the_young_generation_threshold() -> None:
    gc.set_threshold(700, 10, 10)
    heap.tune_collector()
    assert gc.get_threshold() == (heap.GEN0_THRESHOLD, heap.GEN1_THRESHOLD, heap.GEN2_THRESHOLD)
    assert heap.GEN0_THRESHOLD > 700


class _Cyclic:
    def __init__(self) -> None:
        self.me = self


def test_freeze_survivors_frees_cycles_first_and_freezes_the_rest() -> None:
    gc.unfreeze()
    gc.disable()  # no automatic collection may free the cycle before the call under test
    try:
        cycle = _Cyclic()
        gone = weakref.ref(cycle)
        del cycle
        assert gone() is not None
        before = gc.get_freeze_count()
        heap.freeze_survivors()
    finally:
        gc.enable()
    assert gone() is None  # collected, not frozen forever
    assert gc.get_freeze_count() > before


async def test_keep_frozen_freezes_on_each_period_of_the_clock() -> None:
    clock = FakeClock()
    gc.unfreeze()
    task = asyncio.ensure_future(heap.keep_frozen(clock, every=30.0))
    await asyncio.sleep(0)
    assert gc.get_freeze_count() == 0
    clock.advance(30.0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert gc.get_freeze_count() > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
