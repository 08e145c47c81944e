"""The write path's shortcuts give exactly what the general code gives.

Each fast path added for ``scripts/profile_writes.py`` (one-pass ``fieldsV1`` encoding, the
create tree built from the object, subtree skipping in ``compare``, lazily decoded managedFields,
the store returning the written object without decoding it) is checked here against the general
computation it replaces, which stays in the code. Upstream has no unit tests for these internal
shortcuts; the cases are kubeds' own, chosen for the edges of each rule (index elements, ``"."``
markers, value fields, values equal in Python but not in JSON).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import orjson
import pytest
from conftest import Client, daemonset, node, pod

from kubeds.apiserver import codec
from kubeds.apiserver.apply import fieldmanager, fieldpath, managers, schema, typed
from kubeds.apiserver.handler import APIServer
from kubeds.apiserver.store import GENERATE_ALPHABET, Store
from kubeds.apiserver.validation import names, podspec
from kubeds.models.fielderrors import Path as FieldPath
from kubeds.storage.interface import KeyValue

P = tuple[str, ...]


def _slow_fields_v1(paths: set[P]) -> dict[str, Any]:
    """The general encoding: build the whole tree, then sort every node's children."""
    return fieldpath._encode_node(fieldpath._build_tree(paths))


def _json(value: Any) -> bytes:
    return bytes(orjson.dumps(value))


# ---- to_fields_v1: one pass over sorted paths == tree-and-sort --------------------------------
FIELD_SETS: list[set[P]] = [
    set(),
    {("f:a",)},
    {("f:b",), ("f:a",), ("f:a", "f:z"), ("f:a", "f:c")},  # member parent gets "." first
    {("f:spec", "f:containers", 'k:{"name":"b"}', "f:image"), ("f:spec", "f:containers", 'k:{"name":"a"}')},
    {("f:x", 'v:"b"'), ("f:x", 'v:"a"'), ("f:x", 'k:{"a":1}'), ("f:x", "f:y")},  # f: < k: < v:
    {("f:l", "i:10"), ("f:l", "i:9"), ("f:l", "i:2", "f:a"), ("f:l", "f:b")},  # i: is last, numeric
    {("f:a", "f:b", "f:c"), ("f:a",)},  # a member whose only descendant is two levels down
    {(), ("f:a",)},  # the root as a member: "." at the top, as the general encoding writes it
]


@pytest.mark.parametrize("paths", FIELD_SETS)
def test_to_fields_v1_matches_tree_and_sort(paths: set[P]) -> None:
    fast = fieldpath.to_fields_v1(paths)
    assert _json(fast) == _json(_slow_fields_v1(paths))


def test_to_fields_v1_orders_index_elements_numerically() -> None:
    tree = fieldpath.to_fields_v1({("f:l", "i:10"), ("f:l", "i:9"), ("f:l", "f:b")})
    assert list(tree["f:l"]) == ["f:b", "i:9", "i:10"]


# ---- decode_fields_v1: which trees can be written back as they were read ----------------------
CANONICAL_CASES: list[tuple[dict[str, Any], bool]] = [
    ({"f:a": {}, "f:b": {".": {}, "f:c": {}}}, True),
    ({"f:b": {}, "f:a": {}}, False),  # unsorted children
    ({"f:a": {".": {}}}, False),  # "." on a leaf: re-encodes as {}
    ({"f:a": {"f:c": {}, ".": {}}}, False),  # "." not first
    ({"f:a": {".": {"f:x": {}}, "f:c": {}}}, False),  # "." with content, which decoding ignores
    ({".": {}, "f:a": {}}, False),  # "." at the root, which decoding ignores
    ({"f:l": {"i:2": {}, "i:10": {}}}, True),
    ({"f:l": {"i:10": {}, "i:2": {}}}, False),
    ({"f:l": {"f:z": {}, 'k:{"a":1}': {}, 'v:"a"': {}, "i:0": {}}}, True),
]


@pytest.mark.parametrize(("tree", "canonical"), CANONICAL_CASES)
def test_decode_fields_v1_says_whether_the_tree_is_canonical(tree: dict[str, Any], canonical: bool) -> None:
    paths, got = fieldpath.decode_fields_v1(tree)
    assert got is canonical
    assert paths == fieldpath.from_fields_v1(tree)
    assert (_json(fieldpath.to_fields_v1(paths)) == _json(tree)) is canonical


