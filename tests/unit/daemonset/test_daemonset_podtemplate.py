"""Pod-template helpers, ported from upstream ``pkg/controller/daemon/util/daemonset_util_test.go``."""

from __future__ import annotations

from typing import Any

import pytest
from daemonset_builders import new_daemonset

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.podtemplate import (
    TargetNodeError,
    add_or_update_daemon_pod_tolerations,
    create_pod_template,
    get_target_node_name,
    get_template_generation,
    is_pod_updated,
    new_pod,
    replace_daemonset_pod_node_name_node_affinity,
)

GEN_LABEL = c.POD_TEMPLATE_GENERATION_LABEL
HASH_LABEL = c.CONTROLLER_REVISION_HASH_LABEL


def pod_with_labels(labels: dict[str, str] | None) -> dict[str, Any]:
    return {
        "metadata": {"name": "pod1", "namespace": "default", "labels": labels},
        "spec": {"nodeName": "node1"},
    }


LABELS = {GEN_LABEL: "12345", HASH_LABEL: "55555"}
LABELS_NO_HASH = {GEN_LABEL: "12345"}


# TestIsPodUpdated
@pytest.mark.parametrize(
    ("generation", "labels", "hash_", "want"),
    [
        pytest.param(12345, LABELS, "55555", True, id="templateGeneration and hash both match"),
        pytest.param(12345, LABELS, "55555123", True, id="templateGeneration matches, hash doesn't"),
        pytest.param(
            12345, LABELS_NO_HASH, "55555", True, id="templateGeneration matches, no hash label, has hash"
        ),
        pytest.param(
            12345, LABELS_NO_HASH, "", True, id="templateGeneration matches, no hash label, no hash"
        ),
        pytest.param(12345, LABELS, "", True, id="templateGeneration matches, has hash label, no hash"),
        pytest.param(12350, LABELS, "55555", True, id="templateGeneration doesn't match, hash does"),
        pytest.param(12350, LABELS, "55555123", False, id="templateGeneration and hash don't match"),
        pytest.param(12345, {}, "", False, id="empty labels, no hash"),
        pytest.param(12345, {}, "55555", False, id="empty labels"),
        pytest.param(12345, None, "55555", False, id="no labels"),
        pytest.param(None, LABELS_NO_HASH, "", False, id="no generation, no hash"),
    ],
)
def test_is_pod_updated(
    generation: int | None, labels: dict[str, str] | None, hash_: str, want: bool
) -> None:
    assert is_pod_updated(pod_with_labels(labels), hash_, generation) is want


# TestCreatePodTemplate
@pytest.mark.parametrize(
    ("generation", "hash_", "expect_hash_label"),
    [
        pytest.param(1, "", False, id="gen 1, no hash"),
        pytest.param(2, "3242341807", True, id="gen 2 with hash"),
    ],
)
def test_create_pod_template(generation: int, hash_: str, expect_hash_label: bool) -> None:
    template: dict[str, Any] = {}
    new = create_pod_template(template, generation, hash_)
    assert new["metadata"]["labels"][GEN_LABEL] == str(generation)
    assert (HASH_LABEL in new["metadata"]["labels"]) is expect_hash_label
    if expect_hash_label:
        assert new["metadata"]["labels"][HASH_LABEL] == hash_
    assert len(new["spec"]["tolerations"]) == 6
    assert template == {}  # the input is not mutated


def _exists(key: str, effect: str) -> dict[str, Any]:
    return {"key": key, "operator": "Exists", "effect": effect}


DEFAULTS = [
    _exists(c.TAINT_NODE_NOT_READY, "NoExecute"),
    _exists(c.TAINT_NODE_UNREACHABLE, "NoExecute"),
    _exists(c.TAINT_NODE_DISK_PRESSURE, "NoSchedule"),
    _exists(c.TAINT_NODE_MEMORY_PRESSURE, "NoSchedule"),
    _exists(c.TAINT_NODE_PID_PRESSURE, "NoSchedule"),
    _exists(c.TAINT_NODE_UNSCHEDULABLE, "NoSchedule"),
]
USER = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}


# AddOrUpdateDaemonPodTolerations / AddOrUpdateTolerationInPodSpec (seed S5).
@pytest.mark.parametrize(
    ("spec", "want"),
    [
        pytest.param({}, DEFAULTS, id="all defaults, in upstream order"),
        pytest.param(
            {"hostNetwork": True},
            [*DEFAULTS, _exists(c.TAINT_NODE_NETWORK_UNAVAILABLE, "NoSchedule")],
            id="hostNetwork adds network-unavailable",
        ),
        pytest.param({"tolerations": [USER]}, [USER, *DEFAULTS], id="user tolerations stay first"),
        pytest.param(
            {"tolerations": [{**_exists(c.TAINT_NODE_NOT_READY, "NoExecute"), "tolerationSeconds": 60}]},
            DEFAULTS,
            id="matching toleration replaced in place, made infinite",
        ),
        pytest.param(
            {"tolerations": [USER, _exists(c.TAINT_NODE_UNSCHEDULABLE, "NoSchedule")]},
            [USER, _exists(c.TAINT_NODE_UNSCHEDULABLE, "NoSchedule"), *DEFAULTS[:5]],
            id="identical toleration not duplicated",
        ),
        pytest.param(
            {"tolerations": [{"key": c.TAINT_NODE_NOT_READY, "operator": "Equal", "effect": "NoExecute"}]},
            [{"key": c.TAINT_NODE_NOT_READY, "operator": "Equal", "effect": "NoExecute"}, *DEFAULTS],
            id="different operator is another toleration",
        ),
    ],
)
def test_add_or_update_daemon_pod_tolerations(spec: dict[str, Any], want: list[dict[str, Any]]) -> None:
    add_or_update_daemon_pod_tolerations(spec)
    assert spec["tolerations"] == want


