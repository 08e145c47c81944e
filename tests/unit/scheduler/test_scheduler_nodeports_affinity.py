"""NodePorts and NodeAffinity plugins."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_builders import (
    affinity_preferred,
    affinity_required,
    expr,
    make_node,
    make_pod,
    node_info,
)

from kubeds.scheduler.plugins import nodeaffinity, nodeports
from kubeds.scheduler.plugins.status import UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE


def _port_pod(*specs: str) -> dict[str, Any]:
    """``"UDP/127.0.0.1/8080"`` specs, as upstream's ``newPod(host, hostPortInfos...)``."""
    ports = []
    for spec in specs:
        proto, ip, port = spec.split("/")
        ports.append({"protocol": proto, "hostIP": ip, "hostPort": int(port), "containerPort": int(port)})
    return make_pod(ports=ports)


# Ported from upstream nodeports/node_ports_test.go TestNodePorts.
@pytest.mark.parametrize(
    ("wanted", "existing", "conflict"),
    [
        pytest.param([], [], False, id="no ports"),
        pytest.param(["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/9090"], False, id="other port"),
        pytest.param(["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], True, id="same udp port"),
        pytest.param(["TCP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], True, id="same tcp port"),
        pytest.param(["TCP/127.0.0.1/8080"], ["TCP/127.0.0.2/8080"], False, id="different host ip"),
        pytest.param(["UDP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], False, id="different protocol"),
        pytest.param(
            ["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"],
            ["UDP/127.0.0.1/8080"],
            True,
            id="second udp port conflict",
        ),
        pytest.param(
            ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
            ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"],
            True,
            id="first tcp port conflict",
        ),
        pytest.param(
            ["TCP/0.0.0.0/8001"], ["TCP/127.0.0.1/8001"], True, id="first tcp port conflict due to 0.0.0.0"
        ),
        pytest.param(
            ["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
            ["TCP/127.0.0.1/8001"],
            True,
            id="TCP hostPort conflict due to 0.0.0.0 hostIP",
        ),
        pytest.param(
            ["TCP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], True, id="second tcp port conflict to 0.0.0.0"
        ),
        pytest.param(["UDP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], False, id="second different protocol"),
        pytest.param(
            ["UDP/127.0.0.1/8001"],
            ["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
            True,
            id="UDP hostPort conflict due to 0.0.0.0 hostIP",
        ),
    ],
)
def test_node_ports(wanted: list[str], existing: list[str], conflict: bool) -> None:
    info = node_info(make_node("m1"), _port_pod(*existing))
    result = nodeports.filter(_port_pod(*wanted), info)
    if conflict:
        assert result.code == UNSCHEDULABLE
        assert result.reasons == ["node(s) didn't have free ports for the requested pod ports"]
    else:
        assert result.is_success


def test_node_ports_defaults_and_release() -> None:
    # Protocol defaults to TCP and hostIP to 0.0.0.0; removing the holder frees the port.
    holder = make_pod(ports=[{"containerPort": 80, "hostPort": 80}])
    info = node_info(make_node("m1"), holder)
    want = make_pod(ports=[{"containerPort": 80, "hostPort": 80, "protocol": "TCP", "hostIP": "10.0.0.1"}])
    assert not nodeports.filter(want, info).is_success
    assert info.remove_pod(holder)
    assert nodeports.filter(want, info).is_success
    # containerPort alone (hostPort 0) never conflicts.
    assert nodeports.filter(
        make_pod(ports=[{"containerPort": 80}]), node_info(make_node("m"), holder)
    ).is_success


def _na_filter(pod: dict[str, Any], labels: dict[str, str] | None = None, name: str = "node1") -> bool:
    return nodeaffinity.filter(pod, node_info(make_node(name, labels=labels))).is_success


# Ported from upstream nodeaffinity/node_affinity_test.go TestNodeAffinity (Filter column).
@pytest.mark.parametrize(
    ("pod_kwargs", "labels", "node_name", "fits"),
    [
        pytest.param({"node_selector": {"foo": "bar"}}, None, "node1", False, id="missing labels"),
        pytest.param({"node_selector": {"foo": "bar"}}, {"foo": "bar"}, "node1", True, id="same labels"),
        pytest.param(
            {"node_selector": {"foo": "bar"}}, {"foo": "bar", "baz": "blah"}, "node1", True, id="superset"
        ),
        pytest.param(
            {"node_selector": {"foo": "bar", "baz": "blah"}}, {"foo": "bar"}, "node1", False, id="subset"
        ),
        pytest.param(
            {"affinity": affinity_required({"matchExpressions": [expr("foo", "In", "bar", "value2")]})},
            {"foo": "bar"},
            "node1",
            True,
            id="In matches",
        ),
        pytest.param(
            {"affinity": affinity_required({"matchExpressions": [expr("kernel-version", "Gt", "0204")]})},
            {"kernel-version": "0206"},
            "node1",
            True,
            id="Gt matches",
        ),
        pytest.param(
            {"affinity": affinity_required({"matchExpressions": [expr("mem-type", "NotIn", "DDR", "DDR2")]})},
            {"mem-type": "DDR3"},
            "node1",
            True,
            id="NotIn matches",
        ),
        pytest.param(
            {"affinity": affinity_required({"matchExpressions": [expr("GPU", "Exists")]})},
            {"GPU": "NVIDIA-GRID-K1"},
            "node1",
            True,
            id="Exists matches",
        ),
        pytest.param(
            {"affinity": affinity_required({"matchExpressions": [expr("foo", "In", "value1", "value2")]})},
            {"foo": "bar"},
            "node1",
            False,
            id="affinity does not match labels",
        ),
        pytest.param(
            {"affinity": affinity_required({"matchExpressions": []})},
            {"foo": "bar"},
            "node1",
            False,
            id="empty matchExpressions matches nothing",
        ),
        pytest.param({}, {"foo": "bar"}, "node1", True, id="no affinity"),
        pytest.param(
            {"affinity": {"nodeAffinity": {}}}, {"foo": "bar"}, "node1", True, id="nil NodeSelector"
        ),
        pytest.param(
            {
                "affinity": affinity_required(
                    {"matchExpressions": [expr("GPU", "Exists"), expr("GPU", "NotIn", "AMD", "INTER")]}
                )
            },
            {"GPU": "NVIDIA-GRID-K1"},
            "node1",
            True,
            id="ANDed expressions match",
        ),
        pytest.param(
            {
                "affinity": affinity_required(
                    {"matchExpressions": [expr("GPU", "Exists"), expr("GPU", "In", "AMD", "INTER")]}
                )
            },
            {"GPU": "NVIDIA-GRID-K1"},
            "node1",
            False,
            id="ANDed expressions do not match",
        ),
        pytest.param(
            {
                "affinity": affinity_required(
                    {"matchExpressions": [expr("foo", "In", "bar", "value2")]},
                    {"matchExpressions": [expr("diffkey", "In", "wrong", "value2")]},
                )
            },
            {"foo": "bar"},
            "node1",
            True,
            id="ORed terms",
        ),
        pytest.param(
            {
                "node_selector": {"foo": "bar"},
                "affinity": affinity_required({"matchExpressions": [expr("foo", "Exists")]}),
            },
            {"foo": "bar"},
            "node1",
            True,
            id="affinity and nodeSelector both satisfied",
        ),
        pytest.param(
            {
                "node_selector": {"foo": "bar"},
                "affinity": affinity_required({"matchExpressions": [expr("foo", "Exists")]}),
            },
            {"foo": "barrrrrr"},
            "node1",
            False,
            id="affinity satisfied but nodeSelector not",
        ),
        pytest.param(
            {
                "affinity": affinity_required(
                    {"matchExpressions": [expr("foo", "NotIn", "invalid value: ___@#$%^")]}
                )
            },
            {"foo": "bar"},
            "node1",
            False,
            id="invalid value in term",
        ),
        pytest.param(
            {"affinity": affinity_required({"matchFields": [expr("metadata.name", "In", "node1")]})},
            None,
            "node1",
            True,
            id="matchFields In matches",
        ),
        pytest.param(
            {"affinity": affinity_required({"matchFields": [expr("metadata.name", "In", "node1")]})},
            None,
            "node2",
            False,
            id="matchFields In does not match",
        ),
        pytest.param(
            {
                "affinity": affinity_required(
                    {
                        "matchFields": [
                            expr("metadata.name", "In", "node1"),
                            expr("metadata.name", "In", "node2"),
                        ]
                    },
                    {"matchExpressions": [expr("foo", "In", "bar")]},
                )
            },
            {"foo": "bar"},
            "node2",
            True,
            id="two terms: matchFields fails, matchExpressions matches",
        ),
        pytest.param(
            {
                "affinity": affinity_required(
                    {
                        "matchFields": [expr("metadata.name", "In", "node1")],
                        "matchExpressions": [expr("foo", "In", "bar")],
                    }
                )
            },
            {"foo": "bar"},
            "node2",
            False,
            id="one term: matchFields fails, matchExpressions matches",
        ),
    ],
)
def test_node_affinity_filter(
    pod_kwargs: dict[str, Any], labels: dict[str, str] | None, node_name: str, fits: bool
) -> None:
    pod = make_pod(**pod_kwargs)
    result = nodeaffinity.filter(pod, node_info(make_node(node_name, labels=labels)))
    assert result.is_success is fits
    if not fits:
        assert result.code == UNSCHEDULABLE_AND_UNRESOLVABLE
        assert result.reasons == ["node(s) didn't match Pod's node affinity/selector"]


def _names(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return affinity_required(*({"matchFields": t} for t in terms))


# Ported from upstream TestNodeAffinity's wantPreFilterResult column.
@pytest.mark.parametrize(
    ("affinity", "want_names", "conflict"),
    [
        pytest.param(None, None, False, id="no affinity"),
        pytest.param(_names([expr("metadata.name", "In", "node1")]), {"node1"}, False, id="one name"),
        pytest.param(
            _names(
                [expr("metadata.name", "In", "node1", "node2"), expr("metadata.name", "In", "node2", "node3")]
            ),
            {"node2"},
            False,
            id="intersection within a term",
        ),
        pytest.param(
            _names([expr("metadata.name", "In", "node1")], [expr("metadata.name", "In", "node2")]),
            {"node1", "node2"},
            False,
            id="union over terms",
        ),
        pytest.param(
            affinity_required(
                {"matchFields": [expr("metadata.name", "In", "node1")]},
                {"matchExpressions": [expr("foo", "In", "bar")]},
            ),
            None,
            False,
            id="a term without name restriction allows all nodes",
        ),
        pytest.param(
            _names([expr("metadata.name", "In", "node1"), expr("metadata.name", "In", "node2")]),
            None,
            True,
            id="conflicting names",
        ),
    ],
)
def test_node_affinity_pre_filter(
    affinity: dict[str, Any] | None, want_names: set[str] | None, conflict: bool
) -> None:
    pre = nodeaffinity.pre_filter(make_pod(affinity=affinity))
    if conflict:
        assert pre.status is not None
        assert pre.status.code == UNSCHEDULABLE_AND_UNRESOLVABLE
        assert pre.status.reasons == ["pod affinity terms conflict"]
    else:
        assert pre.status is None
        assert pre.node_names == (frozenset(want_names) if want_names is not None else None)


# After upstream TestNodeAffinityPriority: affinity1 = {foo=bar} weight 2; affinity2 adds
# {key=value} weight 4 and {az in az1} weight 5 on top of foo=bar weight 2.
_FOO_BAR = {"matchExpressions": [expr("foo", "In", "bar")]}
_KEY_VALUE = {"matchExpressions": [expr("key", "In", "value")]}
_AZ1 = {"matchExpressions": [expr("az", "In", "az1")]}


@pytest.mark.parametrize(
    ("affinity", "node_labels", "want"),
    [
        pytest.param(
            affinity_preferred((2, _FOO_BAR)),
            [{"foo": "bar"}, {"key": "value"}, {"az": "az1"}],
            [100, 0, 0],
            id="only one node matches",
        ),
        pytest.param(
            affinity_preferred((2, _FOO_BAR), (4, _KEY_VALUE), (5, _AZ1)),
            [{"foo": "bar"}, {"key": "value", "az": "az1"}, {"foo": "bar", "key": "value", "az": "az1"}],
            [18, 81, 100],
            id="weights add up and normalise",
        ),
        pytest.param(
            affinity_preferred((2, _FOO_BAR)),
            [{"a": "b"}, {"c": "d"}],
            [0, 0],
            id="nothing matches",
        ),
        pytest.param(
            affinity_preferred((0, _FOO_BAR), (3, {})),
            [{"foo": "bar"}],
            [0],
            id="zero weight and empty terms are skipped",
        ),
    ],
)
def test_node_affinity_score(
    affinity: dict[str, Any], node_labels: list[dict[str, str]], want: list[int]
) -> None:
    pod = make_pod(affinity=affinity)
    raw = [
        nodeaffinity.score(pod, node_info(make_node(f"n{i}", labels=lb))) for i, lb in enumerate(node_labels)
    ]
    assert nodeaffinity.normalize(raw) == want
