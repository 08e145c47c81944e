"""Rolling updates, OnDelete, rollback and history pruning through the controller loop.

Ported from upstream ``update_test.go`` (TestDaemonSetUpdatesPods, TestDaemonSetUpdatesPodsWithMaxSurge,
TestDaemonSetUpdatesNoTemplateChanged) and the e2e tests of ``test/e2e/apps/daemon_set.go`` (rolling
update, rollback without unnecessary restarts, OnDelete), with the budget checked from a watch of the
pods, event by event, rather than by sampling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from daemonset_controller_harness import NS, Cluster, daemonset, hash_of, is_ready, new_cluster

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.podtemplate import get_target_node_name


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    cl, backend = await new_cluster()
    yield cl
    await cl.stop()
    await cl.server.close()
    await backend.close()


def rolling(max_unavailable: int | str = 1, max_surge: int | str = 0) -> dict[str, Any]:
    return {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": max_surge},
    }


async def set_image(cluster: Cluster, image: str) -> None:
    await cluster.daemonsets.patch(
        "foo",
        {"spec": {"template": {"spec": {"containers": [{"name": "foo", "image": image}]}}}},
        namespace=NS,
        patch_type="strategic",
    )


async def current_hash(cluster: Cluster) -> str:
    revisions = (await cluster.revisions.list(namespace=NS))["items"]
    top = max(revisions, key=lambda r: r["revision"])
    return str(top["metadata"]["labels"][c.CONTROLLER_REVISION_HASH_LABEL])


class PodWatch:
    """Replays a watch of the namespace's pods into a state, checking a predicate after every event."""

    def __init__(self, cluster: Cluster, resource_version: str) -> None:
        self.cluster = cluster
        self.state: dict[str, dict[str, Any]] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.rv = resource_version
        self.task: asyncio.Task[None] | None = None

    async def seed(self) -> None:
        listed = await self.cluster.pods.list(namespace=NS)
        self.state = {p["metadata"]["name"]: p for p in listed["items"]}
        self.rv = listed["metadata"]["resourceVersion"]
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async with contextlib.aclosing(
            self.cluster.pods.watch(namespace=NS, resource_version=self.rv)
        ) as stream:
            async for event in stream:
                if event["type"] == "BOOKMARK":
                    continue
                self.events.append((event["type"], event["object"]))

    async def close(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    def replay(self) -> list[dict[str, dict[str, Any]]]:
        """The pod set after each event."""
        state = dict(self.state)
        snapshots = []
        for kind, pod in self.events:
            if kind == "DELETED":
                state.pop(pod["metadata"]["name"], None)
            else:
                state[pod["metadata"]["name"]] = pod
            snapshots.append(dict(state))
        return snapshots


def unavailable(state: dict[str, dict[str, Any]], nodes: list[str]) -> int:
    ready_nodes = {
        get_target_node_name(p)
        for p in state.values()
        if is_ready(p) and not p["metadata"].get("deletionTimestamp")
    }
    return sum(1 for n in nodes if n not in ready_nodes)


async def drive_rollout(cluster: Cluster, *, want_hash: str, nodes: int, rounds: int = 40) -> None:
    """Make every new pod Ready until each node runs exactly one Ready pod of ``want_hash``."""
    for _ in range(rounds):
        await cluster.settle()
        pods = await cluster.list_pods()
        if len(pods) == nodes and all(hash_of(p) == want_hash and is_ready(p) for p in pods):
            return
        await cluster.mark_all_ready()
    raise AssertionError("rollout did not finish")


async def test_rolling_update_never_exceeds_max_unavailable(cluster: Cluster) -> None:
    await cluster.add_nodes(5)
    await cluster.daemonsets.create(daemonset(strategy=rolling(1)))
    await cluster.start()
    await cluster.settle()
    await cluster.mark_all_ready()
    await cluster.settle()
    old_hash = await current_hash(cluster)
    watch = PodWatch(cluster, "")
    await watch.seed()

    await set_image(cluster, "foo/bar:v2")
    await cluster.settle()
    new_hash = await current_hash(cluster)
    assert new_hash != old_hash
    await drive_rollout(cluster, want_hash=new_hash, nodes=5)
    await cluster.settle()
    await watch.close()

    node_names = [f"node-{i}" for i in range(5)]
    worst = max(unavailable(s, node_names) for s in watch.replay())
    assert worst == 1  # the budget is used, and never exceeded
    deletes = [p for kind, p in watch.events if kind == "DELETED"]
    assert len(deletes) == 5 and all(hash_of(p) == old_hash for p in deletes)
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert status["updatedNumberScheduled"] == 5 and status["numberAvailable"] == 5
    assert status["observedGeneration"] == 2


async def test_rolling_update_percent_budget_replaces_two_at_a_time(cluster: Cluster) -> None:
    # maxUnavailable "40%" of 5 nodes rounds up to 2 (upstream GetScaledValueFromIntOrPercent).
    await cluster.add_nodes(5)
    await cluster.daemonsets.create(daemonset(strategy=rolling("40%")))
    await cluster.start()
    await cluster.settle()
    await cluster.mark_all_ready()
    await cluster.settle()
    await set_image(cluster, "foo/bar:v2")
    await cluster.settle()
    new_hash = await current_hash(cluster)
    pods = await cluster.list_pods()
    assert sum(1 for p in pods if hash_of(p) == new_hash) == 2
    assert sum(1 for p in pods if hash_of(p) != new_hash) == 3
    await drive_rollout(cluster, want_hash=new_hash, nodes=5)


async def test_max_surge_creates_the_new_pod_before_deleting_the_old(cluster: Cluster) -> None:
    await cluster.add_nodes(3)
    await cluster.daemonsets.create(daemonset(strategy=rolling(0, 1)))
    await cluster.start()
    await cluster.settle()
    await cluster.mark_all_ready()
    await cluster.settle()
    watch = PodWatch(cluster, "")
    await watch.seed()
    await set_image(cluster, "foo/bar:v2")
    await cluster.settle()
    new_hash = await current_hash(cluster)
    # One surge pod, nothing deleted yet.
    pods = await cluster.list_pods()
    assert len(pods) == 4 and sum(1 for p in pods if hash_of(p) == new_hash) == 1
    await drive_rollout(cluster, want_hash=new_hash, nodes=3)
    await watch.close()

    node_names = [f"node-{i}" for i in range(3)]
    states = watch.replay()
    assert max(unavailable(s, node_names) for s in states) == 0  # full availability throughout
    assert max(len(s) for s in states) == 4  # never more than one surge pod
    for (kind, pod), state in zip(watch.events, states, strict=True):
        if kind == "DELETED":
            node = get_target_node_name(pod)
            assert any(
                get_target_node_name(p) == node and hash_of(p) == new_hash and is_ready(p)
                for p in state.values()
            )


async def test_on_delete_waits_for_the_user_to_delete_pods(cluster: Cluster) -> None:
    await cluster.add_nodes(3)
    await cluster.daemonsets.create(daemonset(strategy={"type": "OnDelete"}))
    await cluster.start()
    await cluster.settle()
    old_hash = await current_hash(cluster)
    await set_image(cluster, "foo/bar:v2")
    await cluster.settle()
    new_hash = await current_hash(cluster)
    pods = await cluster.list_pods()
    assert len(pods) == 3 and all(hash_of(p) == old_hash for p in pods)
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert (status["updatedNumberScheduled"], status["observedGeneration"]) == (0, 2)

    (victim,) = (await cluster.pods_by_node())["node-1"]
    await cluster.pods.delete(victim["metadata"]["name"], namespace=NS)
    await cluster.settle()
    (replacement,) = (await cluster.pods_by_node())["node-1"]
    assert hash_of(replacement) == new_hash
    assert replacement["metadata"]["labels"][c.POD_TEMPLATE_GENERATION_LABEL] == "2"
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert status["updatedNumberScheduled"] == 1


async def test_change_outside_the_template_creates_no_revision_and_no_churn(cluster: Cluster) -> None:
    # upstream TestDaemonSetUpdatesNoTemplateChanged: OnDelete -> RollingUpdate, same template.
    await cluster.add_nodes(2)
    await cluster.daemonsets.create(daemonset(strategy={"type": "OnDelete"}))
    await cluster.start()
    await cluster.settle()
    before = {p["metadata"]["name"] for p in await cluster.list_pods()}
    await cluster.daemonsets.patch("foo", {"spec": {"updateStrategy": rolling(1)}}, namespace=NS)
    await cluster.settle()
    assert {p["metadata"]["name"] for p in await cluster.list_pods()} == before
    assert len((await cluster.revisions.list(namespace=NS))["items"]) == 1


async def test_rollback_reuses_the_old_revision_and_keeps_its_pods(cluster: Cluster) -> None:
    await cluster.add_nodes(3)
    await cluster.daemonsets.create(daemonset(strategy=rolling(1)))
    await cluster.start()
    await cluster.settle()
    await cluster.mark_all_ready()
    await cluster.settle()
    v1_hash = await current_hash(cluster)
    v1_revision = next(r for r in (await cluster.revisions.list(namespace=NS))["items"])

    # A broken rollout: the new pod never becomes Ready, so only one node moves.
    await set_image(cluster, "foo/bar:non-existent")
    await cluster.settle()
    v2_hash = await current_hash(cluster)
    pods = await cluster.list_pods()
    assert sorted(hash_of(p) for p in pods) == sorted([v1_hash, v1_hash, v2_hash])
    survivors = {p["metadata"]["name"] for p in pods if hash_of(p) == v1_hash}

    # kubectl rollout undo: the DaemonSet gets the old template back.
    await set_image(cluster, "foo/bar:v1")
    await cluster.settle()
    revisions = (await cluster.revisions.list(namespace=NS))["items"]
    assert len(revisions) == 2
    reused = next(r for r in revisions if r["metadata"]["name"] == v1_revision["metadata"]["name"])
    assert reused["revision"] == 3
    assert await current_hash(cluster) == v1_hash
    await drive_rollout(cluster, want_hash=v1_hash, nodes=3)
    after = {p["metadata"]["name"] for p in await cluster.list_pods()}
    assert survivors <= after  # pods already on the target revision were not restarted


async def test_revision_history_limit_prunes_oldest_unused_revisions(cluster: Cluster) -> None:
    await cluster.add_nodes(2)
    await cluster.daemonsets.create(daemonset(strategy=rolling(1), revision_history_limit=1))
    await cluster.start()
    await cluster.settle()
    await cluster.mark_all_ready()
    for version in ("v2", "v3", "v4"):
        await set_image(cluster, f"foo/bar:{version}")
        await cluster.settle()
        await drive_rollout(cluster, want_hash=await current_hash(cluster), nodes=2)
    await cluster.settle()
    revisions = sorted(r["revision"] for r in (await cluster.revisions.list(namespace=NS))["items"])
    assert revisions == [3, 4]


async def test_history_pruning_never_removes_a_revision_a_live_pod_carries(cluster: Cluster) -> None:
    await cluster.add_nodes(2)
    await cluster.daemonsets.create(daemonset(strategy={"type": "OnDelete"}, revision_history_limit=0))
    await cluster.start()
    await cluster.settle()
    v1_hash = await current_hash(cluster)
    await set_image(cluster, "foo/bar:v2")
    await cluster.settle()
    await set_image(cluster, "foo/bar:v3")
    await cluster.settle()
    hashes = {
        r["metadata"]["labels"][c.CONTROLLER_REVISION_HASH_LABEL]: r["revision"]
        for r in (await cluster.revisions.list(namespace=NS))["items"]
    }
    # v2 was never run by any pod: pruned; v1 is still running: kept beyond the limit of 0.
    assert hashes == {v1_hash: 1, await current_hash(cluster): 3}
