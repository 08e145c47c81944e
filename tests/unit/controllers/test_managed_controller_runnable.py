"""ManagedController takes run/stop from Runnable: task named after the controller, stop returns, cancel raises."""

from __future__ import annotations

import asyncio

import pytest

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers import common, runnable


class _Probe(common.ManagedController):
    """Records the name of the task its workers run in."""

    def __init__(self, api: ApiClient, clock: FakeClock) -> None:
        super().__init__(
            api, name="probe-controller", component="probe", workers=1, clock=clock, informers=None
        )
        self.inner_names: list[str] = []
        self.started = asyncio.Event()

    async def sync(self, key: str) -> None:
        return None

    async def _run(self) -> None:
        current = asyncio.current_task()
        assert current is not None
        self.inner_names.append(current.get_name())
        self.started.set()
        await super()._run()


async def _spin() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


async def test_managed_controller_is_runnable_and_names_task(api: ApiClient, clock: FakeClock) -> None:
    ctrl = _Probe(api, clock)
    assert isinstance(ctrl, runnable.Runnable)
    assert ctrl.task_name == "probe-controller"
    outer = asyncio.create_task(ctrl.run())
    await ctrl.started.wait()
    assert ctrl.inner_names == ["probe-controller"]
    await ctrl.stop()
    await asyncio.wait_for(outer, timeout=5)
    assert outer.exception() is None
    assert ctrl.queue.shutting_down


async def test_managed_controller_cancel_of_caller_raises(api: ApiClient, clock: FakeClock) -> None:
    ctrl = _Probe(api, clock)
    outer = asyncio.create_task(ctrl.run())
    await ctrl.started.wait()
    await _spin()
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    await ctrl.stop()