# ---- compare: equal subtrees are skipped, JSON-different ones are not ------------------------
COMPARE_CASES: list[tuple[dict[str, Any], dict[str, Any], set[P]]] = [
    ({"spec": {"a": 1, "b": [1, 2]}}, {"spec": {"b": [1, 2], "a": 1}}, set()),  # key order only
    ({"spec": {"a": 1}}, {"spec": {"a": 1.0}}, set()),  # Python-equal numbers: equal, as before
    ({"spec": {"a": {"x": 1}}}, {"spec": {"a": {"x": True}}}, {("f:spec", "f:a", "f:x")}),
    ({"spec": {"args": [1]}}, {"spec": {"args": [True]}}, {("f:spec", "f:args")}),  # atomic list
    ({"spec": {"args": [None]}}, {"spec": {"args": [math.nan]}}, {("f:spec", "f:args")}),
]


@pytest.mark.parametrize(("old", "new", "modified"), COMPARE_CASES)
def test_compare_reports_what_changed_in_json(
    old: dict[str, Any], new: dict[str, Any], modified: set[P]
) -> None:
    comparison = typed.compare(old, new, schema.schema_for("ConfigMap"))
    assert comparison.modified == modified
    assert not comparison.added and not comparison.removed


# ---- added_fields_v1: the create tree == encoding of compare({}, obj) --------------------------
def _objects() -> list[tuple[str, dict[str, Any]]]:
    p = pod("p", labels={"a": "b"}, tolerations=[{"operator": "Exists"}], nodeSelector={"k": "v"})
    p["spec"]["containers"][0]["ports"] = [{"containerPort": 80}, {"containerPort": 80, "protocol": "UDP"}]
    p["status"] = {"conditions": [{"type": "Ready", "status": "True"}], "phase": "Running"}
    ds = daemonset()
    ds["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}
    ds["spec"]["template"]["spec"]["affinity"] = {"nodeAffinity": {}}
    n = node("n1", zone="a")
    n["spec"] = {"podCIDRs": ["10.0.0.0/24"], "taints": []}
    n["status"] = {"nodeInfo": {}, "daemonEndpoints": {"kubeletEndpoint": {"Port": 1}}}
    return [("Pod", p), ("DaemonSet", ds), ("Node", n), ("ConfigMap", {"metadata": {}, "data": {}})]


@pytest.mark.parametrize(("kind", "obj"), _objects())
def test_added_fields_v1_matches_compare_then_encode(kind: str, obj: dict[str, Any]) -> None:
    root = schema.schema_for(kind)
    expected = fieldpath.to_fields_v1(typed.compare({}, obj, root).changed())
    assert _json(typed.added_fields_v1(obj, root)) == _json(expected)


@pytest.mark.parametrize("subresource", ["", "status"])
@pytest.mark.parametrize(("kind", "obj"), _objects())
def test_create_tracking_matches_the_general_update_tracking(
    kind: str, obj: dict[str, Any], subresource: str
) -> None:
    obj = {"apiVersion": "v1", "kind": kind, **copy.deepcopy(obj)}
    fast = copy.deepcopy(obj)
    fieldmanager.track_update(None, fast, manager="m", api_version="v1", now="t", subresource=subresource)
    slow = copy.deepcopy(obj)
    entries = fieldmanager._track(
        {},
        fieldmanager._without_managed_fields(slow),
        [],
        root=schema.schema_for(kind),
        manager="m",
        operation="Update",
        api_version="v1",
        now="t",
        subresource=subresource,
    )
    fieldmanager._store(slow, entries)
    assert _json(fast) == _json(slow)


@pytest.mark.parametrize(
    ("tree", "path", "subtree", "expected"),
    [
        ({"f:m": {".": {}, "f:n": {}}}, ("f:m", "f:n"), False, {"f:m": {}}),  # member parent: a leaf again
        ({"f:m": {"f:n": {}}}, ("f:m", "f:n"), False, {}),  # non-member parent goes too
        ({"f:m": {".": {}, "f:n": {}}}, ("f:m",), False, {"f:m": {"f:n": {}}}),  # keeps its children
        ({"f:s": {"f:a": {"f:b": {}}}, "f:t": {}}, ("f:s",), True, {"f:t": {}}),
        ({"f:t": {}}, ("f:s", "f:x"), False, {"f:t": {}}),
    ],
)
def test_drop_from_tree_re_encodes_like_the_set(
    tree: dict[str, Any], path: P, subtree: bool, expected: dict[str, Any]
) -> None:
    paths = fieldpath.from_fields_v1(tree)
    kept = fieldpath.recursive_difference(paths, [path]) if subtree else paths - {path}
    fieldmanager._drop_from_tree(tree, path, subtree=subtree)
    assert tree == expected == fieldpath.to_fields_v1(kept)


# ---- managedFields read lazily: same result, untouched trees written back as read -------------
def _lease(renew: str, holder: str = "n1") -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "n1", "namespace": "kube-node-lease", "labels": {"a": "b"}},
        "spec": {"holderIdentity": holder, "renewTime": renew},
    }


