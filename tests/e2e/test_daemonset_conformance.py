"""Upstream's DaemonSet conformance tests, ported to the official Python client against ``kubeds up``.

Sources (``kubernetes/kubernetes``): ``test/e2e/apps/daemon_set.go`` ("[sig-apps] Daemon set
[Serial]"), ``test/e2e/apps/controller_revision.go`` and ``test/e2e/node/taints.go``
("NoExecuteTaintManager"); catalogue in docs upstream-tests.md §A.1 (the ten conformance tests) and
§A.2 (node affinity, OnDelete, surge). Each test keeps upstream's steps and is named after it.

The plane is this module's own (``--nodes 4``, fast profile), so its nodes, labels and taints do not
disturb other tests. Upstream polls every 1 s for 5 minutes; here every 0.2 s with short deadlines.
Timings upstream spends waiting (taint eviction's 5 s units, the surge test's minReadySeconds 10)
are shortened and the shortened value is said where it is used.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import dynamic, watch
from kubernetes.client.exceptions import ApiException

from kubeds.controllers.daemonset import history
from tests.e2e.helpers_daemonset import (
    AGNHOST,
    COLOR_LABEL,
    IMAGE,
    LABEL_KEY,
    REVISION_HASH,
    Cluster,
    check_daemon_pod_on_nodes,
    check_daemon_status,
    check_pods_hash_label,
    check_pods_image_and_availability,
    check_running_on_all_nodes,
    check_running_on_no_nodes,
    clear_daemon_labels,
    cur_history,
    daemon_pods,
    delete_daemon_sets,
    hold_for,
    is_available,
    new_daemon_set,
    raw,
    read_or_none,
    running_plane,
    wait_for,
    wait_for_history_created,
    wait_running_on_all_nodes,
)

NODES = 4
DS_NAME = "daemon-set"  # upstream dsName


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_plane(tmp_path_factory.mktemp("ds-conformance"), NODES) as plane:
        c = Cluster(plane)
        yield c
        c.close()


@pytest.fixture
def ns(cluster: Cluster) -> Iterator[str]:
    """upstream BeforeEach/AfterEach: namespace annotated for an empty node selector, no
    ``daemonset-`` node labels before and after, every DS deleted and its pods gone."""
    clear_daemon_labels(cluster)
    name = cluster.new_namespace()
    yield name
    delete_daemon_sets(cluster, name)


def _set_node_labels(c: Cluster, node: str, labels: dict[str, str]) -> None:
    """upstream ``setDaemonSetNodeLabels``: the node's ``daemonset-`` labels become exactly ``labels``."""
    current = c.core.read_node(node).metadata.labels or {}
    patch: dict[str, str | None] = {k: None for k in current if k.startswith("daemonset-")}
    patch.update(labels)
    c.core.patch_node(node, {"metadata": {"labels": patch}})


def _image_patch(image: str) -> dict[str, Any]:
    """upstream ``getDaemonSetImagePatch``."""
    return {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}


def _a_node(c: Cluster) -> str:
    return sorted(n.metadata.name for n in c.core.list_node().items)[0]


# -- A.1 conformance --------------------------------------------------------------------------------


def test_should_run_and_stop_simple_daemon(cluster: Cluster, ns: str) -> None:
    """[sig-apps] Daemon set [Serial] should run and stop simple daemon [Conformance]"""
    c = cluster
    c.apps.create_namespaced_daemon_set(ns, new_daemon_set(DS_NAME))
    wait_running_on_all_nodes(c, DS_NAME, ns)

    # Stop a daemon pod, check that the daemon pod is revived.
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    victim = daemon_pods(c, ds)[0]
    c.core.delete_namespaced_pod(victim.metadata.name, ns)
    wait_for(
        "the deleted daemon pod to be replaced",
        lambda: (
            victim.metadata.name not in {p.metadata.name for p in daemon_pods(c, ds)}
            and check_running_on_all_nodes(c, DS_NAME, ns)
        ),
    )
    node = victim.spec.node_name
    replacement = [p for p in daemon_pods(c, ds) if p.spec.node_name == node]
    assert len(replacement) == 1 and replacement[0].metadata.uid != victim.metadata.uid


