"""The scheduling queue: ordering, backoff, parking and moving, node change events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scheduler_builders import make_node, make_pod

from kubeds.clock import FakeClock
from kubeds.scheduler import queue as q


def _queue(clock: FakeClock) -> q.SchedulingQueue:
    return q.SchedulingQueue(clock=clock)


# Upstream pkg/scheduler/backend/queue/scheduling_queue_test.go TestPriorityQueue_calculateBackoffDuration
# (durations in nanoseconds there; the arithmetic is unit-free), plus the kubeds defaults 1 s .. 10 s.
@pytest.mark.parametrize(
    ("initial", "maximum", "attempts", "want"),
    [
        pytest.param(1, 32, 16, 32, id="normal"),
        pytest.param(1, 2**31 - 1, 32, 2**31 - 1, id="overflow_32bit"),
        pytest.param(1, 2**63 - 1, 64, 2**63 - 1, id="overflow_64bit"),
        pytest.param(1.0, 10.0, 1, 1.0, id="default-first"),
        pytest.param(1.0, 10.0, 2, 2.0, id="default-second"),
        pytest.param(1.0, 10.0, 4, 8.0, id="default-fourth"),
        pytest.param(1.0, 10.0, 5, 10.0, id="default-capped"),
    ],
)
def test_calculate_backoff(initial: float, maximum: float, attempts: int, want: float) -> None:
    assert q.calculate_backoff(attempts, initial=initial, maximum=maximum) == want


async def test_pop_orders_by_priority_then_time() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    queue.add(make_pod("low", priority=0))
    clock.advance(0.1)
    queue.add(make_pod("high", priority=100))
    clock.advance(0.1)
    queue.add(make_pod("low2"))
    order = [(await queue.pop()).pod["metadata"]["name"] for _ in range(3)]
    assert order == ["high", "low", "low2"]
    assert queue.scheduling_cycle == 3


async def test_pop_waits_and_close_wakes() -> None:
    queue = _queue(FakeClock())
    getter = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.add(make_pod("p"))
    info = await getter
    assert info.attempts == 1
    waiting = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0)
    queue.close()
    with pytest.raises(q.QueueClosed):
        await waiting


async def _failed(queue: q.SchedulingQueue, pod: dict[str, Any], plugins: frozenset[str]) -> q.QueuedPodInfo:
    queue.add(pod)
    info = await queue.pop()
    info.unschedulable_plugins = plugins
    queue.add_unschedulable_if_not_present(info, pod_scheduling_cycle=queue.scheduling_cycle)
    return info


async def test_unschedulable_pod_moves_only_on_registered_events() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    await _failed(queue, make_pod("tainted"), frozenset({"TaintToleration"}))
    assert queue.where("default/tainted") == "unschedulablePods"
    assert queue.move_all_to_active_or_backoff(q.NODE_LABEL_CHANGE) == 0
    assert queue.move_all_to_active_or_backoff(q.ASSIGNED_POD_DELETE) == 0
    assert queue.move_all_to_active_or_backoff(q.NODE_TAINT_CHANGE) == 1
    # Still within its 1 s backoff.
    assert queue.where("default/tainted") == "backoffQ"
    assert queue.flush_backoff_completed() == 0
    clock.advance(1.0)
    assert queue.flush_backoff_completed() == 1
    assert queue.where("default/tainted") == "activeQ"


async def test_moved_after_backoff_goes_straight_to_active() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    await _failed(queue, make_pod("p"), frozenset({"NodeResourcesFit"}))
    clock.advance(5)
    assert queue.move_all_to_active_or_backoff(q.ASSIGNED_POD_DELETE) == 1
    assert queue.where("default/p") == "activeQ"


async def test_failure_without_plugins_goes_to_backoff() -> None:
    queue = _queue(FakeClock())
    await _failed(queue, make_pod("p"), frozenset())
    assert queue.where("default/p") == "backoffQ"


async def test_move_request_during_cycle_sends_failure_to_backoff() -> None:
    queue = _queue(FakeClock())
    queue.add(make_pod("p"))
    info = await queue.pop()
    cycle = queue.scheduling_cycle
    queue.move_all_to_active_or_backoff(q.NODE_ADD)  # an event while "p" was being scheduled
    info.unschedulable_plugins = frozenset({"NodeAffinity"})
    queue.add_unschedulable_if_not_present(info, pod_scheduling_cycle=cycle)
    assert queue.where("default/p") == "backoffQ"


async def test_add_unschedulable_refuses_duplicates() -> None:
    queue = _queue(FakeClock())
    pod = make_pod("p")
    queue.add(pod)
    info = await queue.pop()
    queue.add(pod)  # a newer copy arrived meanwhile
    with pytest.raises(ValueError, match="already present in the active queue"):
        queue.add_unschedulable_if_not_present(info, pod_scheduling_cycle=queue.scheduling_cycle)


async def test_update_of_parked_pod() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    pod = make_pod("p")
    pod["metadata"]["resourceVersion"] = "1"
    await _failed(queue, pod, frozenset({"NodeAffinity"}))
    status_only = {**pod, "metadata": {**pod["metadata"], "resourceVersion": "2"}, "status": {"x": 1}}
    queue.update(pod, status_only)
    assert queue.where("default/p") == "unschedulablePods"
    relabelled = {**status_only, "metadata": {**status_only["metadata"], "labels": {"a": "b"}}}
    clock.advance(2)
    queue.update(status_only, relabelled)
    assert queue.where("default/p") == "activeQ"
    assert (await queue.pop()).pod is relabelled


async def test_update_unknown_pod_adds_and_delete_removes() -> None:
    queue = _queue(FakeClock())
    pod = make_pod("p")
    queue.update(None, pod)
    assert queue.where(pod) == "activeQ"
    queue.delete(pod)
    assert queue.where(pod) == ""
    assert len(queue) == 0


async def test_unschedulable_leftover_flush() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    await _failed(queue, make_pod("p"), frozenset({"NodeAffinity"}))
    clock.advance(299)
    assert queue.flush_unschedulable_leftover() == 0
    clock.advance(2)
    assert queue.flush_unschedulable_leftover() == 1
    assert queue.where("default/p") == "activeQ"


async def test_run_flushes_backoff_every_second() -> None:
    clock = FakeClock()
    queue = _queue(clock)
    await _failed(queue, make_pod("p"), frozenset())
    runner = asyncio.ensure_future(queue.run())
    await asyncio.sleep(0)
    clock.advance(1.0)
    await asyncio.sleep(0)
    assert queue.where("default/p") == "activeQ"
    queue.close()
    clock.advance(1.0)
    await runner


def test_is_pod_updated_ignores_status_and_bookkeeping() -> None:
    pod = make_pod("p")
    pod["metadata"]["resourceVersion"] = "1"
    same = {
        **pod,
        "metadata": {**pod["metadata"], "resourceVersion": "9", "managedFields": [{}], "generation": 3},
        "status": {"phase": "Pending"},
    }
    assert not q.is_pod_updated(pod, same)
    assert q.is_pod_updated(pod, {**pod, "spec": {**pod["spec"], "tolerations": [{"operator": "Exists"}]}})


def _node(**kwargs: Any) -> dict[str, Any]:
    node = make_node("n", **kwargs)
    node["status"]["conditions"] = [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z"}
    ]
    return node


# Upstream pkg/scheduler/eventhandlers_test.go TestNodeSchedulingPropertiesChange (and
# TestNodeConditionsChanged for the heartbeat-only and condition cases).
def _heartbeat(node: dict[str, Any]) -> dict[str, Any]:
    node["status"]["conditions"][0]["lastHeartbeatTime"] = "2026-01-01T00:01:00Z"
    return node


def _not_ready(node: dict[str, Any]) -> dict[str, Any]:
    node["status"]["conditions"][0]["status"] = "False"
    return node


@pytest.mark.parametrize(
    ("old", "new", "want"),
    [
        pytest.param(_node(), _node(), [], id="no specific changed applied"),
        pytest.param(_node(unschedulable=True), _node(), [q.NODE_TAINT_CHANGE], id="only spec unschedulable"),
        pytest.param(
            _node(allocatable={"cpu": "1", "memory": "1Gi", "pods": "10"}),
            _node(allocatable={"cpu": "2", "memory": "1Gi", "pods": "10"}),
            [q.NODE_ALLOCATABLE_CHANGE],
            id="only allocatable",
        ),
        pytest.param(
            _node(labels={"a": "1"}), _node(labels={"a": "2"}), [q.NODE_LABEL_CHANGE], id="only labels"
        ),
        pytest.param(
            _node(taints=[{"key": "k", "effect": "NoSchedule"}]),
            _node(taints=[{"key": "k", "effect": "NoExecute"}]),
            [q.NODE_TAINT_CHANGE],
            id="only taints",
        ),
        pytest.param(_node(), _not_ready(_node()), [q.NODE_CONDITION_CHANGE], id="condition status"),
        pytest.param(_node(), _heartbeat(_node()), [], id="only heartbeat"),
        pytest.param(
            _node(labels={"a": "1"}, taints=[{"key": "k", "effect": "NoSchedule"}]),
            _node(labels={"a": "2"}, unschedulable=True),
            [q.NODE_TAINT_CHANGE, q.NODE_LABEL_CHANGE],
            id="several",
        ),
    ],
)
def test_node_scheduling_events(old: dict[str, Any], new: dict[str, Any], want: list[str]) -> None:
    assert q.node_scheduling_events(old, new) == want
