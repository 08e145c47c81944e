"""Pure helpers of the failure path: message truncation, the PodScheduled patch, and the bench result."""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.bench import schedule as bench
from kubeds.scheduler.scheduler import pod_scheduled_condition_patch, truncate_message

NOW = "2026-01-01T00:05:00Z"


@pytest.mark.parametrize(
    ("message", "want"),
    [
        pytest.param("short", "short", id="short"),
        pytest.param("x" * 1024, "x" * 1024, id="at-limit"),
        pytest.param("x" * 1025, "x" * 1020 + " ...", id="over-limit"),
    ],
)
def test_truncate_message(message: str, want: str) -> None:
    # upstream pkg/scheduler/schedule_one.go truncateMessage (validation.NoteLengthLimit = 1024)
    assert truncate_message(message) == want
    assert len(truncate_message(message)) <= 1024


def _pod(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "status": {"conditions": list(conditions)}}


def test_condition_patch_new_condition() -> None:
    patch = pod_scheduled_condition_patch(_pod(), reason="Unschedulable", message="m", now=NOW)
    assert patch == {
        "status": {
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastTransitionTime": NOW,
                    "reason": "Unschedulable",
                    "message": "m",
                }
            ]
        }
    }


def test_condition_patch_keeps_transition_time_and_skips_no_change() -> None:
    old = {
        "type": "PodScheduled",
        "status": "False",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "reason": "Unschedulable",
        "message": "m",
    }
    assert pod_scheduled_condition_patch(_pod(old), reason="Unschedulable", message="m", now=NOW) is None
    patch = pod_scheduled_condition_patch(_pod(old), reason="Unschedulable", message="m2", now=NOW)
    assert patch is not None
    assert patch["status"]["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    flipped = {**old, "status": "True"}
    patch = pod_scheduled_condition_patch(_pod(flipped), reason="Unschedulable", message="m", now=NOW)
    assert patch is not None
    assert patch["status"]["conditions"][0]["lastTransitionTime"] == NOW


def test_condition_patch_observed_generation() -> None:
    pod = {"metadata": {"name": "p", "generation": 3}, "status": {}}
    patch = pod_scheduled_condition_patch(pod, reason="Unschedulable", message="m", now=NOW)
    assert patch is not None
    assert patch["status"]["conditions"][0]["observedGeneration"] == 3


async def test_bench_small_run() -> None:
    result = await bench.run(nodes=30, pods=40, repeats=1)
    assert (result.nodes, result.pods, result.repeats) == (30, 40, 1)
    assert result.pods_per_s > 0 and result.floor_pods_per_s > 0 and result.pods_per_cpu_s > 0
    d = result.as_dict()
    assert d["pods"] == 40
    assert d["ratio_to_floor"] == round(result.ratio, 2)
    assert set(result.samples) == {"floor", "floor_cpu", "scheduled", "scheduled_cpu"}
    text = result.render()
    assert "40 DaemonSet-style pods on 30 nodes" in text
    assert "target >= 1000 pods/s" in text


async def test_bench_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="positive"):
        await bench.run(nodes=0)