def test_should_run_and_stop_complex_daemon(cluster: Cluster, ns: str) -> None:
    """[sig-apps] Daemon set [Serial] should run and stop complex daemon [Conformance]"""
    c = cluster
    body = new_daemon_set(DS_NAME, keep_ds_labels=False)
    body["spec"]["template"]["spec"]["nodeSelector"] = {COLOR_LABEL: "blue"}
    c.apps.create_namespaced_daemon_set(ns, body)

    # Initially, daemon pods should not be running on any nodes.
    wait_for(
        "the DaemonSet status to be observed",
        lambda: c.apps.read_namespaced_daemon_set(DS_NAME, ns).status.observed_generation == 1,
    )
    assert check_running_on_no_nodes(c, DS_NAME, ns)
    assert c.apps.read_namespaced_daemon_set(DS_NAME, ns).status.desired_number_scheduled == 0

    # Change node label to blue, check that daemon pod is launched.
    node = _a_node(c)
    _set_node_labels(c, node, {COLOR_LABEL: "blue"})
    wait_for("a daemon pod on the blue node", lambda: check_daemon_pod_on_nodes(c, DS_NAME, ns, [node]))
    wait_for("daemon status", lambda: check_daemon_status(c, DS_NAME, ns))

    # Update the node label to green, and wait for daemons to be unscheduled.
    _set_node_labels(c, node, {COLOR_LABEL: "green"})
    wait_for("no daemon pod anywhere", lambda: check_running_on_no_nodes(c, DS_NAME, ns))

    # Update DaemonSet node selector to green, and change its update strategy to RollingUpdate.
    patch = {
        "spec": {
            "template": {"spec": {"nodeSelector": {COLOR_LABEL: "green"}}},
            "updateStrategy": {"type": "RollingUpdate"},
        }
    }
    ds = c.apps.patch_namespaced_daemon_set(DS_NAME, ns, patch)
    assert ds.spec.template.spec.node_selector == {COLOR_LABEL: "green"}
    wait_for("a daemon pod on the green node", lambda: check_daemon_pod_on_nodes(c, DS_NAME, ns, [node]))
    wait_for("daemon status", lambda: check_daemon_status(c, DS_NAME, ns))


def test_should_retry_creating_failed_daemon_pods(cluster: Cluster, ns: str) -> None:
    """[sig-apps] Daemon set [Serial] should retry creating failed daemon pods [Conformance]"""
    c = cluster
    c.apps.create_namespaced_daemon_set(ns, new_daemon_set(DS_NAME))
    wait_running_on_all_nodes(c, DS_NAME, ns)

    # Set a daemon pod's phase to 'Failed', check that the daemon pod is revived.
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    pod = daemon_pods(c, ds)[0]
    pod.status.phase = "Failed"
    c.core.replace_namespaced_pod_status(pod.metadata.name, ns, pod)
    wait_for(
        "the failed daemon pod to be replaced",
        lambda: (
            pod.metadata.uid not in {p.metadata.uid for p in daemon_pods(c, ds)}
            and check_running_on_all_nodes(c, DS_NAME, ns)
        ),
    )
    # Wait for the failed daemon pod to be completely deleted.
    wait_for(
        "the failed pod to be gone",
        lambda: read_or_none(lambda: c.core.read_namespaced_pod(pod.metadata.name, ns)) is None,
    )
    events = c.core.list_namespaced_event(ns, field_selector="reason=FailedDaemonPod").items
    want = (
        f"Found failed daemon pod {ns}/{pod.metadata.name} on node {pod.spec.node_name}, will try to kill it"
    )
    assert [(e.type, e.message) for e in events] == [("Warning", want)]
    assert events[0].involved_object.kind == "DaemonSet" and events[0].involved_object.name == DS_NAME