def _tracked_lease() -> dict[str, Any]:
    old = _lease("t0")
    fieldmanager.track_update(None, old, manager="kubelet", api_version="v1", now="t0")
    labeled = copy.deepcopy(old)
    labeled["metadata"]["labels"]["c"] = "d"
    fieldmanager.track_update(old, labeled, manager="kubectl", api_version="v1", now="t1")
    return labeled


@pytest.mark.parametrize(
    ("manager", "change"),
    [
        ("kubelet", lambda o: o["spec"].update(renewTime="t9")),  # owner re-writes its own field
        ("kubelet", lambda o: o["metadata"]["labels"].update(c="e")),  # takes a field from kubectl
        ("other", lambda o: o["spec"].pop("holderIdentity")),  # removal by a third manager
        ("kubelet", lambda o: o.update(spec={"renewTime": "t9"})),  # owner drops one field, sets another
        ("kubectl", lambda o: o["spec"].update(extra={"x": 1})),
    ],
)
def test_lazy_entries_track_like_eager_ones(manager: str, change: Any) -> None:
    old = _tracked_lease()
    managers.remember_canonical(old["metadata"]["managedFields"][0]["fieldsV1"])
    managers.remember_canonical(old["metadata"]["managedFields"][1]["fieldsV1"])
    new = copy.deepcopy(old)
    change(new)
    lazy = copy.deepcopy(new)
    fieldmanager.track_update(old, lazy, manager=manager, api_version="v1", now="t2")
    managers._CANONICAL_TREES.clear()  # now every tree is walked and decoded at once
    eager = copy.deepcopy(new)
    fieldmanager.track_update(old, eager, manager=manager, api_version="v1", now="t2")
    assert _json(lazy) == _json(eager)


def test_untouched_entries_keep_the_tree_they_were_read_with() -> None:
    old = _tracked_lease()
    new = copy.deepcopy(old)
    kubectl_tree = next(e for e in new["metadata"]["managedFields"] if e["manager"] == "kubectl")["fieldsV1"]
    new["spec"]["renewTime"] = "t9"
    fieldmanager.track_update(old, new, manager="kubelet", api_version="v1", now="t2")
    entries = {e["manager"]: e for e in new["metadata"]["managedFields"]}
    assert entries["kubectl"]["fieldsV1"] is kubectl_tree
    assert entries["kubelet"]["time"] == "t2"
    assert entries["kubectl"]["time"] == "t1"


def test_a_non_canonical_tree_sent_by_a_client_is_re_encoded() -> None:
    old = _tracked_lease()
    new = copy.deepcopy(old)
    kubelet = next(e for e in new["metadata"]["managedFields"] if e["manager"] == "kubelet")
    kubelet["fieldsV1"] = dict(reversed(list(kubelet["fieldsV1"].items())))  # children out of order
    fieldmanager.track_update(old, new, manager="kubectl", api_version="v1", now="t2")
    written = next(e for e in new["metadata"]["managedFields"] if e["manager"] == "kubelet")["fieldsV1"]
    assert list(written) == sorted(written)


