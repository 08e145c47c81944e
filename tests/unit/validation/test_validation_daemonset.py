"""DaemonSet validation; the error cases follow upstream's TestValidateDaemonSet,
TestValidateDaemonSetUpdate and TestValidateRollingUpdateDaemonSet (pkg/apis/apps/validation)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubeds.apiserver.defaults import apply_defaults
from kubeds.apiserver.validation import validate_create, validate_status_update, validate_update

Mutation = Callable[[dict[str, Any]], None]

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    r"is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def new_daemonset() -> dict[str, Any]:
    ds: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "abc", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "abc", "image": "image"}]},
            },
        },
    }
    apply_defaults("DaemonSet", ds)
    return ds


def _set(path: str, value: Any) -> Mutation:
    def mutate(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = obj
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


CASES = [
    pytest.param(
        _set("metadata.name", ""),
        ["metadata.name: Required value: name or generateName is required"],
        id="zero-length-name",
    ),
    pytest.param(
        _set("metadata.name", "Abc"), [f'metadata.name: Invalid value: "Abc": {SUBDOMAIN_MSG}'], id="bad-name"
    ),
    pytest.param(
        _set("metadata.namespace", ""), ["metadata.namespace: Required value"], id="missing-namespace"
    ),
    pytest.param(
        _delete("spec.selector"),
        [
            'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`'
        ],
        id="nil-selector",
    ),
    pytest.param(
        _set("spec.selector", {}),
        ["spec.selector: Invalid value: {}: empty selector is invalid for daemonset"],
        id="empty-selector",
    ),
    pytest.param(
        _set("spec.template.metadata.labels", {"a": "c"}),
        [
            'spec.template.metadata.labels: Invalid value: {"a":"c"}: `selector` does not match template `labels`'
        ],
        id="selector-doesnt-match",
    ),
    pytest.param(
        _set("spec.template.spec.restartPolicy", "Never"),
        ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
        id="restart-policy-never",
    ),
    pytest.param(
        _set("spec.template.spec.restartPolicy", "OnFailure"),
        ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
        id="restart-policy-onfailure",
    ),
    pytest.param(
        _set("spec.template.spec.activeDeadlineSeconds", 10),
        [
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported"
        ],
        id="active-deadline",
    ),
    pytest.param(
        _set("spec.template.spec.containers.0.image", ""),
        ["spec.template.spec.containers[0].image: Required value"],
        id="missing-image",
    ),
    pytest.param(
        _set("spec.template.spec.containers", []),
        ["spec.template.spec.containers: Required value"],
        id="no-containers",
    ),
    pytest.param(
        _set("spec.minReadySeconds", -1),
        ["spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"],
        id="negative-min-ready",
    ),
    pytest.param(
        _set("spec.revisionHistoryLimit", -1),
        ["spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"],
        id="negative-history-limit",
    ),
    pytest.param(
        _set("spec.updateStrategy", {"type": "Foo"}),
        [
            'spec.updateStrategy: Unsupported value: {"type":"Foo"}: supported values: "RollingUpdate", "OnDelete"'
        ],
        id="bad-strategy-type",
    ),
    pytest.param(
        _set("spec.updateStrategy", {"type": "RollingUpdate"}),
        ["spec.updateStrategy.rollingUpdate: Required value"],
        id="rolling-update-missing",
    ),
    pytest.param(
        _set("spec.updateStrategy.rollingUpdate", {"maxUnavailable": 0, "maxSurge": 0}),
        ["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"],
        id="both-zero",
    ),
    pytest.param(
        _set("spec.updateStrategy.rollingUpdate", {"maxUnavailable": "0%", "maxSurge": "0%"}),
        ["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"],
        id="both-zero-percent",
    ),
    pytest.param(
        _set("spec.updateStrategy.rollingUpdate", {"maxUnavailable": 1, "maxSurge": "10%"}),
        [
            'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero'
        ],
        id="both-non-zero",
    ),
    pytest.param(
        _set("spec.updateStrategy.rollingUpdate", {"maxUnavailable": "110%", "maxSurge": 0}),
        [
            'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%'
        ],
        id="percent-over-100",
    ),
    pytest.param(
        _set("spec.updateStrategy.rollingUpdate", {"maxUnavailable": -1, "maxSurge": 0}),
        [
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0",
        ],
        id="negative-max-unavailable",
    ),
    pytest.param(
        _set("spec.template.metadata.labels", {"a": "b", "NoUppercaseOrSpecialCharsLike=Equals": "b"}),
        [
            'spec.template.labels: Invalid value: "NoUppercaseOrSpecialCharsLike=Equals": name part must consist of '
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        ],
        id="invalid-template-label",
    ),
    pytest.param(
        _set("spec.template.spec.tolerations", [{"operator": "Exists", "value": "x"}]),
        [
            'spec.template.spec.tolerations[0].operator: Invalid value: {"operator":"Exists","value":"x"}: '
            "value must be empty when `operator` is 'Exists'"
        ],
        id="toleration-exists-with-value",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), CASES)
def test_invalid_daemonset(mutate: Mutation, expected: list[str]) -> None:
    ds = new_daemonset()
    mutate(ds)
    assert [str(e) for e in validate_create("DaemonSet", ds)] == expected


def test_valid_daemonsets() -> None:
    assert validate_create("DaemonSet", new_daemonset()) == []
    on_delete = new_daemonset()
    on_delete["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert validate_create("DaemonSet", on_delete) == []
    surge = new_daemonset()
    surge["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": "25%"}
    assert validate_create("DaemonSet", surge) == []
    generated = new_daemonset()
    generated["metadata"] = {"generateName": "abc-", "namespace": "default"}
    assert validate_create("DaemonSet", generated) == []


def test_required_value_cause_shape() -> None:
    ds = new_daemonset()
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    (err,) = validate_create("DaemonSet", ds)
    assert err.cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "spec.template.spec.containers[0].image",
    }


def test_update_selector_is_immutable() -> None:
    old = new_daemonset()
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"a": "b", "c": "d"}}
    new["spec"]["template"]["metadata"]["labels"] = {"a": "b", "c": "d"}
    assert [str(e) for e in validate_update("DaemonSet", new, old)] == [
        'spec.selector: Invalid value: {"matchLabels":{"a":"b","c":"d"}}: field is immutable'
    ]


def test_update_name_and_namespace_are_immutable() -> None:
    old = new_daemonset()
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "other"
    new["metadata"]["namespace"] = "kube-system"
    assert [str(e) for e in validate_update("DaemonSet", new, old)] == [
        'metadata.name: Invalid value: "other": field is immutable',
        'metadata.namespace: Invalid value: "kube-system": field is immutable',
    ]


def test_update_template_change_is_allowed() -> None:
    old = new_daemonset()
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "image:v2"
    new["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert validate_update("DaemonSet", new, old) == []


def test_status_update_rules() -> None:
    old = new_daemonset()
    old["status"]["collisionCount"] = 2
    new = copy.deepcopy(old)
    new["status"]["collisionCount"] = 1
    new["status"]["numberReady"] = -1
    assert [str(e) for e in validate_status_update("DaemonSet", new, old)] == [
        "status.numberReady: Invalid value: -1: must be greater than or equal to 0",
        "status.collisionCount: Invalid value: 1: cannot be decremented",
    ]
