"""The sync-cost shortcuts of the DaemonSet controller decide exactly what the plain code decides.

* :class:`MemoPlacement` answers as :class:`Placement` and re-evaluates a node only when its
  ``resourceVersion`` changed; :func:`placement_key` names what a placement depends on;
* ``manage_decisions`` (with its no-pod and single-settled-pod fast paths) equals the per-node
  ``podsShouldBeOnNode`` plans of upstream ``manage``, over a table of node/pod states crossed with
  both update strategies (the states of upstream ``TestDaemonKillFailedPods``,
  ``TestNodeShouldRunDaemonPod`` taints and ``TestSurgeDeletesOldReadyWithUnhealthyNewPod``);
* the DaemonSet handler ignores the update event of the controller's own status write only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from daemonset_builders import (
    NO_EXECUTE_TAINTS,
    NO_SCHEDULE_TAINTS,
    SIMPLE_DS_LABEL,
    SIMPLE_NODE_LABEL,
    ds_hash,
    new_daemonset,
    new_node,
    new_pod,
    on_delete,
    set_ready,
    surge,
)

from kubeds.controllers.daemonset.decisions import ManagePlan, manage_decisions, pods_should_be_on_node
from kubeds.controllers.daemonset.handlers import DaemonSetEventHandlers, PlacementCache
from kubeds.controllers.daemonset.placement import MemoPlacement, Placement, placement_key
from kubeds.controllers.daemonset.pods import nodes_to_daemon_pods
from kubeds.machinery.cache import NAMESPACE_INDEX, Indexer, index_by_namespace
from kubeds.machinery.expectations import ControllerExpectations

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def selective_ds() -> dict[str, Any]:
    ds: dict[str, Any] = new_daemonset()
    ds["spec"]["template"]["spec"]["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    return ds


def test_memo_placement_matches_placement_and_remembers_by_resource_version() -> None:
    ds = selective_ds()
    memo, plain = MemoPlacement(ds), Placement(ds)
    node = new_node("n1", SIMPLE_NODE_LABEL)
    node["metadata"]["resourceVersion"] = "5"
    assert memo.should_run(node) == plain.should_run(node) == (True, True)
    # Same resourceVersion: the remembered answer, even for an object that was edited in place.
    node["metadata"]["labels"] = {}
    assert memo.should_run(node) == (True, True)
    # A new resourceVersion is evaluated again.
    node["metadata"]["resourceVersion"] = "6"
    assert memo.should_run(node) == plain.should_run(node) == (False, False)
    # Taints, per upstream TestNodeShouldRunDaemonPod: NoSchedule keeps, NoExecute evicts.
    node["metadata"]["labels"] = dict(SIMPLE_NODE_LABEL)
    node["spec"]["taints"] = NO_SCHEDULE_TAINTS
    node["metadata"]["resourceVersion"] = "7"
    assert memo.should_run(node) == (False, True)
    node["spec"]["taints"] = NO_EXECUTE_TAINTS
    node["metadata"]["resourceVersion"] = "8"
    assert memo.should_run(node) == (False, False)


def test_memo_placement_never_remembers_a_node_without_resource_version() -> None:
    memo = MemoPlacement(selective_ds())
    node = new_node("n1", SIMPLE_NODE_LABEL)
    assert memo.should_run(node) == (True, True)
    node["metadata"]["labels"] = {}
    assert memo.should_run(node) == (False, False)


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"uid": "u", "namespace": "ns", "generation": 3, "resourceVersion": "9"}, ("u", "ns", "g3")),
        ({"uid": "u", "namespace": "ns", "resourceVersion": "9"}, ("u", "ns", "rv9")),
        ({"uid": "u", "namespace": "ns"}, None),
    ],
)
def test_placement_key(meta: dict[str, Any], expected: tuple[str, str, str] | None) -> None:
    assert placement_key({"metadata": meta}) == expected


def _pod_states(ds: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Pods per scenario name; each list goes on one node."""
    labels = dict(SIMPLE_DS_LABEL)

    def pod(phase: str = "Running", *, ready: bool = True, deleted: bool = False, old: bool = False) -> Any:
        p = new_pod("p-", "", labels, ds)
        if old:
            p["metadata"]["labels"]["controller-revision-hash"] = "old"
        p["status"]["phase"] = phase
        set_ready(p, ready, since=NOW - dt.timedelta(seconds=60))
        if deleted:
            p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        return p

    return {
        "none": [],
        "one running": [pod()],
        "one pending": [pod("Pending", ready=False)],
        "one failed": [pod("Failed", ready=False)],
        "one succeeded": [pod("Succeeded", ready=False)],
        "one deleted": [pod(deleted=True)],
        "two running": [pod(), pod()],
        "old and new": [pod(old=True), pod(ready=False)],
        "old ready and new ready": [pod(old=True), pod()],
        "running and deleted": [pod(), pod(deleted=True)],
    }


