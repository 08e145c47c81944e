"""Pod GC selection rules, ported from upstream pkg/controller/podgc/gc_controller_test.go."""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.controllers import podgc


def gc_pod(
    name: str, phase: str, *, hour: int, node: str = "node", deleting: bool = False, reason: str = ""
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "creationTimestamp": f"1970-01-01T{hour:02d}:00:00Z",
    }
    if deleting:
        meta["deletionTimestamp"] = "1970-01-02T00:00:00Z"
    status: dict[str, Any] = {"phase": phase}
    if reason:
        status["reason"] = reason
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}, "status": status}


def names(pods: list[Any]) -> set[str]:
    return {p["metadata"]["name"] for p in pods}


# TestGCTerminated: pods are created an hour apart, in the order given.
@pytest.mark.parametrize(
    ("phases", "threshold", "deleted"),
    [
        pytest.param(["Failed", "Succeeded"], 0, set(), id="threshold-0-disables"),
        pytest.param(["Failed", "Succeeded", "Failed"], 1, {"a", "b"}, id="oldest-first"),
        pytest.param(["Running", "Succeeded", "Failed"], 1, {"b"}, id="running-not-counted"),
        pytest.param(["Failed", "Succeeded"], 1, {"a"}, id="one-over"),
        pytest.param(["Failed", "Succeeded"], 5, set(), id="under-threshold"),
        pytest.param(["Pending", "Unknown", ""], 1, set(), id="empty-phase-counts-as-terminated"),
    ],
)
def test_gc_terminated(phases: list[str], threshold: int, deleted: set[str]) -> None:
    pods = [gc_pod(chr(ord("a") + i), phase, hour=i + 1) for i, phase in enumerate(phases)]
    assert names(podgc.select_terminated_pods(pods, threshold=threshold)) == deleted


def test_gc_terminated_deletes_evicted_pods_first() -> None:
    # Newer upstream TestGCTerminated cases: evicted pods go first whatever their age.
    pods = [
        gc_pod("old", "Failed", hour=1),
        gc_pod("evicted", "Failed", hour=5, reason="Evicted"),
        gc_pod("mid", "Succeeded", hour=3),
    ]
    assert [p["metadata"]["name"] for p in podgc.select_terminated_pods(pods, threshold=1)] == [
        "evicted",
        "old",
    ]


# TestGCUnscheduledTerminating.
@pytest.mark.parametrize(
    ("pods", "deleted"),
    [
        pytest.param(
            [
                gc_pod("a", "Failed", hour=1, node="", deleting=True),
                gc_pod("b", "Succeeded", hour=2, node="", deleting=True),
                gc_pod("c", "Running", hour=3, node="", deleting=True),
            ],
            {"a", "b", "c"},
            id="unscheduled-terminating-in-any-phase",
        ),
        pytest.param(
            [
                gc_pod("a", "Failed", hour=1, node=""),
                gc_pod("b", "Succeeded", hour=2, node="node"),
                gc_pod("c", "Running", hour=3, node="node", deleting=True),
            ],
            set(),
            id="scheduled-or-not-terminating",
        ),
    ],
)
def test_gc_unscheduled_terminating(pods: list[dict[str, Any]], deleted: set[str]) -> None:
    assert names(podgc.select_unscheduled_terminating_pods(pods)) == deleted


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="gc_period"):
        podgc.PodGCControllerConfig(gc_period=0)
