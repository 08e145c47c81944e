from __future__ import annotations

from typing import Any

import pytest

from kubeds.models.affinity import (
    LazyNodeSelector,
    RequiredNodeAffinity,
    node_selector_term_matches,
    preferred_affinity_score,
)


def _node(name: str = "", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}}


def _expr(key: str, op: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": op}
    if values:
        out["values"] = list(values)
    return out


def _required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
                }
            }
        }
    }


def _with_node_selector(pod: dict[str, Any], **selector: str) -> dict[str, Any]:
    pod["spec"]["nodeSelector"] = selector
    return pod


NAME_IS_NODE_1 = {"matchFields": [_expr("metadata.name", "In", "node_1")]}
FOO_IS_BAR = {"matchExpressions": [_expr("foo", "In", "bar")]}


# Ported from upstream nodeaffinity_test.go TestPodMatchesNodeSelectorAndAffinityTerms.
@pytest.mark.parametrize(
    ("pod", "labels", "node_name", "want"),
    [
        pytest.param({}, {}, "", True, id="no selector"),
        pytest.param({"spec": {"nodeSelector": {"foo": "bar"}}}, {}, "", False, id="missing labels"),
        pytest.param({"spec": {"nodeSelector": {"foo": "bar"}}}, {"foo": "bar"}, "", True, id="same labels"),
        pytest.param(
            {"spec": {"nodeSelector": {"foo": "bar"}}},
            {"foo": "bar", "baz": "blah"},
            "",
            True,
            id="node superset",
        ),
        pytest.param(
            {"spec": {"nodeSelector": {"foo": "bar", "baz": "blah"}}},
            {"foo": "bar"},
            "",
            False,
            id="node subset",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("foo", "In", "bar", "value2")]}),
            {"foo": "bar"},
            "",
            True,
            id="In",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("kernel-version", "Gt", "0204")]}),
            {"kernel-version": "0206"},
            "",
            True,
            id="Gt",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("mem-type", "NotIn", "DDR", "DDR2")]}),
            {"mem-type": "DDR3"},
            "",
            True,
            id="NotIn",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("GPU", "Exists")]}),
            {"GPU": "NVIDIA-GRID-K1"},
            "",
            True,
            id="Exists",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("foo", "In", "value1", "value2")]}),
            {"foo": "bar"},
            "",
            False,
            id="affinity does not match labels",
        ),
        pytest.param(
            {"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}}},
            {"foo": "bar"},
            "",
            False,
            id="nil terms match nothing",
        ),
        pytest.param(_required(), {"foo": "bar"}, "", False, id="empty terms match nothing"),
        pytest.param(
            _required({"matchExpressions": []}), {"foo": "bar"}, "", False, id="empty term matches nothing"
        ),
        pytest.param({"spec": {"affinity": {}}}, {"foo": "bar"}, "", True, id="no node affinity"),
        pytest.param(
            {
                "spec": {
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": None}}
                }
            },
            {"foo": "bar"},
            "",
            True,
            id="nil required selector",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("GPU", "Exists"), _expr("GPU", "NotIn", "AMD", "INTER")]}),
            {"GPU": "NVIDIA-GRID-K1"},
            "",
            True,
            id="ANDed expressions match",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("GPU", "Exists"), _expr("GPU", "In", "AMD", "INTER")]}),
            {"GPU": "NVIDIA-GRID-K1"},
            "",
            False,
            id="ANDed expressions do not match",
        ),
        pytest.param(
            _required(
                {"matchExpressions": [_expr("foo", "In", "bar", "value2")]},
                {"matchExpressions": [_expr("diffkey", "In", "wrong", "value2")]},
            ),
            {"foo": "bar"},
            "",
            True,
            id="ORed terms",
        ),
        pytest.param(
            _with_node_selector(_required({"matchExpressions": [_expr("foo", "Exists")]}), foo="bar"),
            {"foo": "bar"},
            "",
            True,
            id="nodeSelector and affinity both satisfied",
        ),
        pytest.param(
            _with_node_selector(_required({"matchExpressions": [_expr("foo", "Exists")]}), foo="bar"),
            {"foo": "barrrrrr"},
            "",
            False,
            id="affinity satisfied but nodeSelector not",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("foo", "NotIn", "invalid value: ___@#$%^")]}),
            {"foo": "bar"},
            "",
            False,
            id="invalid value never matches",
        ),
        pytest.param(_required(NAME_IS_NODE_1), {}, "node_1", True, id="matchFields In matches"),
        pytest.param(_required(NAME_IS_NODE_1), {}, "node_2", False, id="matchFields In does not match"),
        pytest.param(
            _required(NAME_IS_NODE_1, FOO_IS_BAR), {"foo": "bar"}, "node_2", True, id="second term matches"
        ),
        pytest.param(
            _required({**NAME_IS_NODE_1, **FOO_IS_BAR}),
            {"foo": "bar"},
            "node_2",
            False,
            id="one term, fields fail",
        ),
        pytest.param(
            _required({**NAME_IS_NODE_1, **FOO_IS_BAR}),
            {"foo": "bar"},
            "node_1",
            True,
            id="one term, both match",
        ),
        pytest.param(
            _required(NAME_IS_NODE_1, {"matchExpressions": [_expr("foo", "In", "not-match-to-bar")]}),
            {"foo": "bar"},
            "node_2",
            False,
            id="two terms, neither matches",
        ),
        # Beyond the upstream table.
        pytest.param(
            _required({"matchFields": [_expr("metadata.name", "NotIn", "node_1")]}),
            {},
            "node_2",
            True,
            id="NotIn",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("x", "Lt", "notanumber")]}),
            {"x": "1"},
            "",
            False,
            id="bad Lt",
        ),
        pytest.param(
            _required({"matchExpressions": [_expr("x", "DoesNotExist")]}),
            {"y": "1"},
            "",
            True,
            id="DoesNotExist",
        ),
    ],
)
def test_pod_matches_node_selector_and_affinity_terms(
    pod: dict[str, Any], labels: dict[str, str], node_name: str, want: bool
) -> None:
    assert RequiredNodeAffinity.from_pod(pod).matches(_node(node_name, labels)) is want