def test_should_update_pod_when_spec_was_updated_and_update_strategy_is_rolling_update(
    cluster: Cluster, ns: str
) -> None:
    """[sig-apps] Daemon set [Serial] should update pod when spec was updated and update strategy is
    RollingUpdate [Conformance]"""
    c = cluster
    labels = {LABEL_KEY: DS_NAME}
    body = new_daemon_set(DS_NAME, keep_ds_labels=False)
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate"}
    c.apps.create_namespaced_daemon_set(ns, body)
    wait_running_on_all_nodes(c, DS_NAME, ns)

    # Make sure all daemon pods have correct template generation 1 / the first revision.
    wait_for_history_created(c, ns, labels, 1)
    first = cur_history(c, ns, DS_NAME)
    assert first["revision"] == 1
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    check_pods_hash_label(daemon_pods(c, ds), first["metadata"]["labels"][REVISION_HASH])

    # Update daemon pods image; never more than maxUnavailable (1) pod unavailable.
    c.apps.patch_namespaced_daemon_set(DS_NAME, ns, _image_patch(AGNHOST))
    wait_for(
        "every node to run the new image",
        lambda: check_pods_image_and_availability(c, DS_NAME, ns, AGNHOST, 1),
        timeout=60,
    )
    wait_running_on_all_nodes(c, DS_NAME, ns)

    wait_for_history_created(c, ns, labels, 2)
    second = cur_history(c, ns, DS_NAME)
    assert second["revision"] == 2
    assert second["metadata"]["labels"][REVISION_HASH] != first["metadata"]["labels"][REVISION_HASH]
    check_pods_hash_label(daemon_pods(c, ds), second["metadata"]["labels"][REVISION_HASH])


def test_should_rollback_without_unnecessary_restarts(cluster: Cluster, ns: str) -> None:
    """[sig-apps] Daemon set [Serial] should rollback without unnecessary restarts [Conformance]"""
    c = cluster
    assert len(c.core.list_node().items) >= 2, "the rollback test needs at least 2 schedulable nodes"
    body = new_daemon_set(DS_NAME, keep_ds_labels=False)
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate"}
    c.apps.create_namespaced_daemon_set(ns, body)
    wait_running_on_all_nodes(c, DS_NAME, ns)

    # Update the DaemonSet to trigger a rollout that never succeeds.
    bad = "foo:non-existent"
    c.apps.patch_namespaced_daemon_set(DS_NAME, ns, _image_patch(bad))
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    wait_for(
        "at least one pod with the new image",
        lambda: any(p.spec.containers[0].image == bad for p in daemon_pods(c, ds)),
    )

    # Make sure we're in the middle of a rollout: old and new pods at once.
    pods = daemon_pods(c, ds)
    existing = {p.metadata.name: p.metadata.uid for p in pods if p.spec.containers[0].image != bad}
    new = [p.metadata.name for p in pods if p.spec.containers[0].image == bad]
    assert existing, "no old pod left: the rollout should be stuck"
    assert new, "no new pod"
    # The new pod never becomes available, so the budget (1) is spent and the rollout stays stuck.
    hold_for(
        "the stuck rollout replaced more old pods",
        lambda: set(existing) <= {p.metadata.name for p in daemon_pods(c, ds)},
        seconds=1.5,
    )

    # Roll back the DaemonSet; pods on the old image must not be restarted.
    c.apps.patch_namespaced_daemon_set(DS_NAME, ns, _image_patch(IMAGE))
    wait_for(
        "every node to run the original image",
        lambda: check_pods_image_and_availability(c, DS_NAME, ns, IMAGE, 1),
    )
    after = {p.metadata.name: p.metadata.uid for p in daemon_pods(c, ds)}
    for name, uid in existing.items():
        assert after.get(name) == uid, f"unexpected pod {name} be restarted"


def test_should_list_and_delete_a_collection_of_daemon_sets(cluster: Cluster, ns: str) -> None:
    """[sig-apps] Daemon set [Serial] should list and delete a collection of DaemonSets [Conformance]"""
    c = cluster
    selector = f"{LABEL_KEY}={DS_NAME}"
    c.apps.create_namespaced_daemon_set(ns, new_daemon_set(DS_NAME))
    wait_running_on_all_nodes(c, DS_NAME, ns)

    listed = c.apps.list_daemon_set_for_all_namespaces(label_selector=selector)
    assert [d.metadata.name for d in listed.items] == [DS_NAME]

    c.apps.delete_collection_namespaced_daemon_set(ns, label_selector=selector, grace_period_seconds=1)
    listed = c.apps.list_daemon_set_for_all_namespaces(label_selector=selector)
    assert listed.items == []