def _node(name: str, kind: str) -> dict[str, Any]:
    node: dict[str, Any] = new_node(name, SIMPLE_NODE_LABEL if kind != "unlabelled" else {})
    node["metadata"]["resourceVersion"] = "1"
    if kind == "no-schedule":
        node["spec"]["taints"] = NO_SCHEDULE_TAINTS
    elif kind == "no-execute":
        node["spec"]["taints"] = NO_EXECUTE_TAINTS
    return node


@pytest.mark.parametrize("strategy", [on_delete(), surge(1)], ids=["no-surge", "surge"])
@pytest.mark.parametrize("backoff", [False, True], ids=["no-backoff", "backoff"])
def test_manage_decisions_equal_per_node_plans(strategy: dict[str, Any], backoff: bool) -> None:
    ds = selective_ds()
    ds["spec"]["updateStrategy"] = strategy
    hash_ = ds_hash(ds)
    nodes: list[dict[str, Any]] = []
    pods: list[dict[str, Any]] = []
    for kind in ("fits", "unlabelled", "no-schedule", "no-execute"):
        for scenario, scenario_pods in _pod_states(ds).items():
            node = _node(f"{kind}-{scenario}".replace(" ", "-"), kind)
            nodes.append(node)
            for p in scenario_pods:
                p["spec"]["nodeName"] = node["metadata"]["name"]
                pods.append(p)
    by_node = nodes_to_daemon_pods(pods)
    expected = ManagePlan()
    for node in nodes:
        expected.extend(
            pods_should_be_on_node(
                node,
                ds,
                by_node.get(node["metadata"]["name"]),
                hash_=hash_,
                now=NOW,
                backoff_active=lambda _: backoff,
            )
        )
    for placement in (None, MemoPlacement(ds)):
        got = manage_decisions(
            ds, nodes, by_node, hash_=hash_, now=NOW, backoff_active=lambda _: backoff, placement=placement
        )
        assert got == expected
    # The table exercises every kind of outcome, so the equality above is not vacuous.
    assert expected.nodes_needing_pods and expected.pods_to_delete and expected.events
    assert expected.backoff_skipped if backoff else expected.backoff_advanced


def _handlers(own: set[str]) -> tuple[DaemonSetEventHandlers, list[str]]:
    queued: list[str] = []
    handlers = DaemonSetEventHandlers(
        daemonsets=Indexer({NAMESPACE_INDEX: index_by_namespace}),
        expectations=ControllerExpectations(),
        enqueue=queued.append,
        enqueue_after=lambda _k, _s: None,
        placements=PlacementCache(),
        own_write=lambda ds: ds["metadata"].get("resourceVersion") in own,
    )
    return handlers, queued


def test_update_daemonset_skips_only_the_controllers_own_status_write() -> None:
    ds = new_daemonset()
    ds["metadata"]["resourceVersion"] = "10"
    handlers, queued = _handlers({"11"})
    own = {**ds, "metadata": {**ds["metadata"], "resourceVersion": "11"}}
    other = {**ds, "metadata": {**ds["metadata"], "resourceVersion": "12"}}
    handlers.update_daemonset(ds, own)
    assert queued == []
    handlers.update_daemonset(own, other)
    assert queued == ["default/foo"]
    # A recreated DaemonSet (new UID) is always handled, whatever its resourceVersion.
    queued.clear()
    recreated = {**own, "metadata": {**own["metadata"], "uid": "another"}}
    handlers.update_daemonset(ds, recreated)
    assert queued == ["default/foo", "default/foo"]
