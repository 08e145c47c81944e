"""Whole lifecycles: play the built-in stages the way the node agent will (match, wait, patch)."""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

import pytest

from kubeds.nodes.profiles import PROFILES, load_profile
from kubeds.nodes.stages import match_stage, next_state, stage_delay
from kubeds.nodes.templates import new_node

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NODE = new_node("node-1", internal_ip="172.18.0.2")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def run(
    obj: dict[str, Any], profile: str, *, kind: str, max_steps: int = 8
) -> tuple[list[str], dict[str, Any]]:
    """Play stages until none matches (or a delete, or a heartbeat); the stage names played."""
    prof = load_profile(profile)
    stages = prof.pod_stages if kind == "Pod" else prof.node_stages
    rng = random.Random(0)
    now = T0
    played: list[str] = []
    for _ in range(max_steps):
        stage = match_stage(stages, obj)
        if stage is None:
            break
        now += stage_delay(stage, obj, now=now, rng=rng)
        result = next_state(stage, obj, now=now, node=NODE if kind == "Pod" else None)
        played.append(stage.name)
        if result.status_patch is not None:
            obj = merge_patch(obj, result.status_patch)
        if result.delete or stage.name == "node-heartbeat":
            break
    return played, obj


def _pod(image: str = "nginx:1.27", **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u-1"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": image}], **spec},
        "status": {"phase": "Pending"},
    }


def _cond(obj: dict[str, Any], ctype: str) -> str | None:
    return next((c["status"] for c in obj["status"].get("conditions", []) if c["type"] == ctype), None)


@pytest.mark.parametrize("profile", PROFILES)
def test_pod_goes_running_and_ready(profile: str) -> None:
    played, pod = run(_pod(), profile, kind="Pod")
    assert played == ["pod-create", "pod-ready"]
    assert pod["status"]["phase"] == "Running"
    assert _cond(pod, "Ready") == "True"
    assert pod["status"]["podIP"].startswith("10.0.2.")


@pytest.mark.parametrize("profile", PROFILES)
def test_non_existent_tag_never_gets_ready(profile: str) -> None:
    played, pod = run(_pod("nginx:non-existent"), profile, kind="Pod")
    assert played == ["pod-create", "pod-image-pull-error", "pod-image-pull-backoff"]
    assert pod["status"]["phase"] == "Pending"
    assert _cond(pod, "Ready") == "False"
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "nginx:non-existent"'}
    # The image is fixed in place: the kubelet pulls it and the pod becomes Ready.
    pod["spec"]["containers"][0]["image"] = "nginx:1.27"
    played, pod = run(pod, profile, kind="Pod")
    assert played == ["pod-ready"]
    assert _cond(pod, "Ready") == "True"


@pytest.mark.parametrize("profile", PROFILES)
def test_running_pod_deleted_after_grace(profile: str) -> None:
    _, pod = run(_pod(), profile, kind="Pod")
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:01:00Z"
    played, _ = run(pod, profile, kind="Pod")
    assert played == ["pod-delete"]


@pytest.mark.parametrize(("code", "phase"), [("0", "Succeeded"), ("2", "Failed")])
def test_run_to_completion(code: str, phase: str) -> None:
    pod = _pod(restartPolicy="Never")
    pod["metadata"]["annotations"] = {"kubeds.io/exit-code": code}
    played, pod = run(pod, "realistic", kind="Pod")
    assert played == ["pod-create", "pod-ready", "pod-complete"]
    assert pod["status"]["phase"] == phase


def test_on_failure_with_error_keeps_running() -> None:
    pod = _pod(restartPolicy="OnFailure")
    pod["metadata"]["annotations"] = {"kubeds.io/exit-code": "1"}
    played, pod = run(pod, "fast", kind="Pod")
    assert played == ["pod-create", "pod-ready"]


@pytest.mark.parametrize("profile", PROFILES)
def test_node_initializes_then_heartbeats(profile: str) -> None:
    played, node = run(copy.deepcopy(NODE), profile, kind="Node")
    assert played == ["node-initialize", "node-heartbeat"]
    assert _cond(node, "Ready") == "True"


def test_node_condition_knob_failure_and_recovery() -> None:
    _, node = run(copy.deepcopy(NODE), "fast", kind="Node")
    node["metadata"]["annotations"]["kubeds.io/condition-DiskPressure"] = "True"
    played, node = run(node, "fast", kind="Node")
    assert played == ["node-conditions-changed", "node-heartbeat"]
    assert _cond(node, "DiskPressure") == "True"

    node["metadata"]["annotations"]["kubeds.io/failed"] = "true"
    for cond in node["status"]["conditions"]:
        if cond["type"] != "NetworkUnavailable":
            cond["status"] = "Unknown"  # what the node lifecycle controller writes
    assert run(node, "fast", kind="Node")[0] == []

    del node["metadata"]["annotations"]["kubeds.io/failed"]
    played, node = run(node, "fast", kind="Node")
    assert played == ["node-conditions-changed", "node-heartbeat"]
    assert _cond(node, "Ready") == "True" and _cond(node, "DiskPressure") == "True"
