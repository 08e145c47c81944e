"""Lists built by splicing stored bytes equal lists built by decoding every object."""

from __future__ import annotations

import orjson

from kubeds.apiserver.store import Store
from kubeds.storage.interface import KeyValue


def decoded_item(kv: KeyValue) -> dict[str, object]:
    obj = Store.decode(kv)
    obj.pop("kind", None)
    obj.pop("apiVersion", None)
    return obj


def test_spliced_item_equals_decoded_item() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"a": "b"}},
        "spec": {"template": {"metadata": {"labels": {"x": "y"}}}},
    }
    kv = KeyValue("/registry/core/pods/default/p", Store.encode(obj), 3, 7)
    assert kv.value.startswith(b'{"apiVersion":"v1","kind":"Pod","metadata":{')
    assert orjson.loads(Store.list_item_bytes(kv)) == decoded_item(kv)
    assert orjson.loads(Store.list_item_bytes(kv))["metadata"]["resourceVersion"] == "7"


def test_empty_metadata_and_other_key_orders_fall_back_correctly() -> None:
    empty = KeyValue("/k", Store.encode({"kind": "Namespace", "metadata": {}}), 1, 2)
    assert orjson.loads(Store.list_item_bytes(empty)) == {"metadata": {"resourceVersion": "2"}}
    # Stored by something else with spec before metadata (and a nested metadata first).
    odd = KeyValue("/k", b'{"spec":{"metadata":{"a":1}},"kind":"X","metadata":{"name":"n"}}', 1, 5)
    assert orjson.loads(Store.list_item_bytes(odd)) == decoded_item(odd)
