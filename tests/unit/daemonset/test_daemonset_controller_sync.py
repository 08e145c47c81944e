"""``sync`` edge cases: claiming, expectations, deletion races, status retries, slow start, collisions.

Ported from upstream ``daemon_controller_test.go``: TestDealsWithExistingPods/TestGetNodesToDaemonPods
(adoption and release), TestDontDoAnythingIfBeingDeletedRace, TestExpectationsOnRecreate,
TestStoreDaemonSetStatus, TestSimpleDaemonSetPodCreateErrors and TestDaemonSetPodCreateExpectationsError,
TestPodIsNotDeletedByDaemonsetWithEmptyLabelSelector; and the hash-collision handling the
ControllerRevision conformance test relies on (``update.go`` ``snapshot``).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from daemonset_controller_harness import (
    LABELS,
    NS,
    Cluster,
    daemonset,
    hash_of,
    new_cluster,
    status_response,
)

from kubeds import wire
from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.controller import DaemonSetController, DaemonSetControllerConfig
from kubeds.controllers.daemonset.history import compute_hash

KEY = "default/foo"


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    cl, backend = await new_cluster()
    yield cl
    await cl.stop()
    await cl.server.close()
    await backend.close()


def orphan(name: str, node_name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": dict(labels or LABELS)},
        "spec": {"nodeName": node_name, "containers": [{"name": "foo", "image": "foo/bar:v1"}]},
    }


async def synced_controller(
    cluster: Cluster, config: DaemonSetControllerConfig | None = None
) -> DaemonSetController:
    """A controller whose informers run but whose workers do not: the test calls ``sync``."""
    ctrl = cluster.make_controller(config)
    ctrl.factory.start()
    ctrl.recorder.start()
    await ctrl.factory.wait_for_cache_sync()
    return ctrl


async def stop_informers(ctrl: DaemonSetController) -> None:
    await ctrl.recorder.stop()
    await ctrl.factory.stop()


async def test_orphans_matching_the_selector_are_adopted_and_strays_released(cluster: Cluster) -> None:
    await cluster.add_nodes(3)
    await cluster.pods.create(orphan("adoptee", "node-0"))
    await cluster.pods.create(orphan("stranger", "node-1", {"app": "other"}))
    ds = await cluster.daemonsets.create(daemonset(strategy={"type": "OnDelete"}))
    await cluster.start()
    await cluster.settle()

    by_node = await cluster.pods_by_node()
    adoptee = next(p for p in by_node["node-0"])
    assert [p["metadata"]["name"] for p in by_node["node-0"]] == ["adoptee"]
    assert adoptee["metadata"]["ownerReferences"][0]["uid"] == ds["metadata"]["uid"]
    assert adoptee["metadata"]["ownerReferences"][0]["controller"] is True
    stranger = next(p for p in by_node["node-1"] if p["metadata"]["name"] == "stranger")
    assert not stranger["metadata"].get("ownerReferences")
    assert len(by_node["node-1"]) == 2  # the stranger does not count as the daemon pod

    # An owned pod whose labels stop matching is released, and its node gets a new daemon pod.
    (owned,) = by_node["node-2"]
    await cluster.pods.patch(
        owned["metadata"]["name"], {"metadata": {"labels": {"type": "test"}}}, namespace=NS
    )
    await cluster.settle()
    released = await cluster.pods.get(owned["metadata"]["name"], namespace=NS)
    assert not released["metadata"].get("ownerReferences")
    node2 = (await cluster.pods_by_node())["node-2"]
    assert len(node2) == 2
    assert any(
        p["metadata"].get("ownerReferences")
        for p in node2
        if p["metadata"]["name"] != owned["metadata"]["name"]
    )


async def test_expectations_gate_a_second_sync_before_the_creates_are_seen(cluster: Cluster) -> None:
    await cluster.add_nodes(4)
    await cluster.daemonsets.create(daemonset())
    ctrl = await synced_controller(cluster)
    try:
        ctrl.pod_informer.stop()  # the creates of the first sync will not be observed
        await asyncio.sleep(0)
        await ctrl.sync(KEY)
        assert len(await cluster.list_pods()) == 4
        exp = ctrl.expectations.get_expectations(KEY)
        assert exp is not None and exp.get_expectations() == (4, 0)
        assert not ctrl.expectations.satisfied_expectations(KEY)
        status_syncs: list[bool] = []
        real_update_status = ctrl._update_status

        async def spy(*args: Any, **kwargs: Any) -> None:
            status_syncs.append(kwargs["update_observed_generation"])
            await real_update_status(*args, **kwargs)

        ctrl._update_status = spy  # type: ignore[method-assign]
        await ctrl.sync(KEY)
        assert len(await cluster.list_pods()) == 4  # no duplicates from the stale cache
        assert status_syncs == [False]  # status only, observedGeneration kept
        # Status-only syncs are coalesced: the next one waits for the end of the interval.
        await ctrl.sync(KEY)
        assert status_syncs == [False] and ctrl.queue.waiting == 1
        cluster.clock.advance(0.1)
        await ctrl.sync(KEY)
        assert status_syncs == [False, False]
        # After the expectations time out (5 min), the controller trusts its cache again.
        cluster.clock.advance(301)
        assert ctrl.expectations.satisfied_expectations(KEY)
    finally:
        await stop_informers(ctrl)


async def test_expectations_are_dropped_when_the_daemonset_is_deleted_and_recreated(cluster: Cluster) -> None:
    # upstream TestExpectationsOnRecreate.
    await cluster.add_nodes(1)
    await cluster.daemonsets.create(daemonset())
    ctrl = await synced_controller(cluster)
    try:
        ctrl.pod_informer.stop()
        await ctrl.sync(KEY)
        assert not ctrl.expectations.satisfied_expectations(KEY)
        await cluster.daemonsets.delete("foo", namespace=NS)
        await cluster.eventually(lambda: _absent(ctrl))
        assert ctrl.expectations.get_expectations(KEY) is None
        for pod in await cluster.list_pods():
            await cluster.pods.delete(pod["metadata"]["name"], namespace=NS)
        recreated = await cluster.daemonsets.create(daemonset())
        await cluster.eventually(lambda: _cached_uid(ctrl, recreated["metadata"]["uid"]))
        await ctrl.sync(KEY)
        (pod,) = await cluster.list_pods()
        assert pod["metadata"]["ownerReferences"][0]["uid"] == recreated["metadata"]["uid"]
    finally:
        await stop_informers(ctrl)


async def _absent(ctrl: DaemonSetController) -> bool:
    return ctrl.ds_informer.indexer.get_by_key(KEY) is None


async def _cached_uid(ctrl: DaemonSetController, uid: str) -> bool:
    cached = ctrl.ds_informer.indexer.get_by_key(KEY)
    return cached is not None and cached["metadata"]["uid"] == uid


async def test_daemonset_deleted_mid_sync_gets_no_further_pods(cluster: Cluster) -> None:
    await cluster.add_nodes(20)
    await cluster.daemonsets.create(daemonset())
    ctrl = cluster.make_controller()
    seen: list[str] = []

    async def after(req: wire.Request, resp: wire.Response) -> None:
        if req.method == "POST" and req.path.endswith("/pods") and resp.status == 201 and not seen:
            seen.append(req.path)
            # The user deletes the DaemonSet while the first slow-start batch is in flight.
            await cluster.daemonsets.delete("foo", namespace=NS)
            await cluster.eventually(lambda: _absent(ctrl))

    cluster.transport.after = after
    await cluster.start()
    await cluster.settle()
    cluster.transport.after = None
    pods = await cluster.list_pods()
    assert len(pods) == 1
    # Its pods are the garbage collector's now: deleting one does not bring it back.
    await cluster.pods.delete(pods[0]["metadata"]["name"], namespace=NS)
    await cluster.settle()
    assert await cluster.list_pods() == []


async def test_daemonset_being_deleted_is_left_alone(cluster: Cluster) -> None:
    # upstream TestDontDoAnythingIfBeingDeleted: foreground deletion keeps it visible for a while.
    await cluster.add_nodes(2)
    body = daemonset()
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await cluster.daemonsets.create(body)
    await cluster.start()
    await cluster.settle()
    (victim, _) = await cluster.list_pods()
    await cluster.daemonsets.delete("foo", namespace=NS)
    await cluster.settle()
    await cluster.pods.delete(victim["metadata"]["name"], namespace=NS)
    await cluster.settle()
    assert len(await cluster.list_pods()) == 1


async def test_adoption_rechecks_a_daemonset_the_cache_thinks_alive(cluster: Cluster) -> None:
    # upstream TestDontDoAnythingIfBeingDeletedRace: cache says alive, the API says deleting.
    await cluster.add_nodes(2)
    body = daemonset()
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await cluster.daemonsets.create(body)
    ctrl = await synced_controller(cluster)
    try:
        ctrl.ds_informer.stop()
        await cluster.daemonsets.delete("foo", namespace=NS)
        await cluster.pods.create(orphan("orphan", "node-0"))
        await cluster.eventually(lambda: _has_pod(ctrl, "default/orphan"))
        with pytest.raises(RuntimeError, match="has just been deleted at"):
            await ctrl.sync(KEY)
        (pod,) = await cluster.list_pods()
        assert pod["metadata"]["name"] == "orphan" and not pod["metadata"].get("ownerReferences")
    finally:
        await stop_informers(ctrl)


async def _has_pod(ctrl: DaemonSetController, key: str) -> bool:
    return ctrl.pod_informer.indexer.get_by_key(key) is not None


def _status_puts(cluster: Cluster) -> int:
    return sum(
        1 for m, p in cluster.transport.requests if m == "PUT" and p.endswith("/daemonsets/foo/status")
    )


def _ds_gets(cluster: Cluster) -> int:
    return sum(1 for m, p in cluster.transport.requests if m == "GET" and p.endswith("/daemonsets/foo"))


@pytest.mark.parametrize(
    ("failures", "puts", "gets", "error"),
    [
        (0, 1, 0, None),  # update ok
        (1, 2, 1, None),  # one conflict: GET and retry once
        (2, 2, 1, "error storing status for daemon set default/foo"),  # the queue retries later
    ],
)
async def test_status_write_retries_once_after_a_fresh_get(
    cluster: Cluster, failures: int, puts: int, gets: int, error: str | None
) -> None:
    # upstream TestStoreDaemonSetStatus.
    await cluster.add_nodes(1)
    await cluster.daemonsets.create(daemonset())
    ctrl = await synced_controller(cluster)
    left = [failures]

    async def hook(req: wire.Request) -> wire.Response | None:
        if req.method == "PUT" and req.path.endswith("/daemonsets/foo/status") and left[0] > 0:
            left[0] -= 1
            return status_response(409, "Conflict", "the object has been modified")
        return None

    try:
        cluster.transport.requests.clear()
        cluster.transport.hook = hook
        if error is None:
            await ctrl.sync(KEY)
        else:
            with pytest.raises(RuntimeError, match=error):
                await ctrl.sync(KEY)
        assert (_status_puts(cluster), _ds_gets(cluster)) == (puts, gets)
    finally:
        cluster.transport.hook = None
        await stop_informers(ctrl)


async def test_create_errors_stop_slow_start_and_lower_expectations(cluster: Cluster) -> None:
    # upstream TestSimpleDaemonSetPodCreateErrors / TestDaemonSetPodCreateExpectationsError:
    # the pod control fails every create after the 10th.
    await cluster.add_nodes(100)
    await cluster.daemonsets.create(daemonset())
    ctrl = await synced_controller(cluster)
    created = [0]
    attempts = [0]

    async def hook(req: wire.Request) -> wire.Response | None:
        if req.method == "POST" and req.path.endswith("/namespaces/default/pods"):
            attempts[0] += 1
            if created[0] >= 10:
                return status_response(403, "Forbidden", "exceeded quota")
            created[0] += 1
        return None

    try:
        cluster.transport.hook = hook
        with pytest.raises(Exception, match="exceeded quota"):
            await ctrl.sync(KEY)
        # Batches 1, 2, 4, 8: the fourth had failures, the remaining 85 were never attempted.
        assert attempts[0] == 15
        assert len(await cluster.list_pods()) == 10
        await cluster.eventually(lambda: _satisfied(ctrl))
        failed = [e for e in await cluster.events(c.FAILED_CREATE_REASON)]
        assert sum(int(e["count"]) for e in failed) == 5
        assert failed[0]["message"] == "Error creating: exceeded quota"
        with pytest.raises(Exception, match="exceeded quota"):
            await ctrl.sync(KEY)
        status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
        assert (
            status["desiredNumberScheduled"],
            status["currentNumberScheduled"],
            status["updatedNumberScheduled"],
        ) == (
            100,
            10,
            10,
        )
    finally:
        cluster.transport.hook = None
        await stop_informers(ctrl)


async def _satisfied(ctrl: DaemonSetController) -> bool:
    return ctrl.expectations.satisfied_expectations(KEY)


async def test_burst_replicas_caps_creates_per_sync(cluster: Cluster) -> None:
    await cluster.add_nodes(7)
    await cluster.daemonsets.create(daemonset())
    ctrl = await synced_controller(cluster, DaemonSetControllerConfig(burst_replicas=3))
    try:
        await ctrl.sync(KEY)
        assert len(await cluster.list_pods()) == 3
        await cluster.eventually(lambda: _satisfied(ctrl))
        await ctrl.sync(KEY)
        assert len(await cluster.list_pods()) == 6
    finally:
        await stop_informers(ctrl)


async def test_hash_collision_bumps_collision_count_and_uses_a_new_name(cluster: Cluster) -> None:
    await cluster.add_nodes(1)
    ds = await cluster.daemonsets.create(daemonset())
    taken = compute_hash(ds["spec"]["template"], None)
    squatter = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": f"foo-{taken}", "namespace": NS, "labels": {"app": "unrelated"}},
        "data": {"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "unrelated"}}}}},
        "revision": 1,
    }
    await cluster.revisions.create(squatter)
    await cluster.start()
    await cluster.settle()
    for _ in range(5):  # the conflict is retried through the rate-limited queue
        cluster.clock.advance(1)
        await cluster.settle()
    fresh = await cluster.daemonsets.get("foo", namespace=NS)
    assert fresh["status"]["collisionCount"] == 1
    new_hash = compute_hash(ds["spec"]["template"], 1)
    assert new_hash != taken
    names = sorted(r["metadata"]["name"] for r in (await cluster.revisions.list(namespace=NS))["items"])
    assert names == sorted([f"foo-{taken}", f"foo-{new_hash}"])
    (pod,) = await cluster.list_pods()
    assert hash_of(pod) == new_hash


async def test_empty_selector_only_records_selecting_all(cluster: Cluster) -> None:
    # upstream TestPodIsNotDeletedByDaemonsetWithEmptyLabelSelector (the API refuses such objects
    # today, so the DaemonSet is put straight into the cache).
    await cluster.add_nodes(1)
    await cluster.pods.create(orphan("foreign", "node-0", {"app": "x"}))
    ctrl = await synced_controller(cluster)
    try:
        body = copy.deepcopy(daemonset())
        body["metadata"].update(uid="u-1", resourceVersion="1", generation=1)
        body["spec"]["selector"] = {}
        ctrl.ds_informer.indexer.add(body)
        await ctrl.sync(KEY)
        (event,) = await cluster.events(c.SELECTING_ALL_REASON)
        assert event["type"] == "Warning"
        assert event["message"] == "This daemon set is selecting all pods. A non-empty selector is required."
        assert [p["metadata"]["name"] for p in await cluster.list_pods()] == ["foreign"]
    finally:
        await stop_informers(ctrl)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="workers"):
        DaemonSetControllerConfig(workers=0)
    with pytest.raises(ValueError, match="burst_replicas"):
        DaemonSetControllerConfig(burst_replicas=0)
    with pytest.raises(ValueError, match="backoff"):
        DaemonSetControllerConfig(failed_pod_backoff_initial_seconds=10, failed_pod_backoff_max_seconds=1)