def test_manager_entry_membership_from_the_tree() -> None:
    tree = {"f:spec": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {"f:x": {}}}}
    entry = managers.ManagerEntry("m", "Update", "v1", tree=tree)
    for path in [("f:spec",), ("f:spec", "f:a"), ("f:metadata", "f:labels", "f:x")]:
        assert entry.has(path)
    for path in [(), ("f:metadata",), ("f:metadata", "f:labels"), ("f:spec", "f:b")]:
        assert not entry.has(path)
    assert entry.fields == fieldpath.from_fields_v1(tree)


# ---- store and codec --------------------------------------------------------------------------
def test_written_is_what_decoding_the_write_gives() -> None:
    obj = {
        "spec": {"x": [1, 2.5, None]},
        "kind": "ConfigMap",
        "metadata": {"resourceVersion": "3", "name": "a"},
    }
    kv = KeyValue(key="/k", value=Store.encode(obj), create_revision=7, mod_revision=9)
    written = Store.written(obj, kv)
    decoded = Store.decode(kv)
    assert written == decoded
    assert _json(written) == _json(decoded)


def test_generated_names_use_upstreams_alphabet() -> None:
    names_seen = {Store._generate_name("kube-proxy-") for _ in range(200)}
    assert len(names_seen) > 190
    for name in names_seen:
        assert name.startswith("kube-proxy-") and len(name) == len("kube-proxy-") + 5
        assert set(name[-5:]) <= set(GENERATE_ALPHABET)


def test_clone_copies_containers_and_shares_scalars() -> None:
    value: dict[str, Any] = {"a": [{"b": "x"}], "s": {1, 2}, "n": None}
    out = codec.clone(value)
    assert out == value
    assert out["a"] is not value["a"] and out["a"][0] is not value["a"][0]
    assert out["s"] is not value["s"]  # a YAML set is mutable: copied too
    out["a"][0]["b"] = "y"
    assert value["a"][0]["b"] == "x"


async def test_put_without_resource_version_retries_with_the_body_as_sent(
    api: APIServer, client: Client
) -> None:
    created = await client.post("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c"}})
    assert created.status == 201
    real_update = api.store.backend.update
    calls = 0

    async def conflict_once(key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        nonlocal calls
        calls += 1
        if calls == 1:  # another manager writes in between: this write conflicts and is retried
            other = orjson.loads(value)
            other["metadata"]["labels"] = {"team": "x"}
            theirs: dict[str, Any] = {"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}
            other["metadata"]["managedFields"].append(
                {"manager": "theirs", "operation": "Update", "apiVersion": "v1", "time": "2026-01-01T00:00:00Z",
                 "fieldsType": "FieldsV1", "fieldsV1": theirs}
            )  # fmt: skip
            await real_update(key, Store.encode(other), expected_revision=expected_revision)
        return await real_update(key, value, expected_revision=expected_revision)

    api.store.backend.update = conflict_once  # type: ignore[method-assign]
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"team": "x"}},
        "data": {"k": "v"},
    }
    reply = await client.put("/api/v1/namespaces/default/configmaps/c", body)
    assert reply.status == 200, reply.body
    assert reply.body["data"] == {"k": "v"}
    # The retry starts again from the body as sent, so the managers come from the stored object.
    assert sorted(e["manager"] for e in reply.body["metadata"]["managedFields"]) == ["kubectl", "theirs"]


# ---- validation: memoised name checks and lazy toleration paths keep their answers -------------
def test_memoised_checks_hand_out_fresh_lists() -> None:
    first = names.is_qualified_name("not valid!")
    first.append("scribbled")
    assert names.is_qualified_name("not valid!") == [m for m in first if m != "scribbled"]
    assert names.is_qualified_name("fine") == []


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"operator": "Exists"}, []),
        ({"key": "a b", "operator": "Exists"}, ["spec.tolerations[0].key"]),
        ({"operator": "Equal", "value": "x"}, ["spec.tolerations[0].operator"]),
        ({"key": "k", "operator": "Exists", "effect": "NoExecut"}, ["spec.tolerations[0].effect"]),
        ({"key": "k", "operator": "In"}, ["spec.tolerations[0].operator"]),
        (
            {"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 1},
            ["spec.tolerations[0].effect"],
        ),
    ],
)
def test_toleration_errors_are_placed_as_before(toleration: dict[str, Any], expected: list[str]) -> None:
    errs = podspec.validate_tolerations([toleration], FieldPath("spec", "tolerations"))
    assert [e.field for e in errs] == expected
