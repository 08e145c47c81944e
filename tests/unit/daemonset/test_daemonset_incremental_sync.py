"""The running controller keeps one node view per DaemonSet and refreshes only what changed.

Through the in-process API server (no scheduler, no kubelet): after a rollout, a pod event makes the
next sync summarise that pod's node only, with no rebuild; a node relabelled away makes the sync
look at that node only and delete its pod; with ``view_rebuild_interval_seconds=0`` every step
rebuilds the view (upstream's full re-list) and the outcome is the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from daemonset_controller_harness import Cluster, daemonset, is_ready, new_cluster

from kubeds.controllers.daemonset.controller import DaemonSetControllerConfig
from kubeds.controllers.daemonset.dsview import DaemonSetView
from kubeds.controllers.daemonset.podtemplate import get_target_node_name

NODES = 12
SELECTOR = {"pool": "a"}


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    cl, backend = await new_cluster()
    yield cl
    await cl.stop()
    await cl.server.close()
    await backend.close()


@pytest.fixture
def refreshed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The node names every view refresh summarises, in order."""
    names: list[str] = []
    original = DaemonSetView.refresh_node

    def spy(self: DaemonSetView, name: str, node: Any, *, now: Any) -> None:
        names.append(name)
        original(self, name, node, now=now)

    monkeypatch.setattr(DaemonSetView, "refresh_node", spy)
    return names


async def _rolled_out(cluster: Cluster, config: DaemonSetControllerConfig | None = None) -> None:
    await cluster.add_nodes(NODES, labels=SELECTOR)
    await cluster.start(config)
    await cluster.daemonsets.create(daemonset(node_selector=SELECTOR))
    await cluster.settle()
    await cluster.mark_all_ready()
    await cluster.settle()
    ds = await cluster.daemonsets.get("foo", namespace="default")
    assert ds["status"]["numberReady"] == NODES


async def test_a_pod_event_refreshes_only_its_node(cluster: Cluster, refreshed: list[str]) -> None:
    await _rolled_out(cluster)
    assert cluster.controller is not None
    views = cluster.controller.views
    assert views.rebuilds == 1  # the first sync only
    pod = next(p for p in await cluster.list_pods() if is_ready(p))
    refreshed.clear()
    await cluster.mark_ready(pod, ready=False)
    await cluster.settle()
    assert set(refreshed) == {get_target_node_name(pod)}
    assert views.rebuilds == 1
    ds = await cluster.daemonsets.get("foo", namespace="default")
    assert ds["status"]["numberReady"] == NODES - 1
    assert ds["status"]["desiredNumberScheduled"] == NODES


async def test_a_node_relabelled_away_loses_its_pod_without_a_rebuild(
    cluster: Cluster, refreshed: list[str]
) -> None:
    await _rolled_out(cluster)
    assert cluster.controller is not None
    refreshed.clear()
    node = await cluster.nodes.get("node-3")
    node["metadata"]["labels"] = {"pool": "b"}
    await cluster.nodes.update(node)
    await cluster.settle()
    assert set(refreshed) == {"node-3"}
    assert cluster.controller.views.rebuilds == 1
    assert "node-3" not in await cluster.pods_by_node()
    ds = await cluster.daemonsets.get("foo", namespace="default")
    assert ds["status"]["desiredNumberScheduled"] == NODES - 1


async def test_rebuilding_at_every_step_gives_the_same_rollout(cluster: Cluster) -> None:
    await _rolled_out(cluster, DaemonSetControllerConfig(view_rebuild_interval_seconds=0))
    assert cluster.controller is not None
    assert cluster.controller.views.rebuilds > 2
    by_node = await cluster.pods_by_node()
    assert sorted(by_node) == sorted(f"node-{i}" for i in range(NODES))
    assert all(len(pods) == 1 for pods in by_node.values())
