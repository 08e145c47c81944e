"""TaintToleration, NodeUnschedulable and NodeName plugins."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_builders import make_node, make_pod, node_info

from kubeds.scheduler.plugins import nodename, nodeunschedulable, tainttoleration
from kubeds.scheduler.plugins.status import SUCCESS, UNSCHEDULABLE_AND_UNRESOLVABLE


def _taint_node(name: str, taints: list[dict[str, Any]]) -> dict[str, Any]:
    return make_node(name, taints=taints)


# Ported from upstream tainttoleration/taint_toleration_test.go TestTaintTolerationFilter.
@pytest.mark.parametrize(
    ("tolerations", "taints", "want_reason"),
    [
        pytest.param(
            [],
            [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}],
            "node(s) had untolerated taint {dedicated: user1}",
            id="no tolerations vs NoSchedule taint",
        ),
        pytest.param(
            [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}],
            [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}],
            None,
            id="dedicated node for user1",
        ),
        pytest.param(
            [{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}],
            [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}],
            "node(s) had untolerated taint {dedicated: user1}",
            id="dedicated node for user1, pod tolerates user2",
        ),
        pytest.param(
            [{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}],
            [{"key": "foo", "value": "bar", "effect": "NoSchedule"}],
            None,
            id="Exists toleration",
        ),
        pytest.param(
            [
                {"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},
                {"key": "foo", "operator": "Exists", "effect": "NoSchedule"},
            ],
            [
                {"key": "dedicated", "value": "user2", "effect": "NoSchedule"},
                {"key": "foo", "value": "bar", "effect": "NoSchedule"},
            ],
            None,
            id="multiple tolerations, all taints tolerated",
        ),
        pytest.param(
            [{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}],
            [{"key": "foo", "value": "bar", "effect": "NoSchedule"}],
            "node(s) had untolerated taint {foo: bar}",
            id="effect mismatch",
        ),
        pytest.param(
            [{"key": "foo", "operator": "Equal", "value": "bar"}],
            [{"key": "foo", "value": "bar", "effect": "NoSchedule"}],
            None,
            id="empty toleration effect matches NoSchedule",
        ),
        pytest.param(
            [{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}],
            [{"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}],
            None,
            id="PreferNoSchedule taint never filters",
        ),
        pytest.param(
            [],
            [{"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}],
            None,
            id="no toleration, PreferNoSchedule taint",
        ),
        # kubeds additions: NoExecute filters too; an empty value renders as "{key: }".
        pytest.param(
            [],
            [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoExecute"}],
            "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            id="NoExecute taint without value",
        ),
        pytest.param(
            [{"key": "a", "operator": "Exists"}],
            [{"key": "a", "effect": "NoSchedule"}, {"key": "b", "value": "2", "effect": "NoSchedule"}],
            "node(s) had untolerated taint {b: 2}",
            id="first untolerated taint in node order is reported",
        ),
    ],
)
def test_taint_toleration_filter(
    tolerations: list[dict[str, Any]], taints: list[dict[str, Any]], want_reason: str | None
) -> None:
    result = tainttoleration.filter(
        make_pod(tolerations=tolerations), node_info(_taint_node("nodeA", taints))
    )
    if want_reason is None:
        assert result.code == SUCCESS
    else:
        assert result.code == UNSCHEDULABLE_AND_UNRESOLVABLE
        assert result.reasons == [want_reason]


def _pns(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": value, "effect": "PreferNoSchedule"}


# Ported from upstream taint_toleration_test.go TestTaintTolerationScore (scores after NormalizeScore).
@pytest.mark.parametrize(
    ("tolerations", "node_taints", "want"),
    [
        pytest.param(
            [{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}],
            [[_pns("foo", "bar")], [_pns("foo", "blah")]],
            [100, 0],
            id="tolerated taints score higher",
        ),
        pytest.param(
            [
                {"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "PreferNoSchedule"},
                {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "PreferNoSchedule"},
            ],
            [[], [_pns("cpu-type", "arm64")], [_pns("cpu-type", "arm64"), _pns("disk-type", "ssd")]],
            [100, 100, 100],
            id="count of tolerated taints does not matter",
        ),
        pytest.param(
            [{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}],
            [[], [_pns("cpu-type", "arm64")], [_pns("cpu-type", "arm64"), _pns("disk-type", "ssd")]],
            [100, 50, 0],
            id="more intolerable taints, lower score",
        ),
        pytest.param(
            [
                {"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
                {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "NoSchedule"},
            ],
            [
                [],
                [{"key": "cpu-type", "value": "arm64", "effect": "NoSchedule"}],
                [_pns("cpu-type", "arm64"), _pns("disk-type", "ssd")],
            ],
            [100, 100, 0],
            id="only PreferNoSchedule taints and tolerations count",
        ),
        pytest.param([], [[], [_pns("cpu-type", "arm64")]], [100, 0], id="no tolerations"),
    ],
)
def test_taint_toleration_score(
    tolerations: list[dict[str, Any]], node_taints: list[list[dict[str, Any]]], want: list[int]
) -> None:
    pod = make_pod(tolerations=tolerations)
    raw = [tainttoleration.score(pod, node_info(_taint_node(f"n{i}", t))) for i, t in enumerate(node_taints)]
    assert tainttoleration.normalize(raw) == want


# Ported from upstream nodeunschedulable/node_unschedulable_test.go TestNodeUnschedulable.
@pytest.mark.parametrize(
    ("tolerations", "unschedulable", "want_success"),
    [
        pytest.param([], True, False, id="unschedulable node"),
        pytest.param([], False, True, id="normal node"),
        pytest.param(
            [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
            True,
            True,
            id="pod tolerating the unschedulable taint",
        ),
        pytest.param(
            [{"operator": "Exists"}], True, True, id="tolerate-everything toleration (DaemonSet S4)"
        ),
        pytest.param(
            [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoExecute"}],
            True,
            False,
            id="wrong effect does not tolerate",
        ),
    ],
)
def test_node_unschedulable(
    tolerations: list[dict[str, Any]], unschedulable: bool, want_success: bool
) -> None:
    result = nodeunschedulable.filter(
        make_pod(tolerations=tolerations), node_info(make_node("n", unschedulable=unschedulable))
    )
    assert result.is_success is want_success
    if not want_success:
        assert result.code == UNSCHEDULABLE_AND_UNRESOLVABLE
        assert result.reasons == ["node(s) were unschedulable"]


# Ported from upstream nodename/node_name_test.go TestNodeName.
@pytest.mark.parametrize(
    ("pod_node", "node", "want_success"),
    [
        pytest.param("", "foo", True, id="no host specified"),
        pytest.param("foo", "foo", True, id="host matches"),
        pytest.param("bar", "foo", False, id="host doesn't match"),
    ],
)
def test_node_name(pod_node: str, node: str, want_success: bool) -> None:
    result = nodename.filter(make_pod(node_name=pod_node), node_info(make_node(node)))
    assert result.is_success is want_success
    if not want_success:
        assert result.code == UNSCHEDULABLE_AND_UNRESOLVABLE
        assert result.reasons == ["node(s) didn't match the requested node name"]
