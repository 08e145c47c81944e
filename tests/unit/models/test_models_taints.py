from __future__ import annotations

from typing import Any

import pytest

from kubeds.models.taints import (
    NO_EXECUTE,
    NO_SCHEDULE,
    TaintSpecError,
    find_matching_untolerated_taint,
    get_matching_tolerations,
    parse_taint,
    parse_taints,
    taint_matches,
    taint_to_string,
    toleration_tolerates_taint,
    tolerations_tolerate_taint,
)

SLA = "node.kubernetes.io/sla"


# Ported from upstream k8s.io/api/core/v1/toleration_test.go TestTolerationToleratesTaint.
@pytest.mark.parametrize(
    ("tol", "taint", "want"),
    [
        pytest.param(
            {"key": "foo", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "foo", "effect": "NoSchedule"},
            True,
            id="same key and effect, Exists, taint without value",
        ),
        pytest.param(
            {"key": "foo", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "foo", "value": "bar", "effect": "NoSchedule"},
            True,
            id="same key and effect, Exists, taint with value",
        ),
        pytest.param(
            {"key": "", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "foo", "value": "bar", "effect": "NoSchedule"},
            True,
            id="empty key with Exists matches every key",
        ),
        pytest.param(
            {"key": "foo", "operator": "Equal", "value": "bar", "effect": "NoSchedule"},
            {"key": "foo", "value": "bar", "effect": "NoSchedule"},
            True,
            id="same key effect and value, Equal",
        ),
        pytest.param(
            {"key": "foo", "operator": "Equal", "value": "value1", "effect": "NoSchedule"},
            {"key": "foo", "value": "value2", "effect": "NoSchedule"},
            False,
            id="different values, Equal",
        ),
        pytest.param(
            {"key": "foo", "operator": "Equal", "value": "bar", "effect": "NoSchedule"},
            {"key": "foo", "value": "bar", "effect": "NoExecute"},
            False,
            id="different effects",
        ),
        pytest.param(
            {"key": SLA, "operator": "Gt", "value": "950", "effect": "NoSchedule"},
            {"key": SLA, "value": "800", "effect": "NoSchedule"},
            False,
            id="Gt, taint value lower",
        ),
        pytest.param(
            {"key": SLA, "operator": "Gt", "value": "750", "effect": "NoSchedule"},
            {"key": SLA, "value": "950", "effect": "NoSchedule"},
            True,
            id="Gt, taint value higher",
        ),
        pytest.param(
            {"key": SLA, "operator": "Lt", "value": "800", "effect": "NoSchedule"},
            {"key": SLA, "value": "950", "effect": "NoSchedule"},
            False,
            id="Lt, taint value higher",
        ),
        pytest.param(
            {"key": SLA, "operator": "Lt", "value": "950", "effect": "NoSchedule"},
            {"key": SLA, "value": "800", "effect": "NoSchedule"},
            True,
            id="Lt, taint value lower",
        ),
        pytest.param(
            {"key": SLA, "operator": "Gt", "value": "950", "effect": "NoSchedule"},
            {"key": SLA, "value": "950", "effect": "NoSchedule"},
            False,
            id="Gt, equal values",
        ),
        pytest.param(
            {"key": SLA, "operator": "Gt", "value": "950", "effect": "NoSchedule"},
            {"key": SLA, "value": "high", "effect": "NoSchedule"},
            False,
            id="Gt, non-numeric taint value",
        ),
        pytest.param(
            {"key": "test-key", "operator": "Gt", "value": "-100", "effect": "NoSchedule"},
            {"key": "test-key", "value": "-200", "effect": "NoSchedule"},
            False,
            id="Gt, negative values",
        ),
        pytest.param(
            {"key": "test-key", "operator": "Gt", "value": "9223372036854775806", "effect": "NoSchedule"},
            {"key": "test-key", "value": "100", "effect": "NoSchedule"},
            False,
            id="Gt, large int64",
        ),
        # Beyond the upstream table: defaults and the seed's catch-all toleration (S4).
        pytest.param(
            {"operator": "Exists"}, {"key": "any", "value": "v", "effect": "NoExecute"}, True, id="Exists all"
        ),
        pytest.param(
            {"key": "foo", "value": "bar"},
            {"key": "foo", "value": "bar", "effect": "NoExecute"},
            True,
            id="default op",
        ),
        pytest.param(
            {"key": "foo"},
            {"key": "foo", "value": "bar", "effect": "NoSchedule"},
            False,
            id="default op value",
        ),
        pytest.param(
            {"key": "foo", "operator": "Bogus"},
            {"key": "foo", "effect": "NoSchedule"},
            False,
            id="unknown op",
        ),
        pytest.param(
            {"key": "other", "operator": "Exists"}, {"key": "foo", "effect": "NoSchedule"}, False, id="key"
        ),
    ],
)
def test_toleration_tolerates_taint(tol: dict[str, Any], taint: dict[str, Any], want: bool) -> None:
    assert toleration_tolerates_taint(tol, taint) is want


