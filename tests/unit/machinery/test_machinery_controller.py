"""The Controller worker loop (upstream processNextWorkItem: forget on success, AddRateLimited on error,
Done always; N workers never share a key)."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest
from machinery_fakes import FakeApi, settle

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.machinery import controller as controller_mod, informer as informer_mod


class Recording(controller_mod.Controller):
    kind = "DaemonSet"

    def __init__(self, *, clock: FakeClock, workers: int = 1, failures: int = 0) -> None:
        super().__init__(name="recording", workers=workers, clock=clock)
        self.synced: list[str] = []
        self.failures = failures
        self.active: set[str] = set()
        self.overlaps: list[str] = []

    async def sync(self, key: str) -> None:
        if key in self.active:
            self.overlaps.append(key)
        self.active.add(key)
        try:
            await asyncio.sleep(0)
            self.synced.append(key)
            if self.failures > 0:
                self.failures -= 1
                raise RuntimeError("transient")
        finally:
            self.active.discard(key)


async def test_success_forgets_and_failure_requeues_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    ctrl = Recording(clock=clock, failures=2)
    task = asyncio.create_task(ctrl.run())
    ctrl.enqueue("kube-system/kube-proxy")
    await settle()
    assert ctrl.synced == ["kube-system/kube-proxy"]
    assert ctrl.queue.num_requeues("kube-system/kube-proxy") == 1
    assert "error syncing DaemonSet kube-system/kube-proxy, requeuing: transient" in caplog.text
    clock.advance(0.005)
    await settle()
    assert len(ctrl.synced) == 2
    assert ctrl.queue.num_requeues("kube-system/kube-proxy") == 2
    clock.advance(0.009)
    await settle()
    assert len(ctrl.synced) == 2  # second backoff is 10 ms
    clock.advance(0.001)
    await settle()
    assert len(ctrl.synced) == 3
    assert ctrl.queue.num_requeues("kube-system/kube-proxy") == 0  # success forgets
    ctrl.shutdown()
    await asyncio.wait_for(task, 1)


async def test_workers_run_in_parallel_but_never_on_one_key() -> None:
    clock = FakeClock()
    ctrl = Recording(clock=clock, workers=4)
    task = asyncio.create_task(ctrl.run())
    for round_ in range(5):
        for i in range(8):
            ctrl.enqueue(f"ns/k{i}")
        if round_ % 2:
            await asyncio.sleep(0)
    await settle(100)
    ctrl.shutdown()
    await asyncio.wait_for(task, 1)
    assert ctrl.overlaps == []
    assert set(ctrl.synced) == {f"ns/k{i}" for i in range(8)}


async def test_shutdown_drains_queued_keys_then_run_returns() -> None:
    ctrl = Recording(clock=FakeClock())
    ctrl.enqueue("a")
    ctrl.enqueue("b")
    ctrl.shutdown()
    await asyncio.wait_for(ctrl.run(), 1)
    assert ctrl.synced == ["a", "b"]


async def test_workers_wait_for_informers_to_sync() -> None:
    clock = FakeClock()
    fake = FakeApi()
    inf = informer_mod.Informer(ApiClient(fake).resource("v1", "pods"), clock=clock, rng=random.Random(0))
    ctrl = Recording(clock=clock)
    ctrl.informers.append(inf)
    ctrl.enqueue("x")
    task = asyncio.create_task(ctrl.run())
    await settle()
    assert ctrl.synced == []
    inf_task = asyncio.create_task(inf.run())
    await inf.wait_for_sync()
    await settle()
    assert ctrl.synced == ["x"]
    ctrl.shutdown()
    inf.stop()
    await asyncio.wait_for(asyncio.gather(task, inf_task), 1)


async def test_enqueue_after_uses_the_clock() -> None:
    clock = FakeClock()
    ctrl = Recording(clock=clock)
    task = asyncio.create_task(ctrl.run())
    ctrl.enqueue_after("later", 3)
    await settle()
    assert ctrl.synced == []
    clock.advance(3)
    await settle()
    assert ctrl.synced == ["later"]
    ctrl.shutdown()
    await asyncio.wait_for(task, 1)


async def test_cancelling_run_stops_workers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    ctrl = Recording(clock=FakeClock(), workers=2)
    task = asyncio.create_task(ctrl.run())
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ctrl.queue.shutting_down
    assert "shutting down recording controller" in caplog.text


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers must be at least 1"):
        Recording(clock=FakeClock(), workers=0)