def _watch_until(c: Cluster, ns: str, rv: str, selector: str, done: Any) -> Any:
    w = watch.Watch()
    for event in w.stream(
        c.apps.list_namespaced_daemon_set,
        ns,
        label_selector=selector,
        resource_version=rv,
        timeout_seconds=20,
    ):
        if done(event["object"]):
            w.stop()
            return event["object"]
    raise AssertionError("the watch ended without observing the expected DaemonSet")


def _has_condition(ds: Any, type_: str) -> bool:
    return any(cond.type == type_ for cond in ds.status.conditions or [])


def test_should_verify_changes_to_a_daemon_set_status(cluster: Cluster, ns: str) -> None:
    """[sig-apps] Daemon set [Serial] should verify changes to a daemon set status [Conformance]"""
    c = cluster
    selector = f"{LABEL_KEY}={DS_NAME}"
    c.apps.create_namespaced_daemon_set(ns, new_daemon_set(DS_NAME))
    wait_running_on_all_nodes(c, DS_NAME, ns)
    rv = c.apps.list_daemon_set_for_all_namespaces(label_selector=selector).metadata.resource_version

    # Getting /status (dynamic client).
    dyn = dynamic.DynamicClient(c.api_client)
    resource = dyn.resources.get(api_version="apps/v1", kind="DaemonSet")
    got = resource.status.get(name=DS_NAME, namespace=ns)
    assert got.metadata.name == DS_NAME and got.status.desiredNumberScheduled == NODES

    # Updating the status with a condition (retry on conflict).
    for _ in range(5):
        ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
        ds.status.conditions = [
            *(ds.status.conditions or []),
            {"type": "StatusUpdate", "status": "True", "reason": "E2E", "message": "Set from e2e test"},
        ]
        try:
            c.apps.replace_namespaced_daemon_set_status(DS_NAME, ns, ds)
            break
        except ApiException as exc:
            if exc.status != 409:
                raise
    else:
        raise AssertionError("status update kept conflicting")
    seen = _watch_until(c, ns, rv, selector, lambda d: _has_condition(d, "StatusUpdate"))
    cond = next(x for x in seen.status.conditions if x.type == "StatusUpdate")
    assert (cond.status, cond.reason, cond.message) == ("True", "E2E", "Set from e2e test")

    # Patching the status.
    c.apps.patch_namespaced_daemon_set_status(
        DS_NAME,
        ns,
        {"status": {"conditions": [{"type": "StatusPatched", "status": "True"}]}},
        _content_type="application/merge-patch+json",
    )
    _watch_until(c, ns, rv, selector, lambda d: _has_condition(d, "StatusPatched"))

    # Beyond upstream: the controller's own status writes keep the conditions.
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    c.core.delete_namespaced_pod(daemon_pods(c, ds)[0].metadata.name, ns)
    wait_for(
        "the controller to write status",
        lambda: (
            c.apps.read_namespaced_daemon_set(DS_NAME, ns).metadata.resource_version
            != ds.metadata.resource_version
        ),
    )
    wait_running_on_all_nodes(c, DS_NAME, ns)
    conditions = c.apps.read_namespaced_daemon_set(DS_NAME, ns).status.conditions
    assert [x.type for x in conditions] == ["StatusPatched"]