def _required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}
    }


def _fields(op: str, *values: str, key: str = "metadata.name") -> dict[str, Any]:
    return {"matchFields": [{"key": key, "operator": op, "values": list(values)}]}


HOSTNAME_EXPR = {
    "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["host_1"]}]
}
PREFERRED = {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": HOSTNAME_EXPR}]}
PINNED = _required(_fields("In", "host_1"))


# TestReplaceDaemonSetPodNodeNameNodeAffinity
@pytest.mark.parametrize(
    ("affinity", "want"),
    [
        pytest.param(None, PINNED, id="nil affinity"),
        pytest.param(_required(HOSTNAME_EXPR), PINNED, id="required matchExpressions replaced"),
        pytest.param(
            {"nodeAffinity": PREFERRED},
            {"nodeAffinity": {**PREFERRED, **PINNED["nodeAffinity"]}},
            id="preferred kept, required added",
        ),
        pytest.param(_required(_fields("In", "host_1", "host_2")), PINNED, id="two names narrowed to one"),
        pytest.param(
            _required(
                {"matchExpressions": [{"key": "hostname", "operator": "In", "values": ["host_1"]}]},
                _fields("In", "host_2"),
            ),
            PINNED,
            id="several terms become one",
        ),
        pytest.param(_required(_fields("NotIn", "host_2")), PINNED, id="NotIn replaced"),
        pytest.param(
            _required(_fields("In", "bar", key="metadata.foo")), PINNED, id="unknown field key replaced"
        ),
        pytest.param({"podAffinity": {"x": 1}}, {"podAffinity": {"x": 1}, **PINNED}, id="pod affinity kept"),
    ],
)
def test_replace_daemonset_pod_node_name_node_affinity(
    affinity: dict[str, Any] | None, want: dict[str, Any]
) -> None:
    assert replace_daemonset_pod_node_name_node_affinity(affinity, "host_1") == want


# TestGetTargetNodeName
@pytest.mark.parametrize(
    ("spec", "want"),
    [
        pytest.param({"nodeName": "node-1"}, "node-1", id="spec.nodeName"),
        pytest.param(
            {"affinity": _required(_fields("In", "node-1"))}, "node-1", id="matchFields single value"
        ),
        pytest.param(
            {"affinity": _required(_fields("In", "node-1", "node-2"))},
            "the matchFields value of 'metadata.name' is not unique for pod default/pod",
            id="two values",
        ),
        pytest.param(
            {},
            "no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod default/pod",
            id="no affinity",
        ),
        pytest.param(
            {"affinity": _required()},
            "no nodeSelectorTerms in requiredDuringSchedulingIgnoredDuringExecution of pod default/pod",
            id="no terms",
        ),
        pytest.param(
            {"affinity": _required(HOSTNAME_EXPR)},
            "no node name found for pod default/pod",
            id="no name field",
        ),
    ],
)
def test_get_target_node_name(spec: dict[str, Any], want: str) -> None:
    pod = {"metadata": {"name": "pod", "namespace": "default"}, "spec": spec}
    if want.startswith("node-"):
        assert get_target_node_name(pod) == want
    else:
        with pytest.raises(TargetNodeError) as err:
            get_target_node_name(pod)
        assert str(err.value) == want


@pytest.mark.parametrize(
    ("annotation", "want"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("3", 3, id="int"),
        pytest.param("x", None, id="unparsable"),
        pytest.param("99999999999999999999", None, id="out of int64"),
    ],
)
def test_get_template_generation(annotation: str | None, want: int | None) -> None:
    ds = new_daemonset()
    if annotation is not None:
        ds["metadata"]["annotations"] = {c.DEPRECATED_TEMPLATE_GENERATION_ANNOTATION: annotation}
    assert get_template_generation(ds) == want


def test_new_pod() -> None:
    # syncNodes + GetPodFromTemplate: the object the controller POSTs.
    ds = new_daemonset("foo")
    ds["metadata"]["annotations"] = {c.DEPRECATED_TEMPLATE_GENERATION_ANNOTATION: "4"}
    ds["spec"]["template"]["metadata"]["annotations"] = {"a": "b"}
    ds["spec"]["template"]["spec"]["affinity"] = _required(HOSTNAME_EXPR)
    pod = new_pod(ds, "node-7", "abc")
    meta = pod["metadata"]
    assert meta["generateName"] == "foo-"
    assert meta["namespace"] == "default"
    assert meta["labels"] == {
        "name": "simple-daemon",
        "type": "production",
        GEN_LABEL: "4",
        HASH_LABEL: "abc",
    }
    assert meta["annotations"] == {"a": "b"}
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "name": "foo",
            "uid": ds["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "nodeName" not in pod["spec"]
    assert pod["spec"]["affinity"] == _required(_fields("In", "node-7"))
    assert pod["spec"]["tolerations"] == DEFAULTS
    assert ds["spec"]["template"]["spec"]["affinity"] == _required(HOSTNAME_EXPR)  # cache untouched
