"""A pod marked NotReady by the node lifecycle controller is reported Ready again by its kubelet.

Upstream: while a node is unreachable, pkg/controller/nodelifecycle MarkPodsNotReady sets the
Ready condition of its pods to False; once the kubelet is back, its status manager
(pkg/kubelet/status/status_manager.go ``needsReconcile``) sees the API status differ from its own
and re-posts it. Found by tests/e2e/test_nodes_scheduler.py (a DaemonSet pod stayed NotReady
after ``kubeds node recover``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from nodes_simfixtures import bare_node, condition, environment, pod_on, settle

from kubeds.nodes import annotations as knobs
from kubeds.nodes.profiles import PREDICATES, PROFILES, load_profile
from kubeds.nodes.stages import match_stage

READY_OVERWRITTEN = PREDICATES["ready-overwritten"]


def _running(**spec: Any) -> dict[str, Any]:
    conditions = [
        {"type": t, "status": "True"}
        for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    return {
        "metadata": {"name": "p", "namespace": "default", "uid": "u-1"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "nginx:1.27"}], **spec},
        "status": {
            "phase": "Running",
            "startTime": "2026-01-01T00:00:00Z",
            "conditions": conditions,
            "containerStatuses": [{"name": "app", "ready": True, "state": {"running": {}}}],
        },
    }


def _with(pod: dict[str, Any], ctype: str, status: str) -> dict[str, Any]:
    out = copy.deepcopy(pod)
    for c in out["status"]["conditions"]:
        if c["type"] == ctype:
            c["status"] = status
    return out


def _unready_container(pod: dict[str, Any]) -> dict[str, Any]:
    out = _with(_with(pod, "Ready", "False"), "ContainersReady", "False")
    out["status"]["containerStatuses"][0]["ready"] = False
    return out


@pytest.mark.parametrize(
    ("name", "pod", "want"),
    [
        ("healthy running pod", _running(), False),
        ("Ready overwritten to False", _with(_running(), "Ready", "False"), True),
        ("ContainersReady overwritten", _with(_running(), "ContainersReady", "False"), True),
        ("Ready Unknown", _with(_running(), "Ready", "Unknown"), True),
        ("a container really not ready", _unready_container(_running()), False),
        (
            "readiness gates are not the kubelet's alone",
            _with(_running(readinessGates=[{"conditionType": "x/y"}]), "Ready", "False"),
            False,
        ),
        ("no container statuses yet", {"spec": {}, "status": {"phase": "Running"}}, False),
    ],
)
def test_ready_overwritten_predicate(name: str, pod: dict[str, Any], want: bool) -> None:
    assert READY_OVERWRITTEN(pod) is want, name


@pytest.mark.parametrize("profile", PROFILES)
def test_stage_matches_only_the_overwritten_pod(profile: str) -> None:
    stages = load_profile(profile).pod_stages
    assert match_stage(stages, _running()) is None
    stage = match_stage(stages, _with(_running(), "Ready", "False"))
    assert stage is not None and stage.name == "pod-ready-again"
    deleting = _with(_running(), "Ready", "False")
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert match_stage(stages, deleting) is not None
    assert match_stage(stages, deleting).name == "pod-delete"  # type: ignore[union-attr]


async def test_recovered_node_reports_its_pod_ready_again() -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("n1"))
        await env.start(profile="fast")
        await env.res("pods").create(pod_on("web", "n1"))
        await settle(300)
        assert condition(await env.pod("web"), "Ready") == "True"

        await env.res("nodes").patch("n1", {"metadata": {"annotations": {knobs.FAILED_ANNOTATION: "true"}}})
        await settle(100)
        # What the node lifecycle controller does to the pods of an unreachable node.
        pod = await env.pod("web")
        marked = [dict(c, status="False") if c["type"] == "Ready" else c for c in pod["status"]["conditions"]]
        await env.res("pods").patch(
            "web", {"status": {"conditions": marked}}, namespace="default", subresource="status"
        )
        await env.advance(30, step=5)
        assert condition(await env.pod("web"), "Ready") == "False", "a failed node's kubelet is silent"

        await env.res("nodes").patch("n1", {"metadata": {"annotations": {knobs.FAILED_ANNOTATION: None}}})
        await settle(300)
        pod = await env.pod("web")
        assert condition(pod, "Ready") == "True"
        assert pod["status"]["phase"] == "Running"
