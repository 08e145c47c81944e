"""The incremental node view decides exactly what the whole-cluster functions decide.

Random sequences of node and pod events (adds, label and taint changes, deletes, readiness, phase,
deletion, hash and ownership changes, orphans, pods pinned to missing nodes) and clock steps are fed
to :class:`DaemonSetViews` as the informers would feed it, with a sync (``views.get``) every few
events. After every sync the incrementally maintained view must equal a view rebuilt from scratch
(summaries, counters, tagged node sets), and its decisions must equal those of the plain functions
over every node and pod (``compute_status``, ``manage_decisions``, ``rolling_update_decisions``,
``surge_wait_seconds``), for every update strategy, with and without ``minReadySeconds``.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Mapping, Sequence
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
    rolling_update,
    set_ready,
    surge,
)

from kubeds.clock import format_time
from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.decisions import ManagePlan, manage_decisions
from kubeds.controllers.daemonset.dsview import DaemonSetView
from kubeds.controllers.daemonset.pods import claimed, nodes_to_daemon_pods
from kubeds.controllers.daemonset.podtemplate import new_pod as controller_new_pod
from kubeds.controllers.daemonset.rolling import (
    RollingUpdateError,
    rolling_update_decisions,
    surge_wait_seconds,
)
from kubeds.controllers.daemonset.status import compute_status
from kubeds.controllers.daemonset.viewdecisions import (
    view_manage_plan,
    view_rolling_update,
    view_status,
    view_surge_wait,
)
from kubeds.controllers.daemonset.views import DaemonSetViews
from kubeds.machinery.cache import NAMESPACE_INDEX, Indexer, index_by_namespace, meta_namespace_key

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OLD_HASH = "oldhash"
STRATEGIES = [
    on_delete(),
    rolling_update(1),
    rolling_update("30%"),
    rolling_update(0),
    surge(1),
    surge("50%"),
]


async def _claim(ds: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> tuple[list[Any], list[Any]]:
    return list(claimed(ds, pods)), []


class RandomCluster:
    """Informer caches driven by random events, notifying the views as the informers would."""

    def __init__(self, rng: random.Random, ds: dict[str, Any]) -> None:
        self.rng = rng
        self.ds = ds
        self.hash = ds_hash(ds)
        self.pods = Indexer({NAMESPACE_INDEX: index_by_namespace})
        self.nodes = Indexer()
        self.views = DaemonSetViews(pods=self.pods, nodes=self.nodes, rebuild_interval=1e9)
        self.now = T0
        self.serial = 0

    # -- objects --------------------------------------------------------------------------------

    def _node_obj(self, name: str) -> dict[str, Any]:
        rng = self.rng
        node: dict[str, Any] = new_node(name, SIMPLE_NODE_LABEL if rng.random() < 0.8 else {})
        roll = rng.random()
        if roll < 0.1:
            node["spec"]["taints"] = copy.deepcopy(NO_SCHEDULE_TAINTS)
        elif roll < 0.2:
            node["spec"]["taints"] = copy.deepcopy(NO_EXECUTE_TAINTS)
        self.serial += 1
        node["metadata"]["resourceVersion"] = str(self.serial)
        return node

    def _node_name(self) -> str:
        return f"node-{self.rng.randrange(12)}"

    def _pod_obj(self, old: dict[str, Any] | None = None) -> dict[str, Any]:
        rng = self.rng
        if old is None:
            node = self._node_name()
            if rng.random() < 0.5:
                pod: dict[str, Any] = new_pod("p-", node, dict(SIMPLE_DS_LABEL), self.ds)
            else:
                pod = controller_new_pod(self.ds, node, self.hash)
                pod["metadata"]["name"] = f"q-{self.serial:05d}"
                pod["status"] = {}
            pod["metadata"]["creationTimestamp"] = format_time(T0 + dt.timedelta(seconds=rng.randrange(3)))
            if rng.random() < 0.5:
                self._make_old(pod)
            if rng.random() < 0.5:
                set_ready(pod, since=self.now - dt.timedelta(seconds=rng.randrange(8)))
        else:
            pod = copy.deepcopy(old)
        meta, labels = pod["metadata"], pod["metadata"]["labels"]
        roll = rng.random()
        if roll < 0.3:
            set_ready(pod, rng.random() < 0.7, since=self.now - dt.timedelta(seconds=rng.randrange(8)))
        elif roll < 0.4:
            pod["status"]["phase"] = rng.choice(["Running", "Pending", "Failed", "Succeeded"])
        elif roll < 0.47:
            meta["deletionTimestamp"] = format_time(self.now)
        elif roll < 0.57:
            if rng.random() < 0.5:
                self._make_old(pod)
            else:
                labels[c.CONTROLLER_REVISION_HASH_LABEL] = self.hash
        elif roll < 0.6:
            meta.pop("ownerReferences", None)  # an orphan (adopted again when selected)
        elif roll < 0.63:
            labels["name"] = "someone-else"  # no longer selected (released)
        elif roll < 0.65:
            meta["ownerReferences"] = [
                {"kind": "DaemonSet", "name": "foo", "uid": "other", "controller": True}
            ]
        elif roll < 0.68:
            labels[c.POD_TEMPLATE_GENERATION_LABEL] = rng.choice(["1", "2"])
        self.serial += 1
        meta["resourceVersion"] = str(self.serial)
        return pod

    @staticmethod
    def _make_old(pod: dict[str, Any]) -> None:
        labels = pod["metadata"]["labels"]
        labels[c.CONTROLLER_REVISION_HASH_LABEL] = OLD_HASH
        if c.POD_TEMPLATE_GENERATION_LABEL in labels:
            labels[c.POD_TEMPLATE_GENERATION_LABEL] = "1"

    # -- events ---------------------------------------------------------------------------------

    def step(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            node = self._node_obj(self._node_name())
            old_node = self.nodes.get(node)
            self.nodes.update(node)
            if old_node is None:
                self.views.node_added_or_deleted(node)
            else:
                self.views.node_updated(old_node, node)
        elif roll < 0.2:
            doomed = self.nodes.get_by_key(self._node_name())
            if doomed is not None:
                self.nodes.delete(doomed)
                self.views.node_added_or_deleted(doomed)
        elif roll < 0.45:
            pod = self._pod_obj()
            self.pods.add(pod)
            self.views.pod_changed(pod)
        elif roll < 0.85:
            pods = self.pods.list()
            if pods:
                old = rng.choice(pods)
                cur = self._pod_obj(old)
                self.pods.update(cur)
                self.views.pod_changed(old, cur)
        elif roll < 0.93:
            pods = self.pods.list()
            if pods:
                gone = rng.choice(pods)
                self.pods.delete(gone)
                self.views.pod_changed(gone)
        else:
            self.now += dt.timedelta(seconds=rng.randrange(1, 4))


def _comparable(view: DaemonSetView) -> dict[str, Any]:
    return {
        "pods": {k: id(p) for k, p in view.pods.items()},
        "untargeted": {k: id(p) for k, p in view.untargeted.items()},
        "hashes": view.hash_counts,
        "summaries": view.summaries,
        "states": view.states,
        "totals": view.totals,
        "tags": {tag: list(names) for tag, names in view.tags.items()},
    }


def _plan_key(plan: ManagePlan) -> tuple[Any, ...]:
    return (
        plan.nodes_needing_pods,
        sorted(plan.pods_to_delete),
        sorted((e.type, e.reason, e.message) for e in plan.events),
        sorted(plan.backoff_advanced),
        sorted(plan.backoff_skipped),
    )


def _rolling(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except RollingUpdateError as err:
        return ("error", str(err))


@pytest.mark.parametrize("seed", range(60))
async def test_incremental_view_equals_rebuild_and_whole_cluster_decisions(seed: int) -> None:
    rng = random.Random(seed)
    ds = new_daemonset()
    ds["spec"]["updateStrategy"] = STRATEGIES[seed % len(STRATEGIES)]
    ds["spec"]["minReadySeconds"] = rng.choice([0, 5])
    ds["metadata"]["annotations"] = {c.DEPRECATED_TEMPLATE_GENERATION_ANNOTATION: "2"}
    if rng.random() < 0.5:
        ds["spec"]["template"]["spec"]["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    cluster = RandomCluster(rng, ds)
    views = cluster.views
    hash_ = cluster.hash
    backoff = {f"{ds['metadata']['uid']}/0/node-{i}" for i in range(0, 12, 3)}
    exercised: set[str] = set()
    for _ in range(40):
        for _ in range(rng.randrange(1, 8)):
            cluster.step()
        view = await views.get(ds, hash_, claim=_claim, now=cluster.now, monotonic=0.0)
        assert views.rebuilds == 1
        fresh = DaemonSetViews(pods=cluster.pods, nodes=cluster.nodes)
        rebuilt = await fresh.get(ds, hash_, claim=_claim, now=cluster.now, monotonic=0.0)
        assert _comparable(view) == _comparable(rebuilt)

        nodes = sorted(cluster.nodes.list(), key=lambda n: n["metadata"]["name"])
        by_node = nodes_to_daemon_pods(claimed(ds, cluster.pods.list()))
        now = cluster.now
        assert view_status(ds, view) == compute_status(ds, nodes, by_node, hash_, now=now)
        expected_plan = manage_decisions(
            ds, nodes, by_node, hash_=hash_, now=now, backoff_active=lambda k: k in backoff
        )
        got_plan = view_manage_plan(
            ds,
            view,
            node=cluster.nodes.get_by_key,
            hash_=hash_,
            now=now,
            backoff_active=lambda k: k in backoff,
        )
        assert _plan_key(got_plan) == _plan_key(expected_plan)
        expected_rolling = _rolling(rolling_update_decisions, ds, nodes, by_node, hash_, now=now)
        assert _rolling(view_rolling_update, ds, view) == expected_rolling
        assert view_surge_wait(ds, view, now=now) == surge_wait_seconds(ds, by_node, hash_, now=now)
        if expected_plan.nodes_needing_pods:
            exercised.add("create")
        if expected_plan.pods_to_delete:
            exercised.add("delete")
        if isinstance(expected_rolling, tuple) and len(expected_rolling) == 2 and any(expected_rolling):
            exercised.add("rolling")
    # Not vacuous: each run creates and deletes; rolling strategies replace old pods.
    assert {"create", "delete"} <= exercised
    if ds["spec"]["updateStrategy"]["type"] == c.ROLLING_UPDATE:
        assert "rolling" in exercised


async def test_views_forget_and_rebuild_on_a_new_hash() -> None:
    ds = new_daemonset(strategy=rolling_update(1))
    pods, nodes = Indexer({NAMESPACE_INDEX: index_by_namespace}), Indexer()
    views = DaemonSetViews(pods=pods, nodes=nodes, rebuild_interval=60)
    node = new_node("node-0", {})
    nodes.add(node)
    pod = new_pod("p-", "node-0", dict(SIMPLE_DS_LABEL), ds)
    pods.add(pod)
    first = await views.get(ds, ds_hash(ds), claim=_claim, now=T0, monotonic=0.0)
    assert views.rebuilds == 1 and first.totals[0] == 1 and first.totals[1] == 1
    # Same key: refreshed in place; a new hash, or the safety interval, rebuilds.
    assert await views.get(ds, ds_hash(ds), claim=_claim, now=T0, monotonic=1.0) is first
    second = await views.get(ds, "another", claim=_claim, now=T0, monotonic=2.0)
    assert second is not first and views.rebuilds == 2
    assert second.totals[4] == 0  # updatedNumberScheduled: the pod carries the old hash now
    await views.get(ds, "another", claim=_claim, now=T0, monotonic=62.0)
    assert views.rebuilds == 3
    views.forget(meta_namespace_key(ds))
    assert views.peek(meta_namespace_key(ds)) is None
