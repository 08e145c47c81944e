"""Taint eviction decisions without the API: minimal toleration time and the timed worker queue."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from nodectl_builders import settle

from kubeds.clock import FakeClock
from kubeds.controllers import tainteviction


# Ported from upstream pkg/controller/tainteviction/taint_eviction_test.go TestGetMinTolerationTime
# (plus the "no tolerationSeconds at all means forever" case that getMinTolerationTime returns -1 for).
@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param([], 0.0, id="no-tolerations"),
        pytest.param([1], 1.0, id="one"),
        pytest.param([1, 2], 1.0, id="minimum"),
        pytest.param([2, None], 2.0, id="ignores-unset"),
        pytest.param([-1, 5], 0.0, id="negative-is-now"),
        pytest.param([0], 0.0, id="zero-is-now"),
        pytest.param([None], -1.0, id="forever"),
    ],
)
def test_get_min_toleration_time(seconds: list[int | None], expected: float) -> None:
    tolerations: list[dict[str, Any]] = []
    for value in seconds:
        tol: dict[str, Any] = {"key": "k", "operator": "Exists", "effect": "NoExecute"}
        if value is not None:
            tol["tolerationSeconds"] = value
        tolerations.append(tol)
    assert tainteviction.get_min_toleration_time(tolerations) == expected


def test_get_no_execute_taints() -> None:
    taints = [
        {"key": "a", "effect": "NoSchedule"},
        {"key": "b", "effect": "NoExecute"},
        {"key": "c", "effect": "PreferNoSchedule"},
    ]
    assert tainteviction.get_no_execute_taints(taints) == [{"key": "b", "effect": "NoExecute"}]
    assert tainteviction.get_no_execute_taints(None) == []


# After upstream timed_workers_test.go: TestExecute / TestExecuteDelayed / TestCancel / TestCancelAndReadd.
async def test_timed_worker_queue_fires_on_time_and_cancels() -> None:
    clock = FakeClock()
    fired: list[str] = []

    async def work(key: str) -> None:
        fired.append(key)

    queue = tainteviction.TimedWorkerQueue(work, clock=clock)
    now = clock.now()
    queue.add_work("ns/now", created_at=now, fire_at=now)
    queue.add_work("ns/later", created_at=now, fire_at=now + dt.timedelta(seconds=30))
    queue.add_work("ns/cancelled", created_at=now, fire_at=now + dt.timedelta(seconds=10))
    await settle(20)
    assert fired == ["ns/now"]
    assert queue.cancel_work("ns/cancelled")
    clock.advance(29)
    await settle(20)
    assert fired == ["ns/now"]
    clock.advance(1)
    await settle(20)
    assert fired == ["ns/now", "ns/later"]
    # Fired keys stay (without a timer): adding again is ignored, cancelling reports nothing pending.
    queue.add_work("ns/later", created_at=clock.now(), fire_at=clock.now())
    await settle(20)
    assert fired == ["ns/now", "ns/later"]
    assert "ns/later" in queue and not queue.cancel_work("ns/later")
    queue.add_work("ns/later", created_at=clock.now(), fire_at=clock.now())
    await settle(20)
    assert fired == ["ns/now", "ns/later", "ns/later"]
    await queue.close()


async def test_timed_worker_queue_failed_work_can_be_added_again() -> None:
    clock = FakeClock()
    calls: list[str] = []

    async def failing(key: str) -> None:
        calls.append(key)
        raise RuntimeError("boom")

    queue = tainteviction.TimedWorkerQueue(failing, clock=clock)
    queue.add_work("a", created_at=clock.now(), fire_at=clock.now())
    await settle(20)
    assert calls == ["a"] and "a" not in queue
    queue.add_work("a", created_at=clock.now(), fire_at=clock.now())
    await settle(20)
    assert calls == ["a", "a"]
    await queue.close()
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("taint-eviction:")]