def test_should_manage_the_lifecycle_of_a_controller_revision(cluster: Cluster, ns: str) -> None:
    """[sig-apps] ControllerRevision [Serial] should manage the lifecycle of a ControllerRevision [Conformance]"""
    c = cluster
    ds_name = f"e2e-{uuid.uuid4().hex[:5]}-daemon-set"
    selector = f"{LABEL_KEY}={ds_name}"
    body = new_daemon_set(ds_name, image=AGNHOST)
    created = c.apps.create_namespaced_daemon_set(ns, body)
    wait_running_on_all_nodes(c, ds_name, ns)
    assert len(c.apps.list_daemon_set_for_all_namespaces(label_selector=selector).items) == 1

    revs = c.apps.list_controller_revision_for_all_namespaces(label_selector=selector).items
    assert len(revs) == 1
    oref = revs[0].metadata.owner_references[0]
    assert (oref.kind, oref.uid) == ("DaemonSet", created.metadata.uid)
    initial = raw(c.apps.read_namespaced_controller_revision, revs[0].metadata.name, ns)
    initial_name = initial["metadata"]["name"]

    # Patching the ControllerRevision.
    patched = c.apps.patch_namespaced_controller_revision(
        initial_name, ns, {"metadata": {"labels": {initial_name: "patched"}}}
    )
    assert patched.metadata.labels[initial_name] == "patched"

    # Create a new ControllerRevision: named after the template with terminationGracePeriodSeconds 1.
    ds = raw(c.apps.read_namespaced_daemon_set, ds_name, ns)
    template = ds["spec"]["template"]
    template["spec"]["terminationGracePeriodSeconds"] = 1
    new_hash = history.compute_hash(template, ds["status"].get("collisionCount"))
    new_name = f"{ds_name}-{new_hash}"
    c.apps.create_namespaced_controller_revision(
        ns,
        {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": new_name,
                "labels": {**template["metadata"]["labels"], REVISION_HASH: new_hash},
                "annotations": ds["metadata"].get("annotations") or {},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "DaemonSet",
                        "name": ds_name,
                        "uid": ds["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "data": initial["data"],
            "revision": initial["revision"] + 1,
        },
    )

    def count(n: int) -> bool:
        got = c.apps.list_namespaced_controller_revision(ns, label_selector=selector).items
        if len(got) != n:
            raise AssertionError(f"{len(got)} ControllerRevisions, want {n}")
        return True

    wait_for("two ControllerRevisions", lambda: count(2))
    hold_for("the hand-made ControllerRevision was deduplicated too early", lambda: count(2), seconds=1)

    c.apps.delete_namespaced_controller_revision(initial_name, ns)
    wait_for("one ControllerRevision", lambda: count(1))
    current = c.apps.list_namespaced_controller_revision(ns).items[0]
    assert current.metadata.name == new_name

    # Updating the ControllerRevision (retry on conflict).
    for _ in range(5):
        rev = c.apps.read_namespaced_controller_revision(new_name, ns)
        rev.metadata.labels[new_name] = "updated"
        try:
            updated = c.apps.replace_namespaced_controller_revision(new_name, ns, rev)
            break
        except ApiException as exc:
            if exc.status != 409:
                raise
    else:
        raise AssertionError("ControllerRevision update kept conflicting")
    assert updated.metadata.labels[new_name] == "updated"

    # Generate another ControllerRevision by patching the DaemonSet: its name collides with the
    # hand-made one (same template hash, other data), so collisionCount is bumped.
    c.apps.patch_namespaced_daemon_set(
        ds_name,
        ns,
        {
            "spec": {"template": {"spec": {"terminationGracePeriodSeconds": 1}}},
            "updateStrategy": {"type": "RollingUpdate"},
        },
    )
    wait_for("two ControllerRevisions", lambda: count(2))

    c.apps.delete_collection_namespaced_controller_revision(ns, label_selector=f"{new_name}=updated")
    wait_for("one ControllerRevision", lambda: count(1))
    left = c.apps.list_namespaced_controller_revision(ns).items
    assert [r.revision for r in left] == [3]
    assert c.apps.read_namespaced_daemon_set(ds_name, ns).status.collision_count == 1


# -- taint eviction (test/e2e/node/taints.go) -----------------------------------------------------

EVICT_TAINT = {"key": "kubernetes.io/e2e-evict-taint-key", "value": "evictTaintVal", "effect": "NoExecute"}
WAIT_UNIT = 2  # upstream additionalWaitPerDeleteSeconds is 5; shortened


def _taint_pod(name: str, group: str, toleration_seconds: int, node: str | None = None) -> dict[str, Any]:
    """upstream ``createPodForTaintsTest`` (with toleration)."""
    toleration: dict[str, Any] = {**EVICT_TAINT, "operator": "Equal"}
    if toleration_seconds > 0:
        toleration["tolerationSeconds"] = toleration_seconds
    spec: dict[str, Any] = {
        "containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}],
        "tolerations": [toleration],
        "terminationGracePeriodSeconds": 0,
    }
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    return {"metadata": {"name": name, "labels": {"group": group}}, "spec": spec}


def _run_pod_and_get_node(c: Cluster, ns: str, body: dict[str, Any]) -> str:
    """upstream ``RunPodAndGetNodeName``."""
    c.core.create_namespaced_pod(ns, body)
    name = body["metadata"]["name"]

    def running() -> str | None:
        pod = c.core.read_namespaced_pod(name, ns)
        return pod.spec.node_name if pod.status.phase == "Running" else None

    return wait_for(f"pod {name} to run", running)


def _taint_node(c: Cluster, node: str) -> None:
    taints = [t for t in c.core.read_node(node).spec.taints or [] if t.key != EVICT_TAINT["key"]]
    c.core.patch_node(node, {"spec": {"taints": [*taints, EVICT_TAINT]}})


def _untaint_node(c: Cluster, node: str) -> None:
    taints = [t for t in c.core.read_node(node).spec.taints or [] if t.key != EVICT_TAINT["key"]]
    c.core.patch_node(node, {"spec": {"taints": taints}})


def _evicted(c: Cluster, ns: str, name: str) -> bool:
    pod = read_or_none(lambda: c.core.read_namespaced_pod(name, ns))
    return pod is None or pod.metadata.deletion_timestamp is not None


def test_removing_taint_cancels_eviction(cluster: Cluster, ns: str) -> None:
    """[sig-node] NoExecuteTaintManager Single Pod [Serial] removing taint cancels eviction [Disruptive] [Conformance]"""
    c = cluster
    name = "taint-eviction-4"
    node = _run_pod_and_get_node(c, ns, _taint_pod(name, "taint-eviction-4", 2 * WAIT_UNIT))
    _taint_node(c, node)
    try:
        tainted_at = time.monotonic()
        # Wait a bit: the pod must not be evicted before its tolerationSeconds.
        hold_for("pod evicted before tolerationSeconds", lambda: not _evicted(c, ns, name), seconds=WAIT_UNIT)
    finally:
        _untaint_node(c, node)
    # Wait well past the original deadline: the scheduled eviction was cancelled.
    left = tainted_at + 2 * WAIT_UNIT + 3 * WAIT_UNIT - time.monotonic()
    hold_for("pod evicted although the taint was removed", lambda: not _evicted(c, ns, name), seconds=left)
    events = c.core.list_namespaced_event(ns, field_selector=f"involvedObject.name={name}").items
    reasons = [(e.reason, e.message) for e in events if e.source.component == "taint-eviction-controller"]
    assert reasons == [("TaintManagerEviction", f"Cancelling deletion of Pod {ns}/{name}")]
    c.core.delete_namespaced_pod(name, ns)


def test_evicts_pods_with_min_toleration_seconds(cluster: Cluster, ns: str) -> None:
    """[sig-node] NoExecuteTaintManager Multiple Pods [Serial] evicts pods with minTolerationSeconds [Disruptive] [Conformance]"""
    c = cluster
    group = "taint-eviction-b"
    first, second = f"{group}1", f"{group}2"
    node = _run_pod_and_get_node(c, ns, _taint_pod(first, group, WAIT_UNIT))
    assert _run_pod_and_get_node(c, ns, _taint_pod(second, group, 5 * WAIT_UNIT, node)) == node
    _taint_node(c, node)
    try:
        tainted_at = time.monotonic()
        evicted_at: dict[str, float] = {}

        def both_evicted() -> bool:
            for name in (first, second):
                if name not in evicted_at and _evicted(c, ns, name):
                    evicted_at[name] = time.monotonic() - tainted_at
            return len(evicted_at) == 2

        wait_for("both pods to be evicted", both_evicted, timeout=10 * WAIT_UNIT + 10)
    finally:
        _untaint_node(c, node)
    # Each at its own tolerationSeconds (measured from when the taint was applied, with slack).
    assert WAIT_UNIT - 0.5 <= evicted_at[first] < 5 * WAIT_UNIT - 0.5, evicted_at
    assert 5 * WAIT_UNIT - 0.5 <= evicted_at[second] <= 5 * WAIT_UNIT + 5, evicted_at


# -- A.2 ----------------------------------------------------------------------------------------------


def test_should_run_and_stop_complex_daemon_with_node_affinity(cluster: Cluster, ns: str) -> None:
    """[sig-apps] Daemon set [Serial] should run and stop complex daemon with node affinity"""
    c = cluster
    body = new_daemon_set(DS_NAME, keep_ds_labels=False)
    body["spec"]["template"]["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": COLOR_LABEL, "operator": "In", "values": ["blue"]}]}
                ]
            }
        }
    }
    c.apps.create_namespaced_daemon_set(ns, body)
    wait_for(
        "the DaemonSet status to be observed",
        lambda: c.apps.read_namespaced_daemon_set(DS_NAME, ns).status.observed_generation == 1,
    )
    assert check_running_on_no_nodes(c, DS_NAME, ns)

    node = _a_node(c)
    _set_node_labels(c, node, {COLOR_LABEL: "blue"})
    wait_for("a daemon pod on the blue node", lambda: check_daemon_pod_on_nodes(c, DS_NAME, ns, [node]))
    wait_for("daemon status", lambda: check_daemon_status(c, DS_NAME, ns))

    _set_node_labels(c, node, {})
    wait_for("no daemon pod anywhere", lambda: check_running_on_no_nodes(c, DS_NAME, ns))


