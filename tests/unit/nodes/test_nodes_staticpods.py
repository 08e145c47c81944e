"""Pure pieces: mirror pods (pkg/kubelet/config/common.go applyDefaults, pkg/kubelet/pod/mirror_client.go),
the kubeds.io annotations, the lease interval cap and the durationUntil delay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubeds.nodes import annotations as knobs, kubelet, staticpods
from kubeds.nodes.stages import Delay, Next, Selector, Stage, stage_delay_bounds

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MANIFEST: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "kube-apiserver", "namespace": "kube-system", "uid": "drop-me"},
    "spec": {"containers": [{"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.32.0"}]},
    "status": {"phase": "Running"},
}


def _node(*manifests: dict[str, Any]) -> dict[str, Any]:
    notes = {knobs.STATIC_PODS_ANNOTATION: knobs.encode_static_pods(list(manifests))} if manifests else {}
    return {"metadata": {"name": "cp-1", "uid": "node-uid", "annotations": notes}}


def test_mirror_pod_shape() -> None:
    pod = staticpods.mirror_pod(MANIFEST, _node(MANIFEST), now=T0)
    meta = pod["metadata"]
    assert meta["name"] == "kube-apiserver-cp-1" and meta["namespace"] == "kube-system"
    assert "uid" not in meta and "status" not in pod
    digest = staticpods.config_hash(MANIFEST, "cp-1")
    assert meta["annotations"] == {
        "kubernetes.io/config.hash": digest,
        "kubernetes.io/config.mirror": digest,
        "kubernetes.io/config.seen": "2026-01-01T00:00:00.000000Z",
        "kubernetes.io/config.source": "file",
    }
    assert meta["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Node", "name": "cp-1", "uid": "node-uid", "controller": True}
    ]
    assert pod["spec"]["nodeName"] == "cp-1"
    assert staticpods.is_mirror_pod(pod)
    assert MANIFEST["metadata"]["uid"] == "drop-me"  # the manifest itself is not touched


def test_namespace_defaults_and_hash_depends_on_node_and_manifest() -> None:
    bare = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert staticpods.mirror_pod(bare, _node(bare), now=T0)["metadata"]["namespace"] == "default"
    assert staticpods.config_hash(bare, "a") != staticpods.config_hash(bare, "b")
    changed = {**bare, "spec": {"containers": [{"name": "c", "image": "j"}]}}
    assert staticpods.config_hash(bare, "a") != staticpods.config_hash(changed, "a")


def _existing(
    manifest: dict[str, Any], *, digest: str | None = None, deleting: bool = False
) -> dict[str, Any]:
    pod = staticpods.mirror_pod(manifest, _node(manifest), now=T0)
    pod["metadata"]["uid"] = "u1"
    if digest is not None:
        pod["metadata"]["annotations"][staticpods.CONFIG_MIRROR_ANNOTATION] = digest
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:30Z"
    return pod


@pytest.mark.parametrize(
    ("node", "existing", "creates", "deletes"),
    [
        pytest.param(_node(MANIFEST), [], ["kube-apiserver-cp-1"], [], id="missing-is-created"),
        pytest.param(_node(MANIFEST), [_existing(MANIFEST)], [], [], id="up-to-date-is-kept"),
        pytest.param(
            _node(MANIFEST), [_existing(MANIFEST, digest="old")], [], ["kube-apiserver-cp-1"], id="outdated"
        ),
        pytest.param(_node(), [_existing(MANIFEST)], [], ["kube-apiserver-cp-1"], id="manifest-removed"),
        pytest.param(_node(MANIFEST), [_existing(MANIFEST, deleting=True)], [], [], id="terminating-waits"),
        pytest.param(
            _node(MANIFEST),
            [{"metadata": {"name": "web", "namespace": "default"}, "spec": {"nodeName": "cp-1"}}],
            ["kube-apiserver-cp-1"],
            [],
            id="ordinary-pods-ignored",
        ),
    ],
)
def test_plan_mirror_pods(
    node: dict[str, Any], existing: list[dict[str, Any]], creates: list[str], deletes: list[str]
) -> None:
    plan = staticpods.plan_mirror_pods(node, existing, now=T0)
    assert [p["metadata"]["name"] for p in plan.create] == creates
    assert [name for _, name, _ in plan.delete] == deletes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ('{"a": 1}', "JSON list"),
        ('[{"kind": "Service", "metadata": {"name": "x"}, "spec": {"containers": [{}]}}]', "manifest #0"),
        ('[{"metadata": {"name": "x"}, "spec": {}}]', "manifest #0"),
    ],
)
def test_bad_static_pod_annotations(text: str, message: str) -> None:
    with pytest.raises(knobs.StaticPodsError, match=message):
        knobs.parse_static_pods(text)
    # The kubelet ignores what it cannot decode.
    assert (
        knobs.static_pod_manifests({"metadata": {"annotations": {knobs.STATIC_PODS_ANNOTATION: text}}}) == []
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("DiskPressure=True", ("kubeds.io/condition-DiskPressure", "True")),
        ("Ready=false", ("kubeds.io/condition-Ready", "False")),
        ("NetworkUnavailable=TRUE", ("kubeds.io/condition-NetworkUnavailable", "True")),
    ],
)
def test_condition_annotation(text: str, want: tuple[str, str]) -> None:
    assert knobs.condition_annotation(text) == want


@pytest.mark.parametrize("text", ["DiskPressure", "=True", "DiskPressure=Unknown", "DiskPressure=yes"])
def test_condition_annotation_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="Type=Status"):
        knobs.condition_annotation(text)


@pytest.mark.parametrize(
    ("value", "failed"), [("true", True), ("True", True), ("false", False), ("", False), (None, False)]
)
def test_is_failed(value: str | None, failed: bool) -> None:
    notes = {} if value is None else {knobs.FAILED_ANNOTATION: value}
    assert knobs.is_failed({"metadata": {"annotations": notes}}) is failed


@pytest.mark.parametrize(
    ("nodes", "rate", "want"),
    [
        (100, 400.0, 10.0),  # the kubelet's interval while under the cap
        (4000, 400.0, 10.0),
        (5000, 400.0, 12.5),  # stretched so 5,000 nodes renew 400 times a second
        (100_000, 400.0, 20.0),  # never past half the lease duration
        (100_000, 0.0, 10.0),  # no cap
    ],
)
def test_lease_interval_cap(nodes: int, rate: float, want: float) -> None:
    timing = kubelet.Timing(
        renew_interval=10, status_report_interval=300, tick=0.1, lease_duration=40, max_renew_rate=rate
    )
    assert timing.lease_interval(nodes) == want


@pytest.mark.parametrize(
    ("delay", "obj", "want"),
    [
        (Delay(duration_until=".m.t"), {"m": {"t": "2026-01-01T00:00:30Z"}}, (30.0, 30.0)),
        (Delay(1000, duration_until=".m.t"), {"m": {"t": "2025-12-31T00:00:00Z"}}, (1.0, 1.0)),
        (Delay(0, 5000, duration_until=".m.t"), {"m": {"t": "2026-01-01T00:00:02Z"}}, (2.0, 5.0)),
        (Delay(500, duration_until=".m.t"), {}, (0.5, 0.5)),  # path missing
    ],
)
def test_duration_until_waits_for_the_timestamp(
    delay: Delay, obj: dict[str, Any], want: tuple[float, float]
) -> None:
    stage = Stage(name="s", resource="Pod", selector=Selector(), next=Next(delete=True), delay=delay)
    assert stage_delay_bounds(stage, obj, now=T0) == want
