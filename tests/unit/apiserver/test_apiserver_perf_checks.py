"""The schedule benchmark's server-side shortcuts give what the general code gives.

* the compiled unknown-field walk reports the paths of a plain recursive walk over the schema
  (the reference below, written like the strict decoder's error paths);
* a patch walks only what it names: an unknown field it adds is reported (Strict: 422 on
  ``patch``), one the stored object could not hold is never looked for, a JSON patch walks all;
* ``validate_pod_spec``'s memo returns the errors an unmemoised validation gives, affinity errors
  in upstream's place (``ValidatePodSpec`` order), per path;
* the written-out pod field set equals the generic label walk.

Upstream has no unit tests for these internal shortcuts; the cases are chosen for the edges of
each rule.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import Client, pod

from kubeds.apiserver.registry.base import Strategy, nested_str
from kubeds.apiserver.registry.pods import PodStrategy
from kubeds.apiserver.schema import known_fields
from kubeds.apiserver.validation import podspec
from kubeds.models.fielderrors import Path as FieldPath


def _reference_walk(value: Any, type_name: str, path: str, out: list[str]) -> None:
    kinds_types = known_fields._schema()[1]
    if type_name.startswith("[]"):
        if isinstance(value, list):
            for i, item in enumerate(value):
                _reference_walk(item, type_name[2:], f"{path}[{i}]", out)
        return
    if type_name.startswith("{}"):
        if isinstance(value, dict):
            for k, item in value.items():
                _reference_walk(item, type_name[2:], f"{path}.{k}" if path else k, out)
        return
    fields = kinds_types.get(type_name)
    if fields is None or not isinstance(value, dict):
        return
    for k, item in value.items():
        sub = f"{path}.{k}" if path else k
        if k not in fields:
            out.append(sub)
        elif item is not None:
            _reference_walk(item, fields[k], sub, out)


def _reference(kind: str, obj: dict[str, Any]) -> list[str]:
    out: list[str] = []
    _reference_walk(obj, known_fields._schema()[0][kind], "", out)
    return out


def _odd_pod() -> dict[str, Any]:
    body: dict[str, Any] = pod("p", tolerations=[{"operator": "Exists", "bogus": 1}])
    body["spec"]["containers"].append(
        {
            "name": "b",
            "image": "x",
            "env": [{"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "x", "extra": True}}}],
            "resources": {"requests": {"cpu": "1"}, "limitz": {}},
            "ports": "not-a-list",
        }
    )
    body["metadata"]["labels"] = {"a": "b", "weird": {"nested": 1}}
    body["metadata"]["annotationz"] = {}
    body["spec"]["volumes"] = [
        {"name": "v", "configMap": {"name": "c", "items": [{"key": "k", "path": "p", "x": 1}]}}
    ]
    body["status"] = {"conditions": [{"type": "Ready", "status": "True", "reson": "typo"}], "phase": None}
    body["topLevel"] = 1
    return body


OBJECTS: list[tuple[str, dict[str, Any]]] = [
    ("Pod", pod("clean", tolerations=[{"operator": "Exists"}])),
    ("Pod", _odd_pod()),
    ("Node", {"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule", "x": 1}]}}),
    (
        "Event",
        {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "nam": "x"}, "source": {"hots": ""}},
    ),
    (
        "DaemonSet",
        {"spec": {"template": {"spec": {"containers": [{"name": "a", "imagee": "x"}]}}}, "x": None},
    ),
]


@pytest.mark.parametrize(("kind", "obj"), OBJECTS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(OBJECTS)])
def test_compiled_walk_matches_reference(kind: str, obj: dict[str, Any]) -> None:
    assert known_fields.unknown_fields(kind, obj) == _reference(kind, obj)


def test_odd_pod_paths() -> None:
    assert known_fields.unknown_fields("Pod", _odd_pod()) == [
        "metadata.annotationz",
        "spec.containers[1].env[0].valueFrom.fieldRef.extra",
        "spec.containers[1].resources.limitz",
        "spec.tolerations[0].bogus",
        "spec.volumes[0].configMap.items[0].x",
        "status.conditions[0].reson",
        "topLevel",
    ]


def test_touched_walk_visits_only_what_the_patch_names() -> None:
    obj = _odd_pod()
    patch = {"status": {"conditions": [{"type": "Ready"}]}, "spec": {"tolerations": []}}
    assert known_fields.unknown_fields("Pod", obj, touched=patch) == [
        "spec.tolerations[0].bogus",
        "status.conditions[0].reson",
    ]
    assert known_fields.unknown_fields("Pod", obj, touched={"metadata": {"labels": {"a": None}}}) == []
    assert known_fields.unknown_fields("Pod", obj, touched={"topLevel": 2}) == ["topLevel"]
    assert known_fields.unknown_fields("Pod", obj, touched=[{"op": "add"}]) == _reference("Pod", obj)


async def test_patch_adding_unknown_field_strict_and_warn(client: Client) -> None:
    path = "/api/v1/namespaces/default/pods"
    assert (await client.post(path, pod("p"))).status == 201
    merge = "application/merge-patch+json"
    bad = {"status": {"conditions": [{"type": "Ready", "status": "True", "reson": "x"}]}}
    strict = await client.patch(
        f"{path}/p/status", bad, content_type=merge, query={"fieldValidation": "Strict"}
    )
    assert strict.status == 422
    assert 'unknown field \\"status.conditions[0].reson\\"' in strict.raw.body.decode()
    warn = await client.patch(f"{path}/p/status", bad, content_type=merge, query={"fieldValidation": "Warn"})
    assert warn.status == 200
    assert (
        "unknown field" in warn.headers["warning"] and "status.conditions[0].reson" in warn.headers["warning"]
    )
    assert "reson" not in warn.body["status"]["conditions"][0]
    json_patch = [{"op": "add", "path": "/spec/activeDeadlineSecondz", "value": 1}]
    jp = await client.patch(
        f"{path}/p",
        json_patch,
        content_type="application/json-patch+json",
        query={"fieldValidation": "Strict"},
    )
    assert jp.status == 422


def _spec(node: str, **extra: Any) -> dict[str, Any]:
    term = {"matchExpressions": [{"key": "bad key!", "operator": "In", "values": ["a"]}]}
    if node:
        term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    return {
        "containers": [
            {"name": "c", "image": "x", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}
        ],
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
        },
        **extra,
    }


def _unmemoised(spec: dict[str, Any], path: FieldPath) -> list[str]:
    podspec._memo.clear()
    return [str(e) for e in podspec.validate_pod_spec(spec, path)]


@pytest.mark.parametrize(
    "spec",
    [
        _spec("n1"),
        _spec(""),  # an affinity error
        _spec("", serviceAccountName="Bad_Name", nodeSelector={"bad key!": "v"}),  # errors on both sides
        _spec(
            "n2", restartPolicy="Sometimes", tolerations=[{"key": "k", "operator": "Exists", "value": "v"}]
        ),
    ],
)
def test_pod_spec_memo_matches_unmemoised(spec: dict[str, Any]) -> None:
    path = FieldPath("spec")
    want = _unmemoised(spec, path)
    for _ in range(2):
        got = podspec.validate_pod_spec(copy.deepcopy(spec), path)
        assert [str(e) for e in got] == want
        got.clear()  # the caller's list is its own
    other = FieldPath("spec", "template", "spec")
    assert [str(e) for e in podspec.validate_pod_spec(spec, other)] == _unmemoised(spec, other)


def test_affinity_errors_sit_between_node_selector_and_service_account() -> None:
    spec = _spec("", serviceAccountName="Bad_Name", nodeSelector={"bad key!": "v"})
    fields = [e.field for e in podspec.validate_pod_spec(spec, FieldPath("spec"))]
    assert (
        fields.index("spec.nodeSelector")
        < fields.index(
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
            ".matchExpressions[0].key"
        )
        < fields.index("spec.serviceAccountName")
    )
    # A different affinity on the same (memoised) rest of the spec is validated afresh.
    assert not [e for e in podspec.validate_pod_spec(_spec("n9"), FieldPath("spec")) if "affinity" in e.field]


class _Generic(Strategy):
    extra_field_labels = PodStrategy.extra_field_labels


@pytest.mark.parametrize(
    "obj",
    [
        pod("a"),
        {**pod("b", node="n1", hostNetwork=True, serviceAccountName="sa"), "status": {"phase": "Running"}},
        {
            "metadata": {"name": "c"},
            "spec": "odd",
            "status": {"podIPs": [{"ip": "10.0.0.1"}], "podIP": "10.0.0.1"},
        },
        {"metadata": {}, "status": {"podIPs": "odd", "nominatedNodeName": "n2"}},
    ],
)
def test_pod_field_set_matches_generic_walk(obj: dict[str, Any]) -> None:
    want = _Generic().field_set(obj)
    spec = obj.get("spec")
    want["spec.hostNetwork"] = "true" if isinstance(spec, dict) and spec.get("hostNetwork") else "false"
    ips = (obj.get("status") or {}).get("podIPs")
    want["status.podIPs"] = nested_str(ips[0], "ip") if isinstance(ips, list) and ips else ""
    assert PodStrategy().field_set(obj) == want
