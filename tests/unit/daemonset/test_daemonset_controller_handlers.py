"""Event handlers and failed-pod backoff of the DaemonSet controller, without an API server.

Ported from upstream ``daemon_controller_test.go``: TestAddNode, TestUpdateNode (table),
TestShouldIgnoreNodeUpdate, TestAddPod, TestAddPodOrphan, TestUpdatePod, TestUpdatePodOrphanSameLabels,
TestUpdatePodOrphanWithNewLabels, TestUpdatePodChangeControllerRef, TestUpdatePodControllerRefRemoved,
TestDeletePod, TestDeletePodOrphan, TestExpectationsOnRecreate (the delete half), and the
ControllerRevision handler rules; the backoff table follows TestDaemonKillFailedPodsBackoff and
client-go ``flowcontrol/backoff_test.go``.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from kubeds.clock import FakeClock
from kubeds.controllers.daemonset.backoff import FailedPodBackoff
from kubeds.controllers.daemonset.handlers import (
    DaemonSetEventHandlers,
    PlacementCache,
    should_ignore_node_update,
)
from kubeds.machinery.cache import NAMESPACE_INDEX, Indexer, index_by_namespace
from kubeds.machinery.expectations import ControllerExpectations

LABELS = {"name": "simple-daemon", "type": "production"}
_uids = itertools.count()


def ds(
    name: str, *, labels: dict[str, str] | None = None, node_selector: dict[str, str] | None = None
) -> dict[str, Any]:
    sel = dict(labels or LABELS)
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{next(_uids)}",
            "resourceVersion": "1",
        },
        "spec": {
            "selector": {"matchLabels": sel},
            "template": {"metadata": {"labels": sel}, "spec": spec},
            "minReadySeconds": 0,
        },
    }


def owner(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": d["metadata"]["name"],
        "uid": d["metadata"]["uid"],
        "controller": True,
    }


def pod(
    name: str, *, labels: dict[str, str] | None = None, ref: dict[str, Any] | None = None, rv: str = "1"
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "labels": dict(labels or LABELS),
        "resourceVersion": rv,
    }
    if ref is not None:
        meta["ownerReferences"] = [ref]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": "node-0"}, "status": {}}


def node(
    name: str, labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": dict(labels or {}), "resourceVersion": "1"},
        "spec": {"taints": taints or []},
    }


class Harness:
    def __init__(self, *daemonsets: dict[str, Any]) -> None:
        self.indexer = Indexer({NAMESPACE_INDEX: index_by_namespace})
        for d in daemonsets:
            self.indexer.add(d)
        self.clock = FakeClock()
        self.expectations = ControllerExpectations(clock=self.clock)
        self.queued: list[str] = []
        self.delayed: list[tuple[str, float]] = []
        self.handlers = DaemonSetEventHandlers(
            daemonsets=self.indexer,
            expectations=self.expectations,
            enqueue=self.queued.append,
            enqueue_after=lambda k, s: self.delayed.append((k, s)),
            placements=PlacementCache(),
        )

    def keys(self) -> set[str]:
        return set(self.queued)


def test_add_node_enqueues_only_daemonsets_that_should_run_there() -> None:
    everywhere = ds("everywhere")
    blue_only = ds("blue-only", node_selector={"color": "blue"})
    h = Harness(everywhere, blue_only)
    h.handlers.add_node(node("n1"))
    assert h.queued == ["default/everywhere"]
    h.queued.clear()
    h.handlers.add_node(node("n2", {"color": "blue"}))
    assert h.keys() == {"default/everywhere", "default/blue-only"}


NO_SCHEDULE = [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]
NO_EXECUTE = [{"key": "dedicated", "value": "user1", "effect": "NoExecute"}]


@pytest.mark.parametrize(
    ("old", "new", "ds_selector", "enqueued"),
    [
        # upstream TestUpdateNode cases.
        (node("n"), node("n"), None, False),  # nothing changed
        (node("n"), node("n", {"color": "blue"}), {"color": "blue"}, True),  # now selected
        (node("n", {"color": "blue"}), node("n"), {"color": "blue"}, True),  # no longer selected
        (node("n"), node("n", {"other": "x"}), None, False),  # labels changed, placement did not
        (node("n"), node("n", taints=NO_SCHEDULE), None, True),  # shouldRun flips
        (node("n", taints=NO_SCHEDULE), node("n", taints=NO_EXECUTE), None, True),  # continue-running flips
    ],
)
def test_update_node_enqueues_when_placement_changes(
    old: dict[str, Any], new: dict[str, Any], ds_selector: dict[str, str] | None, enqueued: bool
) -> None:
    h = Harness(ds("foo", node_selector=ds_selector))
    h.handlers.update_node(old, new)
    assert (h.queued == ["default/foo"]) is enqueued


def test_update_node_ignores_status_only_changes() -> None:
    old = node("n", {"color": "blue"})
    new = copy.deepcopy(old)
    new["metadata"]["resourceVersion"] = "2"
    new["status"] = {"allocatable": {"pods": "10"}, "conditions": [{"type": "Ready", "status": "False"}]}
    new["metadata"]["annotations"] = {"x": "y"}
    assert should_ignore_node_update(old, new)
    assert not should_ignore_node_update(old, node("n", {"color": "red"}))
    assert not should_ignore_node_update(old, node("n", {"color": "blue"}, NO_SCHEDULE))


def test_add_pod_owned_observes_creation_and_enqueues_only_the_owner() -> None:
    foo1, foo2 = ds("foo1"), ds("foo2")
    h = Harness(foo1, foo2)
    h.expectations.set_expectations("default/foo1", 1, 0)
    h.handlers.add_pod(pod("p", ref=owner(foo1)))
    assert h.queued == ["default/foo1"]
    assert h.expectations.satisfied_expectations("default/foo1")


def test_add_pod_owned_by_a_stale_uid_is_ignored() -> None:
    foo = ds("foo")
    h = Harness(foo)
    stale = owner(foo) | {"uid": "someone-else"}
    h.handlers.add_pod(pod("p", ref=stale))
    assert h.queued == []


def test_add_pod_orphan_enqueues_every_matching_daemonset() -> None:
    foo1, foo2 = ds("foo1"), ds("foo2")
    foo3 = ds("foo3", labels={"name": "other"})
    h = Harness(foo1, foo2, foo3)
    h.handlers.add_pod(pod("p"))
    assert h.keys() == {"default/foo1", "default/foo2"}


def test_update_pod_rules() -> None:
    foo1, foo2 = ds("foo1"), ds("foo2")
    h = Harness(foo1, foo2)
    # Same resourceVersion: a resync, ignored.
    h.handlers.update_pod(pod("p", ref=owner(foo1)), pod("p", ref=owner(foo1)))
    assert h.queued == []
    # Owned: only the owner.
    h.handlers.update_pod(pod("p", ref=owner(foo1)), pod("p", ref=owner(foo1), rv="2"))
    assert h.queued == ["default/foo1"]
    h.queued.clear()
    # Orphan with the same labels: nothing; with new labels: every match.
    h.handlers.update_pod(pod("p"), pod("p", rv="2"))
    assert h.queued == []
    h.handlers.update_pod(pod("p", labels={"x": "y"}), pod("p", rv="2"))
    assert h.keys() == {"default/foo1", "default/foo2"}
    h.queued.clear()
    # Controller ref changed: old and new owner.
    h.handlers.update_pod(pod("p", ref=owner(foo1)), pod("p", ref=owner(foo2), rv="2"))
    assert h.keys() == {"default/foo1", "default/foo2"}
    h.queued.clear()
    # Controller ref removed: the old owner, and the matching DaemonSets for adoption.
    h.handlers.update_pod(pod("p", ref=owner(foo1)), pod("p", rv="2"))
    assert h.keys() == {"default/foo1", "default/foo2"}


def test_update_pod_becoming_ready_requeues_after_min_ready_seconds() -> None:
    foo = ds("foo")
    foo["spec"]["minReadySeconds"] = 10
    h = Harness(foo)
    old = pod("p", ref=owner(foo))
    new = pod("p", ref=owner(foo), rv="2")
    new["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    h.handlers.update_pod(old, new)
    assert h.queued == ["default/foo"]
    assert h.delayed == [("default/foo", 11.0)]


def test_update_pod_starting_graceful_deletion_counts_as_deleted() -> None:
    foo = ds("foo")
    h = Harness(foo)
    h.expectations.set_expectations("default/foo", 0, 1)
    terminating = pod("p", ref=owner(foo), rv="2")
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:30Z"
    h.handlers.update_pod(pod("p", ref=owner(foo)), terminating)
    assert h.queued == ["default/foo"]
    assert h.expectations.satisfied_expectations("default/foo")


def test_delete_pod_owned_and_orphan() -> None:
    foo = ds("foo")
    h = Harness(foo)
    h.expectations.set_expectations("default/foo", 0, 1)
    h.handlers.delete_pod(pod("orphan"))
    assert h.queued == []
    h.handlers.delete_pod(pod("p", ref=owner(foo)))
    assert h.queued == ["default/foo"]
    assert h.expectations.satisfied_expectations("default/foo")


def test_daemonset_delete_drops_expectations_and_uid_change_is_a_delete() -> None:
    foo = ds("foo")
    h = Harness(foo)
    h.expectations.set_expectations("default/foo", 3, 0)
    recreated = copy.deepcopy(foo)
    recreated["metadata"]["uid"] = "new-uid"
    h.handlers.update_daemonset(foo, recreated)
    assert h.expectations.get_expectations("default/foo") is None
    assert h.queued == ["default/foo", "default/foo"]


def test_history_handlers() -> None:
    foo1, foo2 = ds("foo1"), ds("foo2")
    h = Harness(foo1, foo2)
    owned = pod("r", ref=owner(foo1)) | {"kind": "ControllerRevision"}
    h.handlers.add_history(owned)
    assert h.queued == []  # an owned revision's add never enqueues (ControllerRevision conformance)
    h.handlers.add_history(pod("r") | {"kind": "ControllerRevision"})
    assert h.keys() == {"default/foo1", "default/foo2"}
    h.queued.clear()
    h.handlers.update_history(owned, pod("r", ref=owner(foo1), rv="2"))
    assert h.queued == ["default/foo1"]
    h.queued.clear()
    h.handlers.delete_history(owned)
    assert h.queued == ["default/foo1"]
    h.queued.clear()
    h.handlers.delete_history(pod("r"))
    assert h.queued == []


# --- failed-pod backoff ----------------------------------------------------------------------------


def test_backoff_gates_until_the_delay_has_passed_then_doubles_to_the_cap() -> None:
    clock = FakeClock()
    b = FailedPodBackoff(initial=1.0, maximum=4.0, clock=clock)
    key = "uid/1/node-0"
    assert not b.is_in_backoff_since_update(key, clock.monotonic())
    b.next(key, clock.monotonic())
    assert b.get(key) == 1.0
    assert b.is_in_backoff_since_update(key, clock.monotonic())
    clock.advance(0.999)
    assert b.is_in_backoff_since_update(key, clock.monotonic())
    clock.advance(0.001)
    assert not b.is_in_backoff_since_update(key, clock.monotonic())
    delays = []
    for _ in range(4):
        b.next(key, clock.monotonic())
        delays.append(b.get(key))
    assert delays == [2.0, 4.0, 4.0, 4.0]


def test_backoff_entry_expires_after_twice_the_maximum_and_is_collected() -> None:
    clock = FakeClock()
    b = FailedPodBackoff(initial=1.0, maximum=4.0, clock=clock)
    b.next("k", clock.monotonic())
    b.next("k", clock.monotonic())
    assert b.get("k") == 2.0
    clock.advance(8.5)
    assert not b.is_in_backoff_since_update("k", clock.monotonic())
    b.next("k", clock.monotonic())
    assert b.get("k") == 1.0  # restarted from the initial delay
    clock.advance(8.5)
    b.gc()
    assert len(b) == 0 and b.get("k") == 0.0
