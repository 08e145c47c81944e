"""Keys and the indexed store (client-go tools/cache store_test.go / index_test.go / thread_safe_store_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.machinery import cache


def _obj(name: str, namespace: str = "", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra.pop("metadata", {}))
    return {"metadata": meta, **extra}


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        pytest.param(_obj("foo", "bar"), "bar/foo", id="namespaced"),
        pytest.param(_obj("node-1"), "node-1", id="cluster-scoped"),
    ],
)
def test_meta_namespace_key(obj: dict[str, Any], key: str) -> None:
    assert cache.meta_namespace_key(obj) == key


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ns/name", ("ns", "name")),
        ("name", ("", "name")),
        ("/name", ("", "name")),
    ],
)
def test_split_meta_namespace_key(key: str, expected: tuple[str, str]) -> None:
    assert cache.split_meta_namespace_key(key) == expected


def test_split_meta_namespace_key_rejects_extra_slashes() -> None:
    with pytest.raises(ValueError, match="unexpected key format: 'a/b/c'"):
        cache.split_meta_namespace_key("a/b/c")


def _pod(name: str, *, node: str = "", owner_uid: str = "", controller: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if owner_uid:
        meta["ownerReferences"] = [
            {"kind": "DaemonSet", "name": "ds", "uid": owner_uid, "controller": controller}
        ]
    spec = {"nodeName": node} if node else {}
    return _obj(name, "default", metadata=meta, spec=spec)


def test_store_add_update_delete_get_list() -> None:
    store = cache.Indexer()
    a, b = _obj("a", "ns"), _obj("b")
    store.add(a)
    store.add(b)
    assert store.get("ns/a") is a
    assert store.get(_obj("a", "ns")) is a
    assert store.get_by_key("b") is b
    assert sorted(store.keys()) == ["b", "ns/a"]
    a2 = _obj("a", "ns", spec={"x": 1})
    store.update(a2)
    assert store.get("ns/a") is a2
    assert len(store.list()) == 2
    store.delete(_obj("a", "ns"))
    assert store.get("ns/a") is None
    store.delete(_obj("missing"))  # no error
    assert store.keys() == ["b"]


def test_index_by_node_name_follows_updates_and_deletes() -> None:
    store = cache.Indexer({"nodeName": cache.index_by_node_name})
    store.add(_pod("p1", node="n1"))
    store.add(_pod("p2", node="n1"))
    store.add(_pod("p3"))  # unscheduled: not indexed
    assert [cache.meta_namespace_key(p) for p in store.by_index("nodeName", "n1")] == [
        "default/p1",
        "default/p2",
    ]
    store.update(_pod("p2", node="n2"))
    assert store.index_keys("nodeName", "n1") == ["default/p1"]
    assert store.index_keys("nodeName", "n2") == ["default/p2"]
    store.delete(_pod("p1"))
    assert store.by_index("nodeName", "n1") == []
    assert store.list_index_values("nodeName") == ["n2"]


def test_index_by_controller_uid_ignores_non_controller_owners() -> None:
    store = cache.Indexer({"controller": cache.index_by_controller_uid})
    store.add(_pod("owned", owner_uid="u1"))
    store.add(_pod("weak", owner_uid="u1", controller=False))
    store.add(_pod("orphan"))
    assert store.index_keys("controller", "u1") == ["default/owned"]


def test_index_by_namespace() -> None:
    store = cache.Indexer({cache.NAMESPACE_INDEX: cache.index_by_namespace})
    store.add(_obj("a", "x"))
    store.add(_obj("b", "y"))
    store.add(_obj("n"))
    assert store.index_keys(cache.NAMESPACE_INDEX, "x") == ["x/a"]
    assert store.index_keys(cache.NAMESPACE_INDEX, "") == ["n"]


def test_replace_rebuilds_indexes() -> None:
    store = cache.Indexer({"nodeName": cache.index_by_node_name})
    store.add(_pod("old", node="n1"))
    store.replace([_pod("new", node="n2")])
    assert store.keys() == ["default/new"]
    assert store.by_index("nodeName", "n1") == []
    assert store.index_keys("nodeName", "n2") == ["default/new"]


def test_add_indexers_indexes_existing_items_and_rejects_duplicates() -> None:
    store = cache.Indexer()
    store.add(_pod("p", node="n1"))
    store.add_indexers({"nodeName": cache.index_by_node_name})
    assert store.index_keys("nodeName", "n1") == ["default/p"]
    with pytest.raises(ValueError, match="indexer conflict: nodeName"):
        store.add_indexers({"nodeName": cache.index_by_node_name})


def test_unknown_index_raises() -> None:
    with pytest.raises(KeyError, match="Index with name nope does not exist"):
        cache.Indexer().by_index("nope", "x")


def test_multi_valued_index_function() -> None:
    def by_labels(obj: Any) -> list[str]:
        return [f"{k}={v}" for k, v in (obj["metadata"].get("labels") or {}).items()]

    store = cache.Indexer({"labels": by_labels})
    store.add(_obj("a", metadata={"labels": {"app": "x", "tier": "web"}}))
    store.add(_obj("b", metadata={"labels": {"app": "x"}}))
    assert store.index_keys("labels", "app=x") == ["a", "b"]
    store.update(_obj("a", metadata={"labels": {"tier": "web"}}))
    assert store.index_keys("labels", "app=x") == ["b"]
    assert store.index_keys("labels", "tier=web") == ["a"]


def test_update_with_unchanged_index_values_keeps_entries() -> None:
    """Most updates file an object under the same values (its node, its namespace): the index must
    be left exactly as it was, and a change after that still moves the key."""
    store = cache.Indexer({"nodeName": cache.index_by_node_name, "namespace": cache.index_by_namespace})
    store.add(_pod("p1", node="n1"))
    for _ in range(3):
        store.update(_pod("p1", node="n1"))
    assert store.index_keys("nodeName", "n1") == ["default/p1"]
    assert store.index_keys("namespace", "default") == ["default/p1"]
    store.update(_pod("p1", node="n2"))
    assert store.list_index_values("nodeName") == ["n2"]
    store.delete(_pod("p1"))
    assert store.list_index_values("nodeName") == [] and store.list_index_values("namespace") == []