NODE_TAINTS = [
    {"key": "a", "effect": "PreferNoSchedule"},
    {"key": "b", "value": "1", "effect": "NoSchedule"},
    {"key": "c", "effect": "NoExecute"},
]


def test_find_matching_untolerated_taint_respects_effect_filter_and_order() -> None:
    effects = {NO_SCHEDULE, NO_EXECUTE}
    assert find_matching_untolerated_taint(NODE_TAINTS, [], effects=effects) == NODE_TAINTS[1]
    assert find_matching_untolerated_taint(NODE_TAINTS, [], effects=None) == NODE_TAINTS[0]
    tols = [{"key": "b", "operator": "Exists"}]
    assert find_matching_untolerated_taint(NODE_TAINTS, tols, effects=effects) == NODE_TAINTS[2]
    tols.append({"key": "c", "operator": "Exists", "effect": "NoExecute"})
    assert find_matching_untolerated_taint(NODE_TAINTS, tols, effects=effects) is None
    assert find_matching_untolerated_taint(None, None) is None


def test_tolerations_tolerate_taint() -> None:
    assert tolerations_tolerate_taint([{"key": "x"}, {"operator": "Exists"}], NODE_TAINTS[2])
    assert not tolerations_tolerate_taint(None, NODE_TAINTS[2])


def test_get_matching_tolerations() -> None:
    t1 = {"key": "c", "operator": "Exists", "tolerationSeconds": 300}
    t2 = {"operator": "Exists"}
    assert get_matching_tolerations([], []) == (True, [])
    assert get_matching_tolerations([NODE_TAINTS[2]], []) == (False, [])
    assert get_matching_tolerations([NODE_TAINTS[2]], [t1, t2]) == (True, [t1])
    assert get_matching_tolerations(NODE_TAINTS, [t1]) == (False, [])
    assert get_matching_tolerations(NODE_TAINTS, [t1, t2]) == (True, [t2, t2, t1])


@pytest.mark.parametrize(
    ("taint", "want"),
    [
        ({"key": "dedicated", "value": "infra", "effect": "NoSchedule"}, "dedicated=infra:NoSchedule"),
        (
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
            "node.kubernetes.io/unreachable:NoExecute",
        ),
    ],
)
def test_taint_to_string(taint: dict[str, Any], want: str) -> None:
    assert taint_to_string(taint) == want


def test_taint_matches_by_key_and_effect() -> None:
    assert taint_matches(
        {"key": "a", "value": "1", "effect": "NoSchedule"}, {"key": "a", "effect": "NoSchedule"}
    )
    assert not taint_matches({"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NoExecute"})


# Modelled on kubectl pkg/cmd/taint/taint_test.go TestParseTaints.
@pytest.mark.parametrize(
    ("spec", "taint", "remove"),
    [
        ("key=value:NoSchedule", {"key": "key", "value": "value", "effect": "NoSchedule"}, False),
        ("key:NoExecute", {"key": "key", "effect": "NoExecute"}, False),
        ("key=:PreferNoSchedule", {"key": "key", "effect": "PreferNoSchedule"}, False),
        (
            "example.com/key=v:NoSchedule",
            {"key": "example.com/key", "value": "v", "effect": "NoSchedule"},
            False,
        ),
        ("key-", {"key": "key"}, True),
        ("key:NoSchedule-", {"key": "key", "effect": "NoSchedule"}, True),
        ("key=value:NoSchedule-", {"key": "key", "effect": "NoSchedule"}, True),
    ],
)
def test_parse_taint(spec: str, taint: dict[str, Any], remove: bool) -> None:
    assert parse_taint(spec) == (taint, remove)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("key", "invalid taint spec: key"),
        ("key:", "invalid taint effect: , unsupported taint effect"),
        ("key=value:Bogus", "invalid taint effect: Bogus, unsupported taint effect"),
        ("a:b:NoSchedule", "invalid taint spec: a:b:NoSchedule"),
        ("k=v=w:NoSchedule", "invalid taint spec: k=v=w:NoSchedule"),
        (
            "-key:NoSchedule",
            "invalid taint spec: -key:NoSchedule, name part must consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyName',  or 'my.name',  or '123-abc', "
            "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        (
            "key=-v:NoSchedule",
            "invalid taint spec: key=-v:NoSchedule, a valid label must be an empty string or consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
    ],
)
def test_parse_taint_errors(spec: str, message: str) -> None:
    with pytest.raises(TaintSpecError) as exc:
        parse_taint(spec)
    assert str(exc.value) == message


def test_parse_taints_splits_and_rejects_duplicates() -> None:
    add, remove = parse_taints(["a=1:NoSchedule", "a:NoExecute", "b-"])
    assert add == [
        {"key": "a", "value": "1", "effect": "NoSchedule"},
        {"key": "a", "effect": "NoExecute"},
    ]
    assert remove == [{"key": "b"}]
    with pytest.raises(TaintSpecError) as exc:
        parse_taints(["a=1:NoSchedule", "a=2:NoSchedule"])
    assert str(exc.value) == "duplicated taints with the same key and effect: {a 2 NoSchedule <nil>}"
