"""Work queue semantics; cases ported from client-go util/workqueue queue_test.go,
delaying_queue_test.go and rate_limiting_queue_test.go, on a FakeClock."""

from __future__ import annotations

import asyncio

import pytest
from machinery_fakes import settle

from kubeds.clock import FakeClock
from kubeds.machinery import ratelimit, workqueue


def test_len_counts_each_key_once() -> None:
    # upstream TestLen
    q = workqueue.Queue()
    q.add("foo")
    assert len(q) == 1
    q.add("bar")
    assert len(q) == 2
    q.add("foo")
    assert len(q) == 2


async def test_fifo_order() -> None:
    q = workqueue.Queue()
    for key in ("c", "a", "b", "a"):
        q.add(key)
    assert [await q.get() for _ in range(3)] == ["c", "a", "b"]


async def test_reinsert_while_processing_requeues_at_done() -> None:
    # upstream TestReinsert
    q = workqueue.Queue()
    q.add("foo")
    key = await q.get()
    assert key == "foo"
    q.add(key)
    assert len(q) == 0  # not handed out again while processing
    q.done(key)
    assert len(q) == 1
    assert await q.get() == "foo"
    q.done("foo")
    assert len(q) == 0


async def test_key_is_never_handed_to_two_workers() -> None:
    # upstream TestAddWhileProcessing: producers keep re-adding keys that consumers are processing.
    q = workqueue.Queue()
    active: set[str] = set()
    processed: dict[str, int] = {}
    violations: list[str] = []

    async def consumer() -> None:
        while True:
            try:
                key = await q.get()
            except workqueue.ShutDown:
                return
            if key in active:
                violations.append(key)
            active.add(key)
            await asyncio.sleep(0)
            if processed.get(key, 0) == 0:
                q.add(key)
            await asyncio.sleep(0)
            processed[key] = processed.get(key, 0) + 1
            active.discard(key)
            q.done(key)

    for i in range(50):
        q.add(f"k{i % 10}")
    workers = [asyncio.create_task(consumer()) for _ in range(5)]
    await settle(200)
    q.shutdown()
    await asyncio.gather(*workers)
    assert violations == []
    # Each key was re-added once while it was being processed, so it ran exactly twice.
    assert processed == {f"k{i}": 2 for i in range(10)}


async def test_get_waits_for_add() -> None:
    q = workqueue.Queue()
    getter = asyncio.create_task(q.get())
    await settle()
    assert not getter.done()
    q.add("late")
    assert await getter == "late"


async def test_shutdown_drains_then_raises() -> None:
    # upstream TestForceQueueShutdownUsingShutDown: items already queued are still handed out.
    q = workqueue.Queue()
    q.add("a")
    q.add("b")
    q.shutdown()
    q.add("c")  # dropped
    assert q.shutting_down
    assert await q.get() == "a"
    assert await q.get() == "b"
    with pytest.raises(workqueue.ShutDown):
        await q.get()


async def test_shutdown_wakes_waiting_getters() -> None:
    q = workqueue.Queue()
    getters = [asyncio.create_task(q.get()) for _ in range(3)]
    await settle()
    q.shutdown()
    results = await asyncio.gather(*getters, return_exceptions=True)
    assert all(isinstance(r, workqueue.ShutDown) for r in results)


async def test_shutdown_with_drain_waits_for_processing() -> None:
    # upstream TestQueueDrainageUsingShutDownWithDrain
    q = workqueue.Queue()
    q.add("a")
    key = await q.get()
    drain = asyncio.create_task(q.shutdown_with_drain())
    await settle()
    assert not drain.done()
    q.done(key)
    await asyncio.wait_for(drain, 1)


async def test_cancelled_getter_passes_wakeup_on() -> None:
    q = workqueue.Queue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await settle()
    q.add("x")
    first.cancel()
    await settle()
    assert second.done() and second.result() == "x"


async def test_simple_delaying_queue() -> None:
    # upstream TestSimpleQueue
    clock = FakeClock()
    q = workqueue.DelayingQueue(clock=clock)
    q.add_after("foo", 0.050)
    await settle()
    assert len(q) == 0 and q.waiting == 1
    clock.advance(0.060)
    await settle()
    assert len(q) == 1
    key = await q.get()
    q.done(key)
    clock.advance(10)
    await settle()
    assert len(q) == 0
    q.shutdown()


