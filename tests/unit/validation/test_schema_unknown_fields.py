"""Known-field schema: upstream strict decoding reports `unknown field "<path>"` for these paths."""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.apiserver import resources
from kubeds.apiserver.schema import field_type, known_kinds, unknown_fields


def daemonset() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "ds",
            "labels": {"any/key": "v"},
            "annotations": {"x": "y"},
            "creationTimestamp": None,
        },
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [
                        {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}}},
                        {
                            "name": "b",
                            "image": "y",
                            "env": [{"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
                        },
                    ],
                    "tolerations": [{"operator": "Exists"}],
                },
            },
        },
        "status": {"numberReady": 0},
    }


def test_every_served_kind_has_a_schema() -> None:
    assert {r.kind for r in resources.RESOURCES} <= set(known_kinds())


def test_valid_object_has_no_unknown_fields() -> None:
    assert unknown_fields("DaemonSet", daemonset()) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("spec", "template", "spec", "containers", 0, "imagee"), "spec.template.spec.containers[0].imagee"),
        (
            ("spec", "template", "spec", "containers", 1, "env", 0, "valueFrom", "fieldRef", "x"),
            "spec.template.spec.containers[1].env[0].valueFrom.fieldRef.x",
        ),
        (
            ("spec", "template", "spec", "tolerations", 0, "tolerationSecond"),
            "spec.template.spec.tolerations[0].tolerationSecond",
        ),
        (("spec", "replicas"), "spec.replicas"),
        (("metadata", "lables"), "metadata.lables"),
        (
            ("spec", "updateStrategy", "rollingUpdate", "maxSurgee"),
            "spec.updateStrategy.rollingUpdate.maxSurgee",
        ),
        (("top",), "top"),
    ],
)
def test_unknown_field_paths(path: tuple[str | int, ...], expected: str) -> None:
    obj = daemonset()
    node: Any = obj
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = 1
    assert unknown_fields("DaemonSet", obj) == [expected]


def test_free_form_maps_and_int_or_string_accept_anything() -> None:
    obj = daemonset()
    obj["metadata"]["labels"]["whatever.io/x"] = "1"
    obj["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = {"odd": 1}
    node: dict[str, Any] = {"metadata": {"name": "n"}, "status": {"capacity": {"example.com/gpu": "2"}}}
    assert unknown_fields("DaemonSet", obj) == []
    assert unknown_fields("Node", node) == []


def test_several_unknown_fields_in_document_order() -> None:
    pdb = {"spec": {"minAvailable": 1, "foo": 1, "selector": {"matchLabelz": {}}}, "bar": {}}
    assert unknown_fields("PodDisruptionBudget", pdb) == ["spec.foo", "spec.selector.matchLabelz", "bar"]


def test_unknown_kind_has_no_opinion() -> None:
    assert unknown_fields("Widget", {"anything": 1}) == []


def test_field_type() -> None:
    assert field_type("DaemonSet", "spec.template.spec.containers[0].image") == "string"
    assert field_type("DaemonSet", "spec.template.spec.containers") == "[]V1Container"
    assert field_type("DaemonSet", "spec.updateStrategy.rollingUpdate.maxUnavailable") == "any"
    assert field_type("Node", "metadata.labels.foo") == "string"
    assert field_type("Node", "spec.taints.effect") == "string"
    assert field_type("Node", "spec.nope") is None
    assert field_type("Widget", "spec") is None
