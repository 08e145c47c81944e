"""Rolling-update decisions, ported from upstream ``pkg/controller/daemon/update_test.go``.

Every step is one sync after ``clearExpectations``; the tuples are (creates, deletes, events).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from daemonset_builders import (
    SIMPLE_DS_LABEL,
    FakeCluster,
    add_nodes,
    at,
    new_daemonset,
    new_node,
    new_pod,
    rolling_update,
    set_ready,
    surge,
)

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.pods import is_being_deleted, is_pod_ready
from kubeds.controllers.daemonset.podtemplate import get_target_node_name
from kubeds.controllers.daemonset.rolling import (
    RollingUpdateError,
    allows_surge,
    get_unavailable_numbers,
    rolling_update_decisions,
)

READY = "ready"


def started(nodes: int = 5) -> FakeCluster:
    """An OnDelete DaemonSet that has launched its pods (the common prologue)."""
    fc = FakeCluster(ds=new_daemonset("foo"))
    add_nodes(fc.nodes, 0, nodes)
    assert fc.sync().counts == (nodes, 0, 0)
    return fc


def run_steps(fc: FakeCluster, steps: list[Any]) -> None:
    for i, step in enumerate(steps):
        if step == READY:
            fc.mark_pods_ready()
            continue
        fc.clear_expectations()
        assert fc.sync().counts == (*step, 0), f"step {i}"


def change_image(fc: FakeCluster, image: str, strategy: dict[str, Any]) -> None:
    fc.ds["spec"]["template"]["spec"]["containers"][0]["image"] = image
    fc.ds["spec"]["updateStrategy"] = strategy


def test_daemonset_updates_pods() -> None:
    # TestDaemonSetUpdatesPods
    fc = started()
    fc.mark_pods_ready()
    change_image(fc, "foo2/bar2", rolling_update(2))
    run_steps(fc, [(0, 2), (2, 0), READY, (0, 2), (2, 0), READY, (0, 1), (1, 0), READY, (0, 0)])


def test_daemonset_updates_pods_with_max_surge() -> None:
    # TestDaemonSetUpdatesPodsWithMaxSurge
    fc = started()
    fc.mark_pods_ready()
    change_image(fc, "foo2/bar2", surge(2))
    run_steps(fc, [(2, 0), (0, 0), READY, (2, 2), (0, 0), READY, (1, 2), (0, 0), READY, (0, 1), (0, 0)])


def test_daemonset_updates_when_new_pod_is_not_ready() -> None:
    # TestDaemonSetUpdatesWhenNewPosIsNotReady
    fc = started()
    fc.mark_pods_ready()
    change_image(fc, "foo2/bar2", rolling_update(3))
    run_steps(fc, [(0, 3), (3, 0), (0, 0)])


def test_daemonset_updates_all_old_pods_not_ready() -> None:
    # TestDaemonSetUpdatesAllOldPodsNotReady: unavailable old pods are replaced regardless of budget.
    fc = started()
    change_image(fc, "foo2/bar2", rolling_update(3))
    run_steps(fc, [(0, 5), (5, 0), (0, 0)])


def test_daemonset_updates_no_template_changed() -> None:
    # TestDaemonSetUpdatesNoTemplateChanged
    fc = started()
    fc.ds["spec"]["updateStrategy"] = rolling_update(3)
    run_steps(fc, [(0, 0)])


def test_daemonset_updates_pods_not_match_taints_with_max_surge() -> None:
    # TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge
    fc = FakeCluster(ds=new_daemonset("foo", strategy=surge(1)))
    taint = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    fc.ds["spec"]["template"]["spec"]["tolerations"] = [{**taint, "operator": "Exists"}]
    add_nodes(fc.nodes, 0, 5)
    fc.nodes[0]["spec"]["taints"] = [taint]
    assert fc.sync().counts == (5, 0, 0)
    fc.mark_pods_ready()
    del fc.ds["spec"]["template"]["spec"]["tolerations"]
    # node-0's old pod goes once enough pods elsewhere are available.
    run_steps(fc, [(1, 1), (0, 0)] + [READY, (1, 1), (0, 0)] * 3 + [READY, (0, 1), (0, 0)])


def set_pod_readiness(fc: FakeCluster, ready: bool, count: int, fn: Callable[[dict[str, Any]], bool]) -> None:
    """Upstream ``setPodReadiness``: flip ``count`` matching pods, transition time = the clock."""
    for pod in fc.pods:
        if count <= 0:
            break
        if is_being_deleted(pod) or is_pod_ready(pod) == ready or not fn(pod):
            continue
        set_ready(pod, ready, since=fc.now)
        count -= 1
    assert count == 0


def test_daemonset_updates_all_old_pods_not_ready_max_surge() -> None:
    # TestDaemonSetUpdatesAllOldPodsNotReadyMaxSurge
    fc = started()
    change_image(fc, "foo2/bar2", surge(3))
    fc.now = at(100)
    run_steps(fc, [(5, 0)])  # surge is not limited for unavailable old pods
    fc.now = at(200)
    run_steps(fc, [(0, 5)])  # old pods not ready: deleted at once
    set_pod_readiness(fc, True, 5, lambda _: True)
    fc.ds["spec"]["minReadySeconds"] = 15
    fc.ds["spec"]["template"]["spec"]["containers"][0]["image"] = "foo3/bar3"
    fc.now = at(300)
    run_steps(fc, [(3, 0)])

    hash_ = fc.hash()

    def current(pod: dict[str, Any]) -> bool:
        return bool(pod["metadata"]["labels"].get(c.CONTROLLER_REVISION_HASH_LABEL) == hash_)

    nodes_with_current = {get_target_node_name(p) for p in fc.pods if current(p)}
    set_pod_readiness(fc, True, 2, current)
    set_pod_readiness(
        fc, False, 1, lambda p: not current(p) and get_target_node_name(p) not in nodes_with_current
    )
    fc.now = at(310)
    run_steps(fc, [(1, 0)])  # new pods still short of minReadySeconds: only replace the unready old pod
    fc.now = at(320)
    run_steps(fc, [(1, 3)])
    set_pod_readiness(fc, True, 3, current)
    fc.now = at(340)
    run_steps(fc, [(0, 2)])
    fc.now = at(350)
    run_steps(fc, [(0, 0)])


def _ready_pod(name: str, node: str) -> dict[str, Any]:
    pod = new_pod(name, node, SIMPLE_DS_LABEL)
    set_ready(pod)
    return pod


@pytest.mark.parametrize(
    ("nodes", "strategy", "mapping", "want"),
    [
        # (max_surge, max_unavailable, empty nodes added)
        pytest.param(0, rolling_update(0), {}, (0, 0, 0), id="No nodes"),
        pytest.param(
            2,
            rolling_update(1),
            {"node-0": [_ready_pod("pod-0", "node-0")], "node-1": [_ready_pod("pod-1", "node-1")]},
            (0, 1, 0),
            id="Two nodes with ready pods",
        ),
        pytest.param(
            2,
            rolling_update(0),
            {"node-0": [_ready_pod("pod-0", "node-0")]},
            (0, 1, 1),
            id="Two nodes, one node without pods",
        ),
        pytest.param(
            2,
            surge(0),
            {"node-0": [_ready_pod("pod-0", "node-0")]},
            (0, 1, 1),
            id="Two nodes, one node without pods, surge",
        ),
        pytest.param(
            2,
            rolling_update("50%"),
            {"node-0": [_ready_pod("pod-0", "node-0")], "node-1": [_ready_pod("pod-1", "node-1")]},
            (0, 1, 0),
            id="Two nodes with pods, MaxUnavailable in percents",
        ),
        pytest.param(
            2,
            surge("50%"),
            {"node-0": [_ready_pod("pod-0", "node-0")], "node-1": [_ready_pod("pod-1", "node-1")]},
            (1, 0, 0),
            id="Two nodes with pods, MaxUnavailable in percents, surge",
        ),
        pytest.param(
            2,
            surge("100%"),
            {"node-0": [_ready_pod("pod-0", "node-0")], "node-1": [_ready_pod("pod-1", "node-1")]},
            (2, 0, 0),
            id="Two nodes with pods, MaxUnavailable is 100%, surge",
        ),
        pytest.param(
            3,
            rolling_update("50%"),
            {
                "node-0": [_ready_pod("pod-0", "node-0")],
                "node-1": [
                    {
                        **_ready_pod("pod-1", "node-1"),
                        "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"},
                    }
                ],
            },
            (0, 2, 1),
            id="Two nodes with pods, MaxUnavailable in percents, pod terminating",
        ),
    ],
)
def test_get_unavailable_numbers(
    nodes: int, strategy: dict[str, Any], mapping: dict[str, Any], want: tuple[int, int, int]
) -> None:
    # TestGetUnavailableNumbers (upstream's updatedDesiredNodeCounts)
    ds = new_daemonset("x", strategy=strategy)
    node_list: list[dict[str, Any]] = []
    add_nodes(node_list, 0, nodes)
    max_surge, max_unavailable, desired, empty = get_unavailable_numbers(ds, node_list, mapping)
    assert (max_surge, max_unavailable, empty) == want
    assert desired == nodes


@pytest.mark.parametrize(
    ("strategy", "want"),
    [
        pytest.param(surge(1), True, id="int surge"),
        pytest.param(surge("1%"), True, id="any non-zero percent"),
        pytest.param(surge(0), False, id="zero surge"),
        pytest.param(rolling_update(1), False, id="no surge set"),
        pytest.param({"type": "OnDelete", "rollingUpdate": {"maxSurge": 1}}, False, id="OnDelete"),
        pytest.param(surge("x%"), False, id="invalid percent"),
    ],
)
def test_allows_surge(strategy: dict[str, Any], want: bool) -> None:
    # util.AllowsSurge
    assert allows_surge(new_daemonset("x", strategy=strategy)) is want


def test_invalid_max_unavailable_is_a_sync_error() -> None:
    ds = new_daemonset("x", strategy=rolling_update("abc%"))
    with pytest.raises(
        RollingUpdateError, match=r"^couldn't get unavailable numbers: invalid value for MaxUnavailable"
    ):
        rolling_update_decisions(ds, [new_node("node-0")], {}, "h", now=at(0))


def test_surge_old_pod_on_vanished_node_is_a_sync_error() -> None:
    # rollingUpdate (surge): nodeLister.Get fails for a node that no longer exists.
    ds = new_daemonset("x", strategy=surge(1))
    old = new_pod("node-9-", "node-9", SIMPLE_DS_LABEL)
    with pytest.raises(RollingUpdateError, match='couldn\'t get node for nodeName "node-9"'):
        rolling_update_decisions(ds, [new_node("node-0")], {"node-9": [old]}, "h", now=at(0))