def test_should_not_update_pod_when_spec_was_updated_and_update_strategy_is_on_delete(
    cluster: Cluster, ns: str
) -> None:
    """[sig-apps] Daemon set [Serial] should not update pod when spec was updated and update strategy is OnDelete"""
    c = cluster
    labels = {LABEL_KEY: DS_NAME}
    body = new_daemon_set(DS_NAME, keep_ds_labels=False)
    body["spec"]["updateStrategy"] = {"type": "OnDelete"}
    c.apps.create_namespaced_daemon_set(ns, body)
    wait_running_on_all_nodes(c, DS_NAME, ns)
    wait_for_history_created(c, ns, labels, 1)
    first = cur_history(c, ns, DS_NAME)
    assert first["revision"] == 1
    first_hash = first["metadata"]["labels"][REVISION_HASH]
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    before = {p.metadata.uid for p in daemon_pods(c, ds)}
    check_pods_hash_label(daemon_pods(c, ds), first_hash)

    c.apps.patch_namespaced_daemon_set(DS_NAME, ns, _image_patch(AGNHOST))
    wait_for_history_created(c, ns, labels, 2)
    second = cur_history(c, ns, DS_NAME)
    assert second["revision"] == 2
    assert second["metadata"]["labels"][REVISION_HASH] != first_hash
    # Pods keep the old image and are never unavailable.
    hold_for(
        "OnDelete pods were replaced",
        lambda: (
            check_pods_image_and_availability(c, DS_NAME, ns, IMAGE, 0)
            and {p.metadata.uid for p in daemon_pods(c, ds)} == before
        ),
        seconds=1.5,
    )
    wait_running_on_all_nodes(c, DS_NAME, ns)
    check_pods_hash_label(daemon_pods(c, ds), first_hash)