async def test_delaying_queue_dedupes_to_earliest() -> None:
    # upstream TestDeduping
    clock = FakeClock()
    q = workqueue.DelayingQueue(clock=clock)
    q.add_after("foo", 0.050)
    q.add_after("foo", 0.070)
    await settle()
    assert len(q) == 0
    clock.advance(0.060)
    await settle()
    assert len(q) == 1
    q.done(await q.get())
    clock.advance(0.020)
    await settle()
    assert len(q) == 0

    # The earlier deadline overrides the later one.
    q.add_after("foo", 0.050)
    q.add_after("foo", 0.030)
    await settle()
    assert len(q) == 0
    clock.advance(0.040)
    await settle()
    assert len(q) == 1
    q.done(await q.get())
    clock.advance(0.020)
    await settle()
    assert len(q) == 0
    q.shutdown()


async def test_delaying_queue_add_two_fire_early() -> None:
    # upstream TestAddTwoFireEarly
    clock = FakeClock()
    q = workqueue.DelayingQueue(clock=clock)
    q.add_after("foo", 1)
    q.add_after("bar", 0.050)
    await settle()
    assert len(q) == 0
    clock.advance(0.060)
    await settle()
    assert await q.get() == "bar"
    q.add_after("baz", 2)
    clock.advance(1)
    await settle()
    assert len(q) == 1
    assert await q.get() == "foo"
    clock.advance(2)
    await settle()
    assert await q.get() == "baz"
    q.shutdown()


async def test_delaying_queue_releases_in_deadline_order() -> None:
    # upstream TestCopyShifting
    clock = FakeClock()
    q = workqueue.DelayingQueue(clock=clock)
    q.add_after("foo", 1)
    q.add_after("bar", 0.5)
    q.add_after("baz", 0.25)
    await settle()
    assert len(q) == 0
    clock.advance(2)
    await settle()
    assert [await q.get() for _ in range(3)] == ["baz", "bar", "foo"]
    q.shutdown()


async def test_add_after_non_positive_adds_now() -> None:
    q = workqueue.DelayingQueue(clock=FakeClock())
    q.add_after("now", 0)
    assert len(q) == 1


async def test_rate_limiting_queue_backoff_5ms_doubling_and_forget() -> None:
    # upstream TestRateLimitingQueue, observed through when keys become available.
    clock = FakeClock()
    q = workqueue.RateLimitingQueue(clock=clock)

    async def ready_after(key: str, seconds: float) -> bool:
        q.add_rate_limited(key)
        await settle()
        clock.advance(seconds - 0.0001)
        await settle()
        if len(q):
            return False
        clock.advance(0.0001)
        await settle()
        if len(q) != 1:
            return False
        q.done(await q.get())
        return True

    assert await ready_after("one", 0.005)
    assert await ready_after("one", 0.010)
    assert q.num_requeues("one") == 2
    assert await ready_after("two", 0.005)
    assert await ready_after("one", 0.020)
    q.forget("one")
    assert q.num_requeues("one") == 0
    assert await ready_after("one", 0.005)
    q.shutdown()


async def test_rate_limiting_queue_caps_at_max_delay() -> None:
    clock = FakeClock()
    limiter = ratelimit.ItemExponentialFailureRateLimiter(0.005, 1.0)
    q = workqueue.RateLimitingQueue(clock=clock, rate_limiter=limiter)
    for _ in range(20):
        limiter.when("k")
    q.add_rate_limited("k")
    await settle()
    clock.advance(0.999)
    await settle()
    assert len(q) == 0
    clock.advance(0.001)
    await settle()
    assert len(q) == 1
    q.shutdown()


async def test_shutdown_drops_delayed_keys() -> None:
    clock = FakeClock()
    q = workqueue.RateLimitingQueue(clock=clock)
    q.add_after("later", 1)
    await settle()
    q.shutdown()
    clock.advance(2)
    await settle()
    assert len(q) == 0
    q.add_after("ignored", 1)
    assert q.waiting == 0
