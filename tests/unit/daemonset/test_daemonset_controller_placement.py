"""The DaemonSet controller loop against a real in-process API server: pods follow the nodes.

Scenarios ported from upstream ``daemon_controller_test.go`` (TestSimpleDaemonSetLaunchesPods,
TestSimpleDaemonSetScheduleDaemonSetPodsLaunchesPods, TestSelectorDaemonLaunchesPods,
TestTaintedNodeDaemonDoesNotLaunchIntolerantPod, TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod,
TestNoExecuteTaintedDoesEvicitRunningIntolerantPod, TestNumberReadyStatus, TestObservedGeneration)
and the seed's stories (S2: a node that joins gets a pod; S5: default tolerations), driven through
the informers and work queue rather than a direct call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from daemonset_controller_harness import NS, Cluster, daemonset, hash_of, new_cluster, node

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.podtemplate import DEFAULT_DAEMON_TOLERATIONS, get_target_node_name


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    cl, backend = await new_cluster()
    yield cl
    await cl.stop()
    await cl.server.close()
    await backend.close()


async def test_one_pod_per_eligible_node_with_owner_hash_affinity_and_tolerations(cluster: Cluster) -> None:
    await cluster.add_nodes(3, labels={"color": "blue"})
    await cluster.nodes.create(node("node-red", {"color": "red"}))
    await cluster.nodes.create(
        node(
            "node-tainted",
            {"color": "blue"},
            taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}],
        )
    )
    ds = await cluster.daemonsets.create(daemonset(node_selector={"color": "blue"}))
    ctrl = await cluster.start()
    await cluster.settle()

    by_node = await cluster.pods_by_node()
    assert sorted(by_node) == ["node-0", "node-1", "node-2"]
    revisions = (await cluster.revisions.list(namespace=NS))["items"]
    assert len(revisions) == 1
    rev_hash = revisions[0]["metadata"]["labels"][c.CONTROLLER_REVISION_HASH_LABEL]
    assert revisions[0]["metadata"]["name"] == f"foo-{rev_hash}"
    assert revisions[0]["revision"] == 1
    for node_name, (pod,) in by_node.items():
        meta = pod["metadata"]
        assert meta["generateName"] == "foo-"
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "name": "foo",
                "uid": ds["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert meta["labels"][c.CONTROLLER_REVISION_HASH_LABEL] == rev_hash
        assert meta["labels"][c.POD_TEMPLATE_GENERATION_LABEL] == "1"
        assert not pod["spec"].get("nodeName")
        assert pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
            "nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
            ]
        }
        tolerations = pod["spec"]["tolerations"]
        for tol in DEFAULT_DAEMON_TOLERATIONS:
            assert tol in tolerations
        assert pod["spec"]["nodeSelector"] == {"color": "blue"}

    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert status["desiredNumberScheduled"] == 3
    assert status["currentNumberScheduled"] == 3
    assert status["updatedNumberScheduled"] == 3
    assert status["numberMisscheduled"] == 0
    assert status["numberReady"] == 0
    assert status.get("numberAvailable", 0) == 0
    assert status["numberUnavailable"] == 3
    assert status["observedGeneration"] == 1

    created = await cluster.events(c.SUCCESSFUL_CREATE_REASON)
    names = {p["metadata"]["name"] for pods in by_node.values() for p in pods}
    assert {e["message"] for e in created} == {f"Created pod: {n}" for n in names}
    assert all(e["source"]["component"] == "daemonset-controller" for e in created)
    assert ctrl.expectations.satisfied_expectations("default/foo")


async def test_ready_pods_are_counted_and_node_add_creates_a_pod(cluster: Cluster) -> None:
    await cluster.add_nodes(2)
    await cluster.daemonsets.create(daemonset())
    await cluster.start()
    await cluster.settle()
    assert await cluster.mark_all_ready() == 2
    await cluster.settle()
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert (status["numberReady"], status["numberAvailable"], status.get("numberUnavailable", 0)) == (2, 2, 0)

    await cluster.nodes.create(node("node-new"))
    await cluster.settle()
    by_node = await cluster.pods_by_node()
    assert sorted(by_node) == ["node-0", "node-1", "node-new"]
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert (status["desiredNumberScheduled"], status["numberReady"], status["numberUnavailable"]) == (3, 2, 1)


async def test_node_label_change_removes_the_now_misscheduled_pod(cluster: Cluster) -> None:
    await cluster.add_nodes(2, labels={"color": "blue"})
    await cluster.daemonsets.create(daemonset(node_selector={"color": "blue"}))
    await cluster.start()
    await cluster.settle()
    assert sorted(await cluster.pods_by_node()) == ["node-0", "node-1"]

    await cluster.nodes.patch("node-1", {"metadata": {"labels": {"color": "red"}}})
    await cluster.settle()
    assert sorted(await cluster.pods_by_node()) == ["node-0"]
    deleted = await cluster.events(c.SUCCESSFUL_DELETE_REASON)
    assert len(deleted) == 1 and deleted[0]["message"].startswith("Deleted pod: foo-")
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert (
        status["desiredNumberScheduled"],
        status["currentNumberScheduled"],
        status["numberMisscheduled"],
    ) == (
        1,
        1,
        0,
    )

    # Relabelled back: the node gets a pod again.
    await cluster.nodes.patch("node-1", {"metadata": {"labels": {"color": "blue"}}})
    await cluster.settle()
    assert sorted(await cluster.pods_by_node()) == ["node-0", "node-1"]


async def test_no_schedule_taint_keeps_the_pod_no_execute_taint_removes_it(cluster: Cluster) -> None:
    await cluster.add_nodes(2)
    await cluster.daemonsets.create(daemonset())
    await cluster.start()
    await cluster.settle()

    await cluster.nodes.patch(
        "node-0", {"spec": {"taints": [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]}}
    )
    await cluster.settle()
    assert sorted(await cluster.pods_by_node()) == ["node-0", "node-1"]
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert (status["desiredNumberScheduled"], status["numberMisscheduled"]) == (1, 1)

    await cluster.nodes.patch(
        "node-1", {"spec": {"taints": [{"key": "dedicated", "value": "user1", "effect": "NoExecute"}]}}
    )
    await cluster.settle()
    assert sorted(await cluster.pods_by_node()) == ["node-0"]


async def test_tolerations_let_pods_onto_tainted_nodes_including_operator_exists(cluster: Cluster) -> None:
    # Seed S4: a toleration `operator: Exists` with no key tolerates every taint.
    await cluster.nodes.create(node("n1", taints=[{"key": "a", "value": "b", "effect": "NoExecute"}]))
    await cluster.nodes.create(
        node("n2", taints=[{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}])
    )
    await cluster.daemonsets.create(daemonset(name="tolerant", tolerations=[{"operator": "Exists"}]))
    await cluster.start()
    await cluster.settle()
    assert sorted(await cluster.pods_by_node()) == ["n1", "n2"]


async def test_deleted_pod_is_recreated_with_the_current_hash(cluster: Cluster) -> None:
    await cluster.add_nodes(2)
    await cluster.daemonsets.create(daemonset())
    await cluster.start()
    await cluster.settle()
    (victim,) = (await cluster.pods_by_node())["node-1"]
    await cluster.pods.delete(victim["metadata"]["name"], namespace=NS)
    await cluster.settle()
    (replacement,) = (await cluster.pods_by_node())["node-1"]
    assert replacement["metadata"]["name"] != victim["metadata"]["name"]
    assert hash_of(replacement) == hash_of(victim)


async def test_failed_pod_is_deleted_with_backoff_and_recreated(cluster: Cluster) -> None:
    await cluster.add_nodes(1)
    await cluster.daemonsets.create(daemonset())
    ctrl = await cluster.start()
    await cluster.settle()

    async def fail_pod() -> str:
        (pod,) = (await cluster.pods_by_node())["node-0"]
        pod["status"] = {"phase": "Failed"}
        await cluster.pods.update_status(pod)
        return str(pod["metadata"]["name"])

    first = await fail_pod()
    await cluster.settle()
    failed_events = await cluster.events(c.FAILED_DAEMON_POD_REASON)
    assert [e["message"] for e in failed_events] == [
        f"Found failed daemon pod default/{first} on node node-0, will try to kill it"
    ]
    assert failed_events[0]["type"] == "Warning"
    (second,) = (await cluster.pods_by_node())["node-0"]
    assert second["metadata"]["name"] != first
    (key,) = _backoff_keys(ctrl)
    assert ctrl.failed_pods_backoff.get(key) == 1.0

    # It fails again at once: in backoff, so the failed pod stays until the delay has passed.
    second_name = await fail_pod()
    await cluster.settle()
    (still,) = (await cluster.pods_by_node())["node-0"]
    assert still["metadata"]["name"] == second_name
    assert len(await cluster.events(c.FAILED_DAEMON_POD_REASON)) == 1

    cluster.clock.advance(1.0)
    await cluster.settle()
    (third,) = (await cluster.pods_by_node())["node-0"]
    assert third["metadata"]["name"] not in (first, second_name)
    assert ctrl.failed_pods_backoff.get(key) == 2.0
    events = await cluster.events(c.FAILED_DAEMON_POD_REASON)
    assert sum(int(e.get("count") or 1) for e in events) == 2


def _backoff_keys(ctrl: Any) -> list[str]:
    return list(ctrl.failed_pods_backoff._entries)


async def test_succeeded_pod_is_deleted_and_replaced(cluster: Cluster) -> None:
    await cluster.add_nodes(1)
    await cluster.daemonsets.create(daemonset())
    await cluster.start()
    await cluster.settle()
    (pod,) = (await cluster.pods_by_node())["node-0"]
    pod["status"] = {"phase": "Succeeded"}
    await cluster.pods.update_status(pod)
    await cluster.settle()
    events = await cluster.events(c.SUCCEEDED_DAEMON_POD_REASON)
    assert [e["message"] for e in events] == [
        f"Found succeeded daemon pod default/{pod['metadata']['name']} on node node-0, will try to delete it"
    ]
    (replacement,) = (await cluster.pods_by_node())["node-0"]
    assert replacement["metadata"]["name"] != pod["metadata"]["name"]


async def test_min_ready_seconds_counts_available_after_the_delay(cluster: Cluster) -> None:
    await cluster.add_nodes(2)
    await cluster.daemonsets.create(daemonset(min_ready_seconds=10))
    await cluster.start()
    await cluster.settle()
    await cluster.mark_all_ready()
    await cluster.settle()
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert (status["numberReady"], status.get("numberAvailable", 0), status["numberUnavailable"]) == (2, 0, 2)
    cluster.clock.advance(11)
    await cluster.settle()
    status = (await cluster.daemonsets.get("foo", namespace=NS))["status"]
    assert (status["numberReady"], status["numberAvailable"], status.get("numberUnavailable", 0)) == (2, 2, 0)


async def test_extra_pods_on_a_node_keep_the_oldest(cluster: Cluster) -> None:
    await cluster.add_nodes(1)
    ds = await cluster.daemonsets.create(daemonset())
    ctrl = await cluster.start()
    await cluster.settle()
    (original,) = (await cluster.pods_by_node())["node-0"]
    # A duplicate appears (say, from a second writer) a second later.
    cluster.clock.advance(1)
    dup = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "foo-",
            "namespace": NS,
            "labels": dict(original["metadata"]["labels"]),
            "ownerReferences": original["metadata"]["ownerReferences"],
        },
        "spec": original["spec"],
    }
    await cluster.pods.create(dup)
    await cluster.settle()
    (kept,) = (await cluster.pods_by_node())["node-0"]
    assert kept["metadata"]["name"] == original["metadata"]["name"]
    assert ds["metadata"]["uid"] == kept["metadata"]["ownerReferences"][0]["uid"]
    assert ctrl.expectations.satisfied_expectations("default/foo")
    assert get_target_node_name(kept) == "node-0"
