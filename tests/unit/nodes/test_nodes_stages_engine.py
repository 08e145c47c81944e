from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from kubeds.nodes.profiles import (
    PREDICATES,
    container_id,
    image_id,
    image_tag,
    load_profile,
    load_stages,
    normalize_image,
    pod_ip,
)
from kubeds.nodes.stages import (
    Delay,
    Next,
    Requirement,
    Selector,
    Stage,
    StageError,
    match_stage,
    next_state,
    parse_stage,
    resolve_path,
    stage_delay,
    stage_delay_bounds,
)
from kubeds.nodes.templates import new_node

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

OBJ: dict[str, Any] = {
    "metadata": {"name": "p", "annotations": {"kubeds.io/exit-code": "0"}, "finalizers": []},
    "spec": {"hostNetwork": False, "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
    "status": {
        "phase": "Pending",
        "conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}],
    },
}


@pytest.mark.parametrize(
    ("path", "want"),
    [
        (".status.phase", ["Pending"]),
        (".status.missing", []),
        (".metadata.finalizers", []),  # empty lists are absent, as omitempty makes them
        (".spec.hostNetwork", [False]),
        ('.metadata.annotations["kubeds.io/exit-code"]', ["0"]),
        (".spec.containers[].name", ["a", "b"]),
        (".status.conditions[type=Ready].status", ["False"]),
        (".status.conditions[type=Missing].status", []),
        (".status.conditions[type=PodScheduled]", [{"type": "PodScheduled", "status": "True"}]),
        (".spec.containers.name", []),  # a list has no keys
        (".status.phase[]", []),
    ],
)
def test_resolve_path(path: str, want: list[Any]) -> None:
    assert resolve_path(OBJ, path) == want


@pytest.mark.parametrize("path", ["status.phase", ".a..b", ".a[", ".a[x"])
def test_bad_paths(path: str) -> None:
    with pytest.raises(StageError):
        resolve_path(OBJ, path)


# Operator semantics as KWOK's matchExpressions (kwok pkg/utils/lifecycle: In/NotIn/Exists/DoesNotExist).
@pytest.mark.parametrize(
    ("key", "op", "values", "want"),
    [
        (".status.phase", "In", ("Pending", "Running"), True),
        (".status.phase", "In", ("Running",), False),
        (".status.phase", "NotIn", ("Running",), True),
        (".status.phase", "NotIn", ("Pending",), False),
        (".status.nothing", "NotIn", ("Pending",), True),
        (".status.nothing", "In", ("Pending",), False),
        (".status.phase", "Exists", (), True),
        (".status.phase", "DoesNotExist", (), False),
        (".metadata.deletionTimestamp", "DoesNotExist", (), True),
        (".spec.hostNetwork", "In", ("false",), True),
        (".spec.containers[].name", "In", ("b",), True),
        (".spec.containers[].name", "NotIn", ("b",), False),
    ],
)
def test_requirement(key: str, op: str, values: tuple[str, ...], want: bool) -> None:
    assert Requirement(key, op, values).matches(OBJ) is want


@pytest.mark.parametrize(
    ("key", "op", "values"),
    [(".a", "Equals", ("x",)), (".a", "In", ()), (".a", "Exists", ("x",)), ("a", "Exists", ())],
)
def test_requirement_validation(key: str, op: str, values: tuple[str, ...]) -> None:
    with pytest.raises(StageError):
        Requirement(key, op, values)


def _stage(
    name: str, *reqs: Requirement, preds: tuple[tuple[str, Any], ...] = (), delay: Delay | None = None
) -> Stage:
    return Stage(
        name=name, resource="Pod", selector=Selector(reqs, preds), next=Next(), delay=delay or Delay()
    )


def test_match_stage_first_wins_and_kind_filters() -> None:
    a = _stage("a", Requirement(".status.phase", "In", ("Running",)))
    b = _stage("b", Requirement(".status.phase", "Exists"))
    c = _stage("c")
    assert match_stage([a, b, c], OBJ) is b
    assert match_stage([a], OBJ) is None
    assert match_stage([b], {**OBJ, "kind": "Node"}) is None
    assert match_stage([b], {**OBJ, "kind": "Pod"}) is b


def test_predicates_and_negation() -> None:
    def is_p(o: Any) -> bool:
        return bool(o["metadata"]["name"] == "p")

    assert _stage("s", preds=(("is-p", is_p),)).selector.matches(OBJ)
    assert not _stage("s", preds=(("!is-p", is_p),)).selector.matches(OBJ)


@pytest.mark.parametrize(
    ("delay", "obj", "want"),
    [
        (Delay(), OBJ, (0.0, 0.0)),
        (Delay(1000, 5000), OBJ, (1.0, 5.0)),
        (Delay(3000, 1000), OBJ, (3.0, 3.0)),  # jitter below duration: no jitter (as KWOK)
        (Delay(1000, jitter_until=".metadata.deletionTimestamp"), OBJ, (1.0, 1.0)),  # path missing
        (Delay(1000, jitter_until=".m.t"), {"m": {"t": "2026-01-01T00:00:30Z"}}, (1.0, 30.0)),
        (Delay(1000, jitter_until=".m.t"), {"m": {"t": "2026-01-01T00:00:00.5Z"}}, (0.5, 0.5)),
        (Delay(1000, jitter_until=".m.t"), {"m": {"t": "2025-12-31T00:00:00Z"}}, (0.0, 0.0)),
    ],
)
def test_delay_bounds(delay: Delay, obj: dict[str, Any], want: tuple[float, float]) -> None:
    assert stage_delay_bounds(_stage("s", delay=delay), obj, now=T0) == want


def test_stage_delay_draws_from_rng_within_bounds() -> None:
    stage = _stage("s", delay=Delay(1000, 5000))
    draws = [stage_delay(stage, OBJ, now=T0, rng=random.Random(7)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = random.Random(1)
    seconds = [stage_delay(stage, OBJ, now=T0, rng=rng).total_seconds() for _ in range(200)]
    assert all(1.0 <= s <= 5.0 for s in seconds)
    assert max(seconds) - min(seconds) > 2.0
    assert stage_delay(_stage("z"), OBJ, now=T0, rng=rng) == dt.timedelta(0)


def _doc(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"resourceRef": {"kind": "Pod"}, "next": {}}
    return {"kind": "Stage", "metadata": {"name": "x"}, "spec": {**base, **spec}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"kind": "Stage", "spec": {}}, "without metadata.name"),
        (_doc(resourceRef={"kind": "Service"}), "resourceRef.kind"),
        (_doc(selector={"predicates": ["!nope"]}), "unknown predicate '!nope'"),
        (_doc(next={"statusTemplate": "nope"}), "unknown template"),
        (_doc(next={"event": "nope"}), "unknown event"),
        (_doc(delay={"durationMilliseconds": -1}), "non-negative"),
        (_doc(delay={"jitterDurationMilliseconds": "5s"}), "non-negative"),
        (_doc(delay={"jitterUntil": "metadata"}), "must start with"),
        (_doc(selector={"matchExpressions": [{"key": ".a", "operator": "Is"}]}), "unknown operator"),
    ],
)
def test_parse_stage_errors(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(StageError, match=message):
        parse_stage(doc, predicates=PREDICATES, templates={}, events={})


def test_load_stages_reads_kwok_shaped_yaml() -> None:
    (stage,) = load_stages(
        """
kind: Stage
metadata: {name: custom}
spec:
  resourceRef: {kind: Pod}
  selector:
    matchExpressions: [{key: .status.phase, operator: In, values: [Running]}]
    predicates: ['!image-pull-fails']
  delay: {durationMilliseconds: 10, jitterDurationMilliseconds: 20}
  next: {delete: true, event: killing}
"""
    )
    assert stage.name == "custom" and stage.next.delete and stage.delay == Delay(10, 20)
    assert match_stage(
        [stage], {"spec": {"containers": [{"name": "c", "image": "a:1"}]}, "status": {"phase": "Running"}}
    )
    result = next_state(stage, {"spec": {"containers": [{"name": "c"}]}}, now=T0)
    assert (result.status_patch, result.delete, result.event) == (
        None,
        True,
        ("Normal", "Killing", "Stopping container c"),
    )


def test_unknown_profile() -> None:
    with pytest.raises(ValueError, match="unknown node profile 'slow'"):
        load_profile("slow")


# ------------------------------------------------------------------------------------------------
# images and identifiers


# Cases after distribution/reference normalize_test.go (ParseNormalizedNamed / FamiliarString).
@pytest.mark.parametrize(
    ("image", "want"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("docker.io/nginx", "docker.io/library/nginx:latest"),
        ("library/nginx:x", "docker.io/library/nginx:x"),
        ("user/repo", "docker.io/user/repo:latest"),
        ("registry.k8s.io/kube-proxy:v1.32.0", "registry.k8s.io/kube-proxy:v1.32.0"),
        ("localhost/img", "localhost/img:latest"),
        ("localhost:5000/img:1", "localhost:5000/img:1"),
        ("example.com:443/a/b", "example.com:443/a/b:latest"),
        ("nginx@sha256:" + "a" * 64, "docker.io/library/nginx@sha256:" + "a" * 64),
    ],
)
def test_normalize_image(image: str, want: str) -> None:
    assert normalize_image(image) == want


@pytest.mark.parametrize(
    ("image", "want"),
    [
        ("nginx:non-existent", "non-existent"),
        ("localhost:5000/nginx", "latest"),
        ("host:5000/a/nginx:non-existent", "non-existent"),
        ("nginx@sha256:abc", ""),
        ("nginx", "latest"),
    ],
)
def test_image_tag(image: str, want: str) -> None:
    assert image_tag(image) == want


def test_image_and_container_ids() -> None:
    assert image_id("nginx:1.27").startswith("docker.io/library/nginx@sha256:")
    assert image_id("nginx:1.27") == image_id("docker.io/library/nginx:1.27") != image_id("nginx:1.28")
    assert image_id("nginx@sha256:" + "b" * 64) == "docker.io/library/nginx@sha256:" + "b" * 64
    pod = {"metadata": {"uid": "u1"}}
    cid = container_id(pod, "c")
    assert cid.startswith("containerd://") and len(cid) == len("containerd://") + 64
    assert cid != container_id(pod, "d") != container_id(pod, "c", restart_count=1)


def test_pod_ip_avoids_used_and_reserved_addresses() -> None:
    node = new_node("n1", internal_ip="172.18.0.9")
    pods = [{"metadata": {"uid": f"u{i}"}, "spec": {}} for i in range(253)]
    used: set[str] = set()
    for pod in pods:
        ip = pod_ip(pod, node, used=used)
        assert ip not in used
        used.add(ip)
    assert len(used) == 253
    assert not used & {"10.0.9.0", "10.0.9.1", "10.0.9.255"}
    assert all(ip.startswith("10.0.9.") for ip in used)
    assert pod_ip(pods[0], node) == pod_ip(pods[0], node)
    assert pod_ip({"metadata": {"uid": "h"}, "spec": {"hostNetwork": True}}, node) == "172.18.0.9"


def test_pod_ip_uses_the_node_pod_cidr() -> None:
    node = {"spec": {"podCIDR": "192.168.7.0/30"}, "status": {}}
    assert pod_ip({"metadata": {"uid": "x"}}, node) == "192.168.7.2"
