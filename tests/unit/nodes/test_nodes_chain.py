"""Coalesced stages (kubeds.nodes.chain): the fast profile's bound -> Running+Ready in one status write
with the same end state as playing the stages one write at a time; merge-patch helpers (RFC 7386)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from kubeds.nodes import chain
from kubeds.nodes.profiles import load_profile
from kubeds.nodes.stages import match_stage, next_state
from kubeds.nodes.templates import new_node

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NODE = new_node("node-1", internal_ip="172.18.0.2")


# RFC 7386 appendix A test cases (target, patch, result).
RFC7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386)
def test_apply_merge_patch_rfc7386(target: dict[str, Any], patch: dict[str, Any], expected: Any) -> None:
    before = copy.deepcopy(target)
    assert chain.apply_merge_patch(target, patch) == expected
    assert target == before  # never mutated


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"status": {"phase": "Pending", "podIP": "1"}}, {"status": {"phase": "Running"}}),
        ({"status": {"conditions": [1, 2]}}, {"status": {"conditions": [3]}}),
        ({"status": {"a": {"x": 1}}}, {"status": {"a": {"y": None}, "b": 2}}),
        ({"status": {"gone": None}}, {"status": {"phase": "Running"}}),
    ],
)
def test_composed_patch_does_both(first: dict[str, Any], second: dict[str, Any]) -> None:
    target = {"metadata": {"name": "p"}, "status": {"phase": "Pending", "gone": 1, "a": {"y": 2}}}
    one_by_one = chain.apply_merge_patch(chain.apply_merge_patch(target, first), second)
    assert chain.apply_merge_patch(target, chain.compose_merge_patches(first, second)) == one_by_one


def _pod(**spec: Any) -> dict[str, Any]:
    containers = spec.pop("containers", [{"name": "app", "image": "nginx:1.27"}])
    return {
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "uid": "u-1", "resourceVersion": "7"},
        "spec": {"nodeName": "node-1", "containers": containers, **spec},
        "status": {
            "phase": "Pending",
            "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-12-31T23:59:00Z"}
            ],
        },
    }


def _one_write_at_a_time(profile: str, pod: dict[str, Any]) -> tuple[list[str], dict[str, Any], list[Any]]:
    stages = load_profile(profile).pod_stages
    played: list[str] = []
    events: list[Any] = []
    for _ in range(2):
        stage = match_stage(stages, pod)
        assert stage is not None
        result = next_state(stage, pod, now=T0, node=NODE)
        played.append(stage.name)
        events.append(result.event)
        assert result.status_patch is not None
        pod = chain.apply_merge_patch(pod, result.status_patch)
    return played, pod, events


POD_VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "host-network": {"hostNetwork": True},
    "two-containers": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "busybox:1"}]},
    "init-and-sidecar": {
        "initContainers": [
            {"name": "setup", "image": "busybox"},
            {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"},
        ]
    },
}


@pytest.mark.parametrize("variant", sorted(POD_VARIANTS))
def test_fast_bound_pod_is_running_and_ready_in_one_write(variant: str) -> None:
    pod = _pod(**copy.deepcopy(POD_VARIANTS[variant]))
    before = copy.deepcopy(pod)
    stages = load_profile("fast").pod_stages
    first = match_stage(stages, pod)
    assert first is not None and first.name == "pod-create"
    result = chain.play_chain(first, pod, match=lambda o: match_stage(stages, o), now=T0, node=NODE)
    assert pod == before  # the informer's copy is never touched
    assert result.stages == ("pod-create", "pod-ready")
    assert [(kind, reason) for kind, reason, _ in result.events] == [
        ("Normal", "Pulling"),
        ("Normal", "Started"),
    ]
    assert result.status_patch is not None and not result.delete
    # The same end state as two writes at the same instant.
    played, expected, events = _one_write_at_a_time("fast", copy.deepcopy(before))
    assert played == list(result.stages) and tuple(events) == result.events  # same messages too
    written = chain.apply_merge_patch(pod, result.status_patch)
    assert written == expected
    status = written["status"]
    assert status["phase"] == "Running"
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c["status"] == "True" for c in status["conditions"])
    scheduled = next(c for c in status["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["lastTransitionTime"] == "2025-12-31T23:59:00Z"
    for key in ("hostIP", "hostIPs", "podIP", "podIPs", "startTime", "containerStatuses"):
        assert status[key], key
    assert all(cs["ready"] and "running" in cs["state"] for cs in status["containerStatuses"])
    assert status["qosClass"] == "BestEffort"  # untouched by the patch
    assert set(result.status_patch) == {"status"}
    assert "qosClass" not in result.status_patch["status"]


@pytest.mark.parametrize(
    ("profile", "image", "played"),
    [
        # realistic waits between the stages: one write each, as before.
        ("realistic", "nginx:1.27", ("pod-create",)),
        # Image pull failures are not coalesced: ContainerCreating, then ErrImagePull, then back-off.
        ("fast", "nginx:non-existent", ("pod-create",)),
    ],
)
def test_chain_stops_where_the_next_stage_does_not_coalesce(
    profile: str, image: str, played: tuple[str, ...]
) -> None:
    pod = _pod(containers=[{"name": "app", "image": image}])
    stages = load_profile(profile).pod_stages
    first = match_stage(stages, pod)
    assert first is not None
    result = chain.play_chain(first, pod, match=lambda o: match_stage(stages, o), now=T0, node=NODE)
    assert result.stages == played
    assert result.status_patch is not None
    assert result.status_patch["status"]["phase"] == "Pending"
    waiting = result.status_patch["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ContainerCreating"
    assert len(result.events) == 1


def test_a_deleting_stage_is_never_chained_after() -> None:
    pod = _pod()
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    stages = load_profile("fast").pod_stages
    first = match_stage(stages, pod)
    assert first is not None and first.name == "pod-delete"
    result = chain.play_chain(first, pod, match=lambda o: match_stage(stages, o), now=T0, node=NODE)
    assert (result.stages, result.status_patch, result.delete) == (("pod-delete",), None, True)
    assert result.events == (("Normal", "Killing", "Stopping container app"),)