# -- the surge test --------------------------------------------------------------------------------

MIN_READY = 2  # upstream 10 s; shortened
FAULT_RATE = 0.05


def _surge_body() -> dict[str, Any]:
    body = new_daemon_set(DS_NAME, keep_ds_labels=False)
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "VERSION", "value": "1"}]
    container["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 15"]}}}
    container["readinessProbe"] = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1}
    body["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 30
    body["spec"]["minReadySeconds"] = MIN_READY
    body["spec"]["updateStrategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "20%"},
    }
    return body


def test_should_surge_pods_onto_nodes_when_spec_was_updated_and_update_strategy_is_rolling_update(
    cluster: Cluster, ns: str
) -> None:
    """[sig-apps] Daemon set [Serial] should surge pods onto nodes when spec was updated and update
    strategy is RollingUpdate"""
    c = cluster
    labels = {LABEL_KEY: DS_NAME}
    c.apps.create_namespaced_daemon_set(ns, _surge_body())
    wait_running_on_all_nodes(c, DS_NAME, ns, timeout=30)
    wait_for_history_created(c, ns, labels, 1)
    first = cur_history(c, ns, DS_NAME)
    assert first["revision"] == 1
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    max_surge = 1  # 20% of 4 nodes, rounded up

    c.apps.patch_namespaced_daemon_set(
        DS_NAME,
        ns,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "app", "env": [{"name": "VERSION", "value": "2"}]}]}
                }
            }
        },
    )
    ds = c.apps.read_namespaced_daemon_set(DS_NAME, ns)
    wait_for_history_created(c, ns, labels, 2)
    new_hash = cur_history(c, ns, DS_NAME)["metadata"]["labels"][REVISION_HASH]
    rng = random.Random(7)
    deliberately_deleted: set[str] = set()
    old_with_new_available_since: dict[str, float] = {}
    deadline = time.monotonic() + 90
    while True:
        assert time.monotonic() < deadline, "the surge rollout did not finish"
        sel = f"{LABEL_KEY}={DS_NAME}"
        all_pods = c.core.list_namespaced_pod(ns, label_selector=sel).items
        now = time.monotonic()
        nodes = {n.metadata.name for n in c.core.list_node().items}
        per_node: dict[str, dict[str, list[Any]]] = {n: {"old": [], "new": []} for n in nodes}
        for p in all_pods:
            version = "new" if p.metadata.labels.get(REVISION_HASH) == new_hash else "old"
            per_node.setdefault(p.spec.node_name or "", {"old": [], "new": []})[version].append(p)
        new_unavailable = old_unavailable = nodes_without_old = 0
        versions = set()
        done = True
        for node, by in per_node.items():
            for version, pods in by.items():
                if pods:
                    versions.add(version)
                running = [p for p in pods if p.metadata.deletion_timestamp is None]
                deleted = [p for p in pods if p.metadata.deletion_timestamp is not None]
                assert len(running) <= 1, f"node {node} runs {len(running)} {version} pods"
                assert len(deleted) <= 2 and len(pods) <= 2, f"node {node}: {len(pods)} {version} pods"
            old_running = [p for p in by["old"] if p.metadata.deletion_timestamp is None]
            new_running = [p for p in by["new"] if p.metadata.deletion_timestamp is None]
            if not old_running:
                nodes_without_old += 1
            new_avail = any(is_available(p, MIN_READY) for p in new_running)
            if old_running and new_avail:
                since = old_with_new_available_since.setdefault(node, now)
                assert now - since < 60, f"an old pod coexists with an available new pod on {node}"
            else:
                old_with_new_available_since.pop(node, None)
            new_unavailable += sum(1 for p in new_running if not is_available(p, MIN_READY))
            old_unavailable += sum(1 for p in old_running if not is_available(p, MIN_READY))
            if by["old"] or not new_running or not all(is_available(p, MIN_READY) for p in new_running):
                done = False
        assert len(versions) <= 2
        deleted_new = len({n for n in deliberately_deleted if n not in {p.metadata.name for p in all_pods}})
        budget = max_surge + old_unavailable + deleted_new + nodes_without_old
        assert new_unavailable <= budget, f"{new_unavailable} new pods unavailable > {budget}"
        if done:
            break
        # Fault injection: now and then delete a random running pod (upstream also makes pods unready).
        if rng.random() < FAULT_RATE:
            candidates = [
                p for by in per_node.values() for p in by["new"] if p.metadata.deletion_timestamp is None
            ]
            if candidates:
                victim = rng.choice(candidates)
                deliberately_deleted.add(victim.metadata.name)
                c.core.delete_namespaced_pod(victim.metadata.name, ns)
        time.sleep(0.2)

    wait_running_on_all_nodes(c, DS_NAME, ns)
    wait_for_history_created(c, ns, labels, 2)
    cur = cur_history(c, ns, DS_NAME)
    assert cur["revision"] == 2 and cur["metadata"]["labels"][REVISION_HASH] == new_hash
    check_pods_hash_label(daemon_pods(c, ds), new_hash)
