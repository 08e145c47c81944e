"""Pure node lifecycle decisions: condition taints, taint swaps, health, zones and the tainting queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from nodectl_builders import T0, lease, node

from kubeds.clock import FakeClock
from kubeds.controllers.nodelifecycle import health, taints, zones

NOT_READY_NS = {"key": taints.TAINT_NOT_READY, "effect": "NoSchedule"}
UNREACHABLE_NS = {"key": taints.TAINT_UNREACHABLE, "effect": "NoSchedule"}


def keys(taint_list: list[dict[str, Any]]) -> list[str]:
    return [t["key"] for t in taint_list]


# After upstream node_lifecycle_controller_test.go TestTaintsNodeByCondition (+ cordon, see
# doNoScheduleTaintingPass).
@pytest.mark.parametrize(
    ("statuses", "unschedulable", "expected"),
    [
        pytest.param({}, False, [], id="healthy"),
        pytest.param({"NetworkUnavailable": "True"}, False, [taints.TAINT_NETWORK_UNAVAILABLE], id="network"),
        pytest.param(
            {"MemoryPressure": "True", "NetworkUnavailable": "True"},
            False,
            [taints.TAINT_NETWORK_UNAVAILABLE, taints.TAINT_MEMORY_PRESSURE],
            id="memory-and-network",
        ),
        pytest.param({"Ready": "False"}, False, [taints.TAINT_NOT_READY], id="ready-false"),
        pytest.param({"Ready": "Unknown"}, False, [taints.TAINT_UNREACHABLE], id="ready-unknown"),
        pytest.param({"DiskPressure": "True"}, False, [taints.TAINT_DISK_PRESSURE], id="disk"),
        pytest.param({"PIDPressure": "True"}, False, [taints.TAINT_PID_PRESSURE], id="pid"),
        pytest.param({"DiskPressure": "Unknown"}, False, [], id="pressure-unknown-is-no-taint"),
        pytest.param({}, True, [taints.TAINT_UNSCHEDULABLE], id="cordoned"),
    ],
)
def test_condition_taints(statuses: dict[str, str], unschedulable: bool, expected: list[str]) -> None:
    wanted = taints.condition_taints(node("n", unschedulable=unschedulable, **statuses))
    assert keys(wanted) == expected
    assert all(t["effect"] == "NoSchedule" for t in wanted)


def test_controlled_taints_ignore_other_taints_and_effects() -> None:
    n = node(
        "n",
        taints=[
            {"key": "dedicated", "value": "x", "effect": "NoSchedule"},
            {"key": taints.TAINT_NOT_READY, "effect": "NoExecute"},
            {"key": taints.TAINT_DISK_PRESSURE, "effect": "NoSchedule"},
            {"key": taints.TAINT_UNSCHEDULABLE, "effect": "NoSchedule"},
        ],
    )
    assert keys(list(map(dict, taints.controlled_no_schedule_taints(n)))) == [
        taints.TAINT_DISK_PRESSURE,
        taints.TAINT_UNSCHEDULABLE,
    ]
    to_add, to_remove = taints.taint_set_diff([NOT_READY_NS], taints.controlled_no_schedule_taints(n))
    assert [t["key"] for t in to_add] == [taints.TAINT_NOT_READY]
    assert [t["key"] for t in to_remove] == [taints.TAINT_DISK_PRESSURE, taints.TAINT_UNSCHEDULABLE]


def test_swap_taints_replaces_atomically_and_stamps_time_added() -> None:
    now = T0 + dt.timedelta(seconds=5)
    before = [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}, dict(taints.NOT_READY_TAINT)]
    after = taints.swap_taints(
        before, add=[taints.UNREACHABLE_TAINT], remove=[taints.NOT_READY_TAINT], now=now
    )
    assert after == [
        {"key": "dedicated", "value": "x", "effect": "NoSchedule"},
        {"key": taints.TAINT_UNREACHABLE, "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:05Z"},
    ]
    assert before[1] == dict(taints.NOT_READY_TAINT)  # input untouched


def test_swap_taints_keeps_existing_taint_and_reports_no_change() -> None:
    existing = [{"key": taints.TAINT_UNREACHABLE, "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}]
    assert (
        taints.swap_taints(existing, add=[taints.UNREACHABLE_TAINT], now=T0 + dt.timedelta(hours=1)) is None
    )
    assert taints.swap_taints(existing, remove=[taints.NOT_READY_TAINT], now=T0) is None
    assert taints.swap_taints(existing, remove=[taints.UNREACHABLE_TAINT], now=T0) == []


def test_swap_taints_updates_value_of_same_key_and_effect() -> None:
    existing = [{"key": "k", "value": "a", "effect": "NoExecute"}]
    after = taints.swap_taints(existing, add=[{"key": "k", "value": "b", "effect": "NoExecute"}], now=T0)
    assert after == [{"key": "k", "value": "b", "effect": "NoExecute", "timeAdded": "2026-01-01T00:00:00Z"}]


# -- health -----------------------------------------------------------------------------------

GRACE = 40.0
STARTUP = 60.0


def with_created(n: dict[str, Any], created: dt.datetime) -> dict[str, Any]:
    n["metadata"]["creationTimestamp"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return n


def cond(result_status: dict[str, Any] | None, ctype: str) -> dict[str, Any]:
    assert result_status is not None
    return next(c for c in result_status["conditions"] if c["type"] == ctype)


# After upstream TestMonitorNodeHealthUpdateStatus: a node that never posted status is judged against
# the startup grace period from its creation; then all four conditions are appended as never updated.
def test_never_posted_node_goes_unknown_after_startup_grace() -> None:
    n = with_created(node("n", with_status=False), T0)
    early = health.observe(
        n,
        lease=None,
        saved=None,
        now=T0 + dt.timedelta(seconds=59),
        grace_period=GRACE,
        startup_grace_period=STARTUP,
    )
    assert early.status_to_write is None and early.grace_period == STARTUP
    late = health.observe(
        n,
        lease=None,
        saved=early.health,
        now=T0 + dt.timedelta(seconds=61),
        grace_period=GRACE,
        startup_grace_period=STARTUP,
    )
    assert late.status_to_write is not None
    assert [c["type"] for c in late.status_to_write["conditions"]] == [
        "Ready",
        "MemoryPressure",
        "DiskPressure",
        "PIDPressure",
    ]
    ready = cond(late.status_to_write, "Ready")
    assert ready["status"] == "Unknown"
    assert ready["reason"] == "NodeStatusNeverUpdated"
    assert ready["message"] == "Kubelet never posted node status."
    assert ready["lastHeartbeatTime"] == "2026-01-01T00:00:00Z"
    assert ready["lastTransitionTime"] == "2026-01-01T00:01:01Z"


def test_stale_heartbeat_goes_unknown_but_network_unavailable_is_kept() -> None:
    n = with_created(node("n"), T0)
    first = health.observe(
        n, lease=None, saved=None, now=T0, grace_period=GRACE, startup_grace_period=STARTUP
    )
    assert first.status_to_write is None
    within = health.observe(
        n,
        lease=None,
        saved=first.health,
        now=T0 + dt.timedelta(seconds=40),
        grace_period=GRACE,
        startup_grace_period=STARTUP,
    )
    assert within.status_to_write is None
    late = health.observe(
        n,
        lease=None,
        saved=within.health,
        now=T0 + dt.timedelta(seconds=41),
        grace_period=GRACE,
        startup_grace_period=STARTUP,
    )
    for ctype in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
        c = cond(late.status_to_write, ctype)
        assert (c["status"], c["reason"], c["message"]) == (
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        )
        assert c["lastTransitionTime"] == "2026-01-01T00:00:41Z"
        assert c["lastHeartbeatTime"] == "2026-01-01T00:00:00Z"
    assert cond(late.status_to_write, "NetworkUnavailable")["status"] == "False"
    assert late.observed_ready["status"] == "True"
    assert late.current_ready is not None and late.current_ready["status"] == "Unknown"


def test_renewed_lease_keeps_node_healthy_without_status_heartbeats() -> None:
    n = with_created(node("n"), T0)
    saved = health.observe(
        n, lease=None, saved=None, now=T0, grace_period=GRACE, startup_grace_period=STARTUP
    ).health
    for seconds in (30, 60, 90, 120):
        now = T0 + dt.timedelta(seconds=seconds)
        result = health.observe(
            n,
            lease=lease("n", now=now),
            saved=saved,
            now=now,
            grace_period=GRACE,
            startup_grace_period=STARTUP,
        )
        assert result.status_to_write is None, seconds
        saved = result.health
    # The lease stops: unknown once the grace period has passed since the last renewal was seen.
    stale = health.observe(
        n,
        lease=lease("n", now=T0 + dt.timedelta(seconds=120)),
        saved=saved,
        now=T0 + dt.timedelta(seconds=161),
        grace_period=GRACE,
        startup_grace_period=STARTUP,
    )
    assert stale.status_to_write is not None


def test_already_unknown_node_is_not_rewritten() -> None:
    n = with_created(node("n", Ready="Unknown"), T0)
    saved = health.observe(
        n, lease=None, saved=None, now=T0, grace_period=GRACE, startup_grace_period=STARTUP
    ).health
    result = health.observe(
        n,
        lease=None,
        saved=saved,
        now=T0 + dt.timedelta(minutes=5),
        grace_period=GRACE,
        startup_grace_period=STARTUP,
    )
    # Ready is already Unknown; only the pressure conditions would change, and upstream writes only
    # when the Ready condition differs from what it observed.
    assert result.status_to_write is None


# -- zones ------------------------------------------------------------------------------------


def ready(status: str | None) -> dict[str, Any] | None:
    return None if status is None else {"type": "Ready", "status": status}


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param(["True", "True"], (0, zones.STATE_NORMAL), id="all-ready"),
        pytest.param(["False", "Unknown", None], (3, zones.STATE_FULL_DISRUPTION), id="none-ready"),
        pytest.param(
            ["False", "False", "True"], (2, zones.STATE_NORMAL), id="two-not-ready-is-never-partial"
        ),
        pytest.param(
            ["False", "False", "False", "True"], (3, zones.STATE_PARTIAL_DISRUPTION), id="75-percent"
        ),
        pytest.param(["False"] * 3 + ["True"] * 3, (3, zones.STATE_NORMAL), id="50-percent"),
        pytest.param([], (0, zones.STATE_NORMAL), id="empty"),
    ],
)
def test_compute_zone_state(statuses: list[str | None], expected: tuple[int, str]) -> None:
    assert zones.compute_zone_state([ready(s) for s in statuses], unhealthy_zone_threshold=0.55) == expected


def test_zone_key() -> None:
    assert zones.zone_key(node("a")) == ""
    labelled = node("b", labels={"topology.kubernetes.io/region": "r", "topology.kubernetes.io/zone": "z"})
    assert zones.zone_key(labelled) == "r:\x00:z"
    beta = node("c", labels={"failure-domain.beta.kubernetes.io/zone": "z"})
    assert zones.zone_key(beta) == ":\x00:z"


async def test_rate_limited_queue_paces_and_keeps_processed_values_out() -> None:
    clock = FakeClock()
    queue = zones.RateLimitedTimedQueue(0.1, clock=clock)
    done: list[str] = []

    async def take(item: zones.TimedValue) -> tuple[bool, float]:
        done.append(item.value)
        return True, 0.0

    assert queue.add("a", "1") and queue.add("b", "2") and not queue.add("a", "1")
    await queue.try_process(take)
    assert done == ["a"]  # burst 1
    clock.advance(9)
    await queue.try_process(take)
    assert done == ["a"]
    clock.advance(1)
    await queue.try_process(take)
    assert done == ["a", "b"]
    # Processed values stay in the set until removed.
    assert not queue.add("a", "1")
    assert queue.remove("a") and queue.add("a", "1")


async def test_rate_limited_queue_retries_and_zero_rate_stops() -> None:
    clock = FakeClock()
    queue = zones.RateLimitedTimedQueue(100.0, clock=clock)
    attempts: list[str] = []

    async def fail_once(item: zones.TimedValue) -> tuple[bool, float]:
        attempts.append(item.value)
        return len(attempts) > 1, 5.0

    queue.add("a", "1")
    await queue.try_process(fail_once)
    assert attempts == ["a"] and len(queue) == 1
    clock.advance(5.1)
    await queue.try_process(fail_once)
    assert attempts == ["a", "a"] and len(queue) == 0
    queue.swap_limiter(0.0)
    queue.add("b", "2")
    clock.advance(100)
    await queue.try_process(fail_once)
    assert attempts == ["a", "a"]
