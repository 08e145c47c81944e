"""The garbage collector's graph and graph builder, without an API server.

Tables are ported from upstream ``pkg/controller/garbagecollector``: ``TestProcessEvent`` and
``BenchmarkReferencesDiffs`` (garbagecollector_test.go), ``TestGetAlternateOwnerIdentity``
(graph_builder_test.go), steps of ``TestConflictingData`` (garbagecollector_test.go) and
``TestAbsentOwnerCache``'s LRU expectations (uid_cache_test.go / garbagecollector_test.go).
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.controllers.garbagecollector import GarbageCollectorConfig, graph as g, restmapper
from kubeds.controllers.garbagecollector.graph_builder import EventType, GraphBuilder, GraphEvent


class RecordingQueue:
    """Records what the builder queues (in order, deduplicated like a work queue's dirty set)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.rate_limited: list[str] = []

    def add(self, key: str) -> None:
        if key not in self.items:
            self.items.append(key)

    def add_rate_limited(self, key: str) -> None:
        self.rate_limited.append(key)


def builder() -> tuple[GraphBuilder, RecordingQueue, RecordingQueue]:
    deletes, orphans = RecordingQueue(), RecordingQueue()
    return GraphBuilder(attempt_to_delete=deletes, attempt_to_orphan=orphans), deletes, orphans


def ident(api_version: str, kind: str, namespace: str, name: str, uid: str) -> g.ObjectReference:
    return g.ObjectReference(api_version=api_version, kind=kind, name=name, uid=uid, namespace=namespace)


def ref_to(owner: g.ObjectReference, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": owner.api_version,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        **extra,
    }


def obj(identity: g.ObjectReference, *owners: g.ObjectReference, **meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": identity.name, "uid": identity.uid, **meta}
    if identity.namespace:
        metadata["namespace"] = identity.namespace
    if owners:
        metadata["ownerReferences"] = [ref_to(o) for o in owners]
    return {"apiVersion": identity.api_version, "kind": identity.kind, "metadata": metadata}


def event(
    kind: EventType, identity: g.ObjectReference, *owners: g.ObjectReference, **meta: Any
) -> GraphEvent:
    return GraphEvent(kind, obj(identity, *owners, **meta), identity.api_version, identity.kind)


def pod_event(kind: EventType, uid: str, owners: list[str]) -> GraphEvent:
    """Upstream ``createEvent``: a pod whose ownerReferences carry only uids."""
    body = {"metadata": {"uid": uid, "ownerReferences": [{"uid": o} for o in owners]}}
    return GraphEvent(kind, body, "v1", "Pod")


def verify_graph_invariants(b: GraphBuilder) -> None:
    """Upstream ``verifyGraphInvariants``: owner and dependent links agree both ways."""
    for uid, node in b.uid_to_node.items():
        for dep in node.dependents.values():
            assert any(ref.get("uid") == uid for ref in dep.owners), (
                f"{dep} listed under {node} without a ref"
            )
        for ref in node.owners:
            owner = b.uid_to_node.get(str(ref.get("uid")))
            if owner is not None:
                assert owner.dependents.get(node.uid) is node, f"{node} missing from {owner}'s dependents"


ADD, UPDATE, DELETE = EventType.ADD, EventType.UPDATE, EventType.DELETE


# upstream TestProcessEvent
@pytest.mark.parametrize(
    "events",
    [
        pytest.param([(ADD, "1", []), (ADD, "2", ["1"]), (ADD, "3", ["1", "2"])], id="test1"),
        pytest.param(
            [
                (ADD, "1", []),
                (ADD, "2", ["1"]),
                (ADD, "3", ["1", "2"]),
                (ADD, "4", ["2"]),
                (DELETE, "2", ["x"]),
            ],
            id="test2",
        ),
        pytest.param(
            [
                (ADD, "1", []),
                (ADD, "2", ["1"]),
                (ADD, "3", ["1", "2"]),
                (ADD, "4", ["3"]),
                (UPDATE, "2", ["4"]),
            ],
            id="test3",
        ),
        pytest.param(
            [
                (ADD, "4", ["2"]),
                (ADD, "3", ["1", "2"]),
                (ADD, "2", ["1"]),
                (ADD, "1", []),
                (DELETE, "2", ["x"]),
            ],
            id="reverse test2",
        ),
    ],
)
def test_process_event_keeps_graph_invariants(events: list[tuple[EventType, str, list[str]]]) -> None:
    b, _, _ = builder()
    for kind, uid, owners in events:
        b.enqueue(pod_event(kind, uid, owners))
        b.process_graph_changes()
        verify_graph_invariants(b)


def test_process_event_final_shape_of_reverse_test2() -> None:
    # "reverse test2" with full coordinates: virtual owners become observed without re-verification.
    b, deletes, _ = builder()
    p1, p2, p3, p4 = (ident("v1", "Pod", "ns1", f"pod{i}", str(i)) for i in (1, 2, 3, 4))
    for identity, owners in [(p4, [p2]), (p3, [p1, p2]), (p2, [p1]), (p1, [])]:
        b.process_event(event(ADD, identity, *owners))
    assert not any(n.virtual for n in b.uid_to_node.values())
    assert sorted(b.uid_to_node["2"].dependents) == ["3", "4"]
    assert deletes.items == ["2", "1"]  # only the virtual owners, queued for verification
    deletes.items.clear()
    b.process_event(event(DELETE, p2, p1))
    assert "2" not in b.uid_to_node
    assert deletes.items == ["3", "4"]  # the deleted owner's dependents
    assert sorted(b.uid_to_node["1"].dependents) == ["3"]
    verify_graph_invariants(b)


def test_uid_only_references_do_not_match_observed_coordinates() -> None:
    # upstream createEvent builds references with only a uid: observing the owner re-verifies them.
    b, deletes, _ = builder()
    b.process_event(pod_event(ADD, "3", ["2"]))
    deletes.items.clear()
    b.process_event(GraphEvent(ADD, obj(ident("v1", "Pod", "", "two", "2")), "v1", "Pod"))
    assert deletes.items == ["3"]


# upstream BenchmarkReferencesDiffs inputs, plus a changed reference
@pytest.mark.parametrize(
    ("old", "new", "added", "removed", "changed"),
    [
        ([{"uid": "1"}, {"uid": "2"}], [{"uid": "2"}, {"uid": "3"}], ["3"], ["1"], []),
        ([{"uid": "1"}], [{"uid": "1"}], [], [], []),
        (
            [{"uid": "1", "blockOwnerDeletion": True}],
            [{"uid": "1", "blockOwnerDeletion": False}],
            [],
            [],
            ["1"],
        ),
        ([], [{"uid": "1"}], ["1"], [], []),
        ([{"uid": "1"}], [], [], ["1"], []),
    ],
)
def test_references_diffs(
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    added: list[str],
    removed: list[str],
    changed: list[str],
) -> None:
    got_added, got_removed, got_changed = g.references_diffs(old, new)
    assert [r["uid"] for r in got_added] == added
    assert [r["uid"] for r in got_removed] == removed
    assert [n["uid"] for _, n in got_changed] == changed


OWNER = ident("apps/v1", "DaemonSet", "default", "ds", "ds-uid")
POD1 = ident("v1", "Pod", "default", "pod-1", "pod-uid-1")
POD2 = ident("v1", "Pod", "default", "pod-2", "pod-uid-2")


def test_unknown_owner_becomes_a_queued_virtual_node() -> None:
    b, deletes, _ = builder()
    b.process_event(event(ADD, POD1, OWNER))
    owner = b.uid_to_node[OWNER.uid]
    assert owner.virtual and owner.identity == OWNER
    assert deletes.items == [OWNER.uid]
    # Observing it makes it real; its dependents agree with its coordinates, so nothing more is queued.
    b.process_event(event(ADD, OWNER))
    assert not b.uid_to_node[OWNER.uid].virtual
    assert deletes.items == [OWNER.uid]


def test_orphan_deletion_queues_owner_for_orphaning_once() -> None:
    b, deletes, orphans = builder()
    b.process_event(event(ADD, OWNER))
    b.process_event(event(ADD, POD1, OWNER))
    deleting = {"deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["orphan"]}
    b.process_event(GraphEvent(UPDATE, obj(OWNER, **deleting), "apps/v1", "DaemonSet", old=obj(OWNER)))
    assert orphans.items == [OWNER.uid]
    assert deletes.items == []
    # A later update of the same deleting object is not a new transition.
    orphans.items.clear()
    b.process_event(
        GraphEvent(UPDATE, obj(OWNER, **deleting), "apps/v1", "DaemonSet", old=obj(OWNER, **deleting))
    )
    assert orphans.items == []


def test_foreground_deletion_queues_dependents_then_owner() -> None:
    b, deletes, _ = builder()
    b.process_event(event(ADD, OWNER))
    b.process_event(event(ADD, POD1, OWNER))
    b.process_event(event(ADD, POD2, OWNER))
    deleting = {"deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["foregroundDeletion"]}
    b.process_event(GraphEvent(UPDATE, obj(OWNER, **deleting), "apps/v1", "DaemonSet", old=obj(OWNER)))
    node = b.uid_to_node[OWNER.uid]
    assert node.deleting_dependents and node.being_deleted
    assert deletes.items == [POD1.uid, POD2.uid, OWNER.uid]


def test_dependent_seen_after_foreground_deletion_started_is_queued() -> None:
    b, deletes, _ = builder()
    deleting = {"deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["foregroundDeletion"]}
    b.process_event(event(ADD, OWNER, **deleting))
    assert b.uid_to_node[OWNER.uid].deleting_dependents
    b.process_event(event(ADD, POD1, OWNER))
    assert POD1.uid in deletes.items


def test_owner_delete_caches_absence_and_queues_dependents_and_waiting_owners() -> None:
    b, deletes, _ = builder()
    top = ident("apps/v1", "Deployment", "default", "top", "top-uid")
    deleting = {"deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["foregroundDeletion"]}
    b.process_event(event(ADD, top, **deleting))
    b.process_event(event(ADD, OWNER, top))
    b.process_event(event(ADD, POD1, OWNER))
    deletes.items.clear()
    b.process_event(event(DELETE, OWNER, top))
    assert OWNER.uid not in b.uid_to_node
    assert b.absent_owner_cache.has(OWNER)
    assert deletes.items == [POD1.uid, top.uid]
    assert b.uid_to_node[top.uid].dependents == {}


def test_removing_a_blocking_reference_queues_the_waiting_owner() -> None:
    b, deletes, _ = builder()
    b.process_event(event(ADD, OWNER))
    blocking = obj(POD1)
    blocking["metadata"]["ownerReferences"] = [ref_to(OWNER, blockOwnerDeletion=True)]
    b.process_event(GraphEvent(ADD, blocking, "v1", "Pod"))
    unblocked = obj(POD1)
    unblocked["metadata"]["ownerReferences"] = [ref_to(OWNER, blockOwnerDeletion=False)]
    b.process_event(GraphEvent(UPDATE, unblocked, "v1", "Pod", old=blocking))
    assert deletes.items == [OWNER.uid]
    assert b.uid_to_node[OWNER.uid].blocking_dependents() == []


def test_virtual_delete_removes_virtual_owner_and_queues_its_dependents() -> None:
    b, deletes, _ = builder()
    b.process_event(event(ADD, POD1, OWNER))
    deletes.items.clear()
    b.enqueue_virtual_delete_event(OWNER)
    b.process_graph_changes()
    assert OWNER.uid not in b.uid_to_node
    assert b.absent_owner_cache.has(OWNER)
    assert deletes.items == [POD1.uid]


def test_virtual_delete_never_removes_an_observed_node_under_other_coordinates() -> None:
    # A pod names the DaemonSet's uid with a stale name: only that pod is verified, the owner stays.
    b, deletes, _ = builder()
    b.process_event(event(ADD, OWNER))
    stale = ident("apps/v1", "DaemonSet", "default", "old-name", OWNER.uid)
    b.process_event(event(ADD, POD1, stale))
    assert deletes.items == [POD1.uid]  # the reference does not match the observed coordinates
    deletes.items.clear()
    b.enqueue_virtual_delete_event(stale)
    b.process_graph_changes()
    assert OWNER.uid in b.uid_to_node
    assert b.absent_owner_cache.has(stale)
    assert deletes.items == [POD1.uid]


# upstream TestConflictingData: "bad child in ns1 -> owner in ns2 (owner first)", steps 2-5
def test_cross_namespace_reference_to_observed_owner_queues_the_child() -> None:
    b, deletes, _ = builder()
    pod2ns2 = ident("v1", "Pod", "ns2", "podname2", "poduid2")
    pod1ns1 = ident("v1", "Pod", "ns1", "podname1", "poduid1")
    pod2ns1 = ident("v1", "Pod", "ns1", "podname2", "poduid2")
    b.process_event(event(ADD, pod2ns2))
    assert deletes.items == []
    b.process_event(event(ADD, pod1ns1, pod2ns1))
    assert deletes.items == [pod1ns1.uid]
    assert b.uid_to_node[pod2ns2.uid].identity == pod2ns2


# upstream TestConflictingData: "bad cluster-scoped child -> owner in ns1 (child first)", steps 2-7
def test_virtual_owner_coordinates_are_corrected_when_observed() -> None:
    b, deletes, _ = builder()
    node1 = ident("v1", "Node", "", "nodename", "nodeuid1")
    pod1nonamespace = ident("v1", "Pod", "", "podname1", "poduid1")
    pod1ns1 = ident("v1", "Pod", "ns1", "podname1", "poduid1")
    b.process_event(event(ADD, node1, pod1nonamespace))
    virtual = b.uid_to_node[pod1ns1.uid]
    assert virtual.virtual and virtual.identity == pod1nonamespace
    assert deletes.items == [pod1ns1.uid]
    deletes.items.clear()
    b.process_event(event(ADD, pod1ns1))
    corrected = b.uid_to_node[pod1ns1.uid]
    assert not corrected.virtual and corrected.identity == pod1ns1
    assert deletes.items == [node1.uid]  # the bad cluster-scoped child is queued for verification
    verify_graph_invariants(b)


def _make_id(api_version: str, kind: str, namespace: str, name: str, uid: str) -> g.ObjectReference:
    return ident(api_version, kind, namespace, name, uid)


def _dep(child: g.ObjectReference, *owners: g.ObjectReference) -> g.Node:
    return g.Node(child, owners=[ref_to(o) for o in owners])


NS1CHILD1 = _make_id("v1", "Child", "ns1", "child1", "childuid11")
NS1CHILD2 = _make_id("v1", "Child", "ns1", "child2", "childuid12")
NS2CHILD1 = _make_id("v1", "Child", "ns2", "child1", "childuid21")
CLUSTERCHILD1 = _make_id("v1", "Child", "", "child1", "childuidc1")
NSABSENT_NS1 = _make_id("v1", "NSParent", "ns1", "parentname", "parentuid")
NSABSENT_NS2 = _make_id("v1", "NSParent", "ns2", "parentname", "parentuid")
NSABSENT_VERSION = _make_id("xx", "NSParent", "ns1", "parentname", "parentuid")
NSABSENT_KIND = _make_id("v1", "xxxxxxxx", "ns1", "parentname", "parentuid")
NSABSENT_NAME = _make_id("v1", "NSParent", "ns1", "xxxxxxxxxx", "parentuid")
CLUSTERABSENT = _make_id("v1", "ClusterParent", "", "parentname", "parentuid")
CLUSTERABSENT_VERSION = _make_id("xx", "ClusterParent", "", "parentname", "parentuid")
CLUSTERABSENT_KIND = _make_id("v1", "xxxxxxxxxxxxx", "", "parentname", "parentuid")
CLUSTERABSENT_NAME = _make_id("v1", "ClusterParent", "", "xxxxxxxxxx", "parentuid")
CLUSTERABSENT_NS1_VERSION = _make_id("xx", "ClusterParent", "ns1", "parentname", "parentuid")
CLUSTERABSENT_NS1_KIND = _make_id("v1", "xxxxxxxxxxxxx", "ns1", "parentname", "parentuid")
ORDERED_NS = [_make_id(f"v{i}", "kind", "ns1", "name", "uid") for i in range(1, 6)]
ORDERED_CLUSTER = [_make_id(f"v{i}", "kind", "", "name", "uid") for i in range(1, 6)]


# upstream TestGetAlternateOwnerIdentity
@pytest.mark.parametrize(
    ("deps", "absent", "expected"),
    [
        pytest.param(
            [_dep(NS1CHILD1, NSABSENT_NS1), _dep(NS1CHILD2, NSABSENT_VERSION)],
            NSABSENT_NS1,
            NSABSENT_VERSION,
            id="namespaced alternate version",
        ),
        pytest.param(
            [_dep(NS1CHILD1, NSABSENT_NS1), _dep(NS1CHILD2, NSABSENT_KIND)],
            NSABSENT_NS1,
            NSABSENT_KIND,
            id="namespaced alternate kind",
        ),
        pytest.param(
            [_dep(NS1CHILD1, NSABSENT_NS1), _dep(NS2CHILD1, NSABSENT_NS2)],
            NSABSENT_NS1,
            NSABSENT_NS2,
            id="namespaced alternate namespace",
        ),
        pytest.param(
            [_dep(NS1CHILD1, NSABSENT_NS1), _dep(NS1CHILD1, NSABSENT_NAME)],
            NSABSENT_NS1,
            NSABSENT_NAME,
            id="namespaced alternate name",
        ),
        pytest.param(
            [_dep(NS1CHILD1, CLUSTERABSENT), _dep(NS1CHILD2, CLUSTERABSENT_VERSION)],
            CLUSTERABSENT,
            CLUSTERABSENT_NS1_VERSION,
            id="cluster alternate version",
        ),
        pytest.param(
            [_dep(NS1CHILD1, CLUSTERABSENT), _dep(NS1CHILD2, CLUSTERABSENT_KIND)],
            CLUSTERABSENT,
            CLUSTERABSENT_NS1_KIND,
            id="cluster alternate kind",
        ),
        pytest.param(
            [_dep(NS1CHILD1, CLUSTERABSENT), _dep(NS2CHILD1, CLUSTERABSENT)],
            CLUSTERABSENT,
            None,
            id="cluster alternate namespace",
        ),
        pytest.param(
            [_dep(NS1CHILD1, CLUSTERABSENT), _dep(NS1CHILD1, CLUSTERABSENT_NAME)],
            CLUSTERABSENT,
            CLUSTERABSENT_NAME,
            id="cluster alternate name",
        ),
        pytest.param(
            [_dep(NS1CHILD1, *ORDERED_NS)],
            ORDERED_NS[-1],
            ORDERED_NS[0],
            id="namespaced ref from namespaced child returns first if absent is sorted last",
        ),
        pytest.param(
            [_dep(NS1CHILD1, *ORDERED_NS)],
            ORDERED_NS[-2],
            ORDERED_NS[-1],
            id="namespaced ref from namespaced child returns next after absent",
        ),
        pytest.param(
            [_dep(CLUSTERCHILD1, *ORDERED_CLUSTER)],
            ORDERED_CLUSTER[-1],
            ORDERED_CLUSTER[0],
            id="cluster ref from cluster child returns first if absent is sorted last",
        ),
        pytest.param(
            [_dep(CLUSTERCHILD1, *ORDERED_CLUSTER)],
            ORDERED_CLUSTER[-2],
            ORDERED_CLUSTER[-1],
            id="cluster ref from cluster child returns next after absent",
        ),
        pytest.param(
            [_dep(NS1CHILD1, CLUSTERABSENT, _make_id("v1", "Parent", "ns1", "name", "anotheruid"))],
            CLUSTERABSENT,
            None,
            id="ignore unrelated",
        ),
        pytest.param(
            [_dep(NS1CHILD1, CLUSTERABSENT, CLUSTERABSENT)], CLUSTERABSENT, None, id="ignore matches"
        ),
        pytest.param(
            [_dep(CLUSTERCHILD1, CLUSTERABSENT, CLUSTERABSENT_KIND, CLUSTERABSENT_KIND)],
            CLUSTERABSENT,
            CLUSTERABSENT_KIND,
            id="collapse duplicates",
        ),
    ],
)
def test_get_alternate_owner_identity(
    deps: list[g.Node], absent: g.ObjectReference, expected: g.ObjectReference | None
) -> None:
    assert g.get_alternate_owner_identity(deps, absent) == expected


def test_reference_cache_evicts_least_recently_used() -> None:
    # upstream TestAbsentOwnerCache's expectation: with room for 2, touching rc1 keeps it and evicts rc2.
    rc1, rc2, rc3 = (ident("v1", "ReplicationController", "ns1", f"rc{i}", str(i)) for i in (1, 2, 3))
    cache = g.ReferenceCache(2)
    cache.add(rc1)
    cache.add(rc2)
    assert cache.has(rc1)
    cache.add(rc3)
    assert cache.has(rc1) and cache.has(rc3) and not cache.has(rc2)
    assert len(cache) == 2


def test_blocking_dependents_and_unblock_patch() -> None:
    # upstream TestUnblockOwnerReference's input: only the blocking reference is rewritten.
    owner = g.Node(ident("v1", "Pod", "ns1", "owner", "1"))
    dep = g.Node(
        ident("v1", "Pod", "ns1", "dep", "100"),
        owners=[
            {"uid": "1", "blockOwnerDeletion": True},
            {"uid": "2", "blockOwnerDeletion": False},
            {"uid": "3"},
        ],
    )
    owner.dependents[dep.uid] = dep
    assert owner.blocking_dependents() == [dep]
    assert dep.unblock_owner_references_patch() == {
        "metadata": {"ownerReferences": [{"uid": "1", "blockOwnerDeletion": False}], "uid": "100"}
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"workers": 0}, id="no workers"),
        pytest.param({"orphan_concurrency": 0}, id="no orphan concurrency"),
        pytest.param({"absent_owner_cache_size": 0}, id="no absent-owner cache"),
        pytest.param({"resources": ()}, id="nothing to monitor"),
        pytest.param(
            {"resources": (restmapper.ResourceMapping("example.com/v1", "Widget", "widgets", True),)},
            id="unserved kind",
        ),
    ],
)
def test_config_rejects_invalid_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises((ValueError, restmapper.RESTMappingError)):
        GarbageCollectorConfig(**kwargs)


def test_restmapper_scopes() -> None:
    assert restmapper.lookup("v1", "Node").namespaced is False
    assert restmapper.lookup("apps/v1", "DaemonSet").plural == "daemonsets"
    with pytest.raises(
        restmapper.RESTMappingError, match=r"unable to get REST mapping for DaemonSet\.extensions/v1beta1"
    ):
        restmapper.lookup("extensions/v1beta1", "DaemonSet")
    monitored = {(m.api_version, m.plural) for m in restmapper.DEFAULT_MONITORED}
    assert ("v1", "events") not in monitored and ("v1", "pods") in monitored