# upstream TestNodeSelectorMatch "invalid field selector and label selector": errors are lazy.
INVALID_TERMS = {
    "nodeSelectorTerms": [
        {"matchFields": [_expr("metadata.name", "In", "host_1", "host_2")]},
        {**FOO_IS_BAR, "matchFields": [_expr("metadata.name", "In", "host_1")]},
        {"matchExpressions": [_expr("invalid key", "In", "label_value")]},
    ]
}
KEY_DETAIL = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def test_lazy_errors_only_when_nothing_matched() -> None:
    sel = LazyNodeSelector(INVALID_TERMS)
    assert sel.parse_errors == [
        'nodeSelectorTerms[0].matchFields[0].values: Invalid value: []string{"host_1", "host_2"}: '
        "must have one element",
        f'nodeSelectorTerms[2].matchExpressions[0].key: Invalid value: "invalid key": {KEY_DETAIL}',
    ]
    assert sel.match(_node("host_1", {"foo": "bar"})) == (True, None)
    matched, err = sel.match(_node("host_2", {"foo": "bar"}))
    assert not matched
    assert err is not None and err.startswith("[nodeSelectorTerms[0].matchFields[0].values: Invalid value")
    assert sel.match(None) == (False, None)


def test_unsupported_operators() -> None:
    sel = LazyNodeSelector(
        {
            "nodeSelectorTerms": [
                {"matchExpressions": [_expr("a", "Foo", "b")]},
                {"matchFields": [_expr("metadata.name", "Exists")]},
            ]
        }
    )
    assert sel.parse_errors == [
        'nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Foo": supported values: '
        '"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"',
        'nodeSelectorTerms[1].matchFields[0].operator: Unsupported value: "Exists": '
        'supported values: "In", "NotIn"',
    ]
    assert not sel.matches(_node("n", {"a": "b"}))


def test_node_without_name_skips_field_check() -> None:
    # Upstream only checks matchFields when the node has a name.
    assert node_selector_term_matches(NAME_IS_NODE_1, _node("", {}))
    assert not node_selector_term_matches(NAME_IS_NODE_1, _node("node_2", {}))
    assert not node_selector_term_matches({}, _node("node_1", {}))


def test_daemonset_pod_affinity_targets_one_node() -> None:
    pod = _required({"matchFields": [_expr("metadata.name", "In", "node-1")]})
    pod["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    affinity = RequiredNodeAffinity.from_pod(pod)
    assert affinity.matches(_node("node-1", {"kubernetes.io/os": "linux"}))
    assert not affinity.matches(_node("node-2", {"kubernetes.io/os": "linux"}))
    assert not affinity.matches(_node("node-1", {"kubernetes.io/os": "windows"}))


# upstream TestPreferredSchedulingTermsScore.
def test_preferred_scheduling_terms_score() -> None:
    pod = {
        "spec": {
            "affinity": {
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 5,
                            "preference": {"matchFields": [_expr("metadata.name", "In", "host_1")]},
                        },
                        {
                            "weight": 7,
                            "preference": {"matchExpressions": [_expr("unknown_label", "In", "x")]},
                        },
                        {
                            "weight": 11,
                            "preference": {"matchExpressions": [_expr("label_1", "In", "label_1_val")]},
                        },
                        {"weight": 0, "preference": {"matchExpressions": [_expr("label_1", "Exists")]}},
                        {"weight": 13, "preference": {}},
                    ]
                }
            }
        }
    }
    assert preferred_affinity_score(pod, _node("host_1", {"label_1": "label_1_val"})) == 16
    assert preferred_affinity_score(pod, _node("host_2", {})) == 0
    assert preferred_affinity_score({}, _node("host_1")) == 0
