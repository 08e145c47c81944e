from __future__ import annotations

import json
from typing import Any

import pytest

from kubeds.apiserver.apply.schema import ATOMIC, ATOMIC_LIST, SET, MapOf, Struct, keyed, schema_for
from kubeds.apiserver.apply.typed import compare, merge, remove_paths, to_field_set

GRAB_BAG = Struct(
    {
        "setStr": SET,
        "setBool": SET,
        "setNumeric": SET,
        "list": keyed("key", "id"),
        "atomicList": ATOMIC_LIST,
        "value": ATOMIC,
        "inner": MapOf(),
    }
)

# Ported from structured-merge-diff typed/merge_test.go (mergeCases: "simple pair", "null/empty map",
# "struct grab bag" sets, "associative list"): lhs, rhs, expected merge result.
MERGE_TRIPLETS = [
    ('{"key":"foo","value":{}}', '{"key":"foo","value":1}', '{"key":"foo","value":1}'),
    ('{"key":"foo","value":1}', '{"key":"foo","value":{}}', '{"key":"foo","value":{}}'),
    ('{"key":"foo","value":null}', '{"key":"foo","value":{}}', '{"key":"foo","value":{}}'),
    ('{"key":"foo"}', '{"value":true}', '{"key":"foo","value":true}'),
    ("{}", '{"inner":{}}', '{"inner":{}}'),
    ('{"inner":null}', '{"inner":{}}', '{"inner":{}}'),
    ('{"inner":{}}', '{"inner":null}', '{"inner":null}'),
    ('{"setStr":["a","b","c"]}', '{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}'),
    ('{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}', '{"setStr":["a","b","c"]}'),
    ('{"setStr":["a","b","c"]}', '{"setStr":[]}', '{"setStr":["a","b","c"]}'),
    ('{"setStr":[]}', '{"setStr":["a","b","c"]}', '{"setStr":["a","b","c"]}'),
    ('{"setStr":["a","b"]}', '{"setStr":["b","a"]}', '{"setStr":["b","a"]}'),
    ('{"setStr":["a","b","c"]}', '{"setStr":["d","e","f"]}', '{"setStr":["a","b","c","d","e","f"]}'),
    ('{"setStr":["a","b","c"]}', '{"setStr":["c","d","e","f"]}', '{"setStr":["a","b","c","d","e","f"]}'),
    (
        '{"setStr":["a","b","c","g","f"]}',
        '{"setStr":["c","d","e","f"]}',
        '{"setStr":["a","b","c","g","d","e","f"]}',
    ),
    ('{"setStr":["c","d","e","f"]}', '{"setStr":["a","c","e"]}', '{"setStr":["a","c","d","e","f"]}'),
    (
        '{"setStr":["a","b","c","x","y","z"]}',
        '{"setStr":["d","e","f","x","y","z"]}',
        '{"setStr":["a","b","c","d","e","f","x","y","z"]}',
    ),
    ('{"setStr":["c","a","g","f"]}', '{"setStr":["c","f","a","g"]}', '{"setStr":["c","f","a","g"]}'),
    ('{"setStr":["a","b","c","d"]}', '{"setStr":["d","e","f","a"]}', '{"setStr":["b","c","d","e","f","a"]}'),
    (
        '{"setStr":["c","d","e","f","g","h","i","j"]}',
        '{"setStr":["2","h","3","e","4","k","l"]}',
        '{"setStr":["c","d","f","g","2","h","i","j","3","e","4","k","l"]}',
    ),
    (
        '{"setStr":["a","b","c","d","e","f","g","h","i","j"]}',
        '{"setStr":["1","b","2","h","3","e","4","k","l"]}',
        '{"setStr":["a","1","b","c","d","f","g","2","h","i","j","3","e","4","k","l"]}',
    ),
    ('{"setBool":[true]}', '{"setBool":[false]}', '{"setBool":[true,false]}'),
    ('{"setNumeric":[1,2,3.14159]}', '{"setNumeric":[1,2,3]}', '{"setNumeric":[1,2,3.14159,3]}'),
    (
        '{"list":[{"key":"a","id":1,"value":{"a":"a"}}]}',
        '{"list":[{"key":"a","id":2,"value":{"a":"a"}}]}',
        '{"list":[{"key":"a","id":1,"value":{"a":"a"}},{"key":"a","id":2,"value":{"a":"a"}}]}',
    ),
    (
        '{"list":[{"key":"a","id":1},{"key":"b","id":1}]}',
        '{"list":[{"key":"a","id":1},{"key":"a","id":2}]}',
        '{"list":[{"key":"a","id":1},{"key":"b","id":1},{"key":"a","id":2}]}',
    ),
    (
        '{"list":[{"key":"b","id":2}]}',
        '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
        '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
    ),
    (
        '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
        '{"list":[{"key":"c","id":3},{"key":"b","id":2}]}',
        '{"list":[{"key":"a","id":1},{"key":"c","id":3},{"key":"b","id":2}]}',
    ),
    (
        '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
        '{"list":[{"key":"c","id":3},{"key":"a","id":1}]}',
        '{"list":[{"key":"b","id":2},{"key":"c","id":3},{"key":"a","id":1}]}',
    ),
    ('{"atomicList":["a","a","a"]}', '{"atomicList":null}', '{"atomicList":null}'),
    ('{"atomicList":["a","b","c"]}', '{"atomicList":[]}', '{"atomicList":[]}'),
    ('{"atomicList":["a","a","a"]}', '{"atomicList":["a","a"]}', '{"atomicList":["a","a"]}'),
]


@pytest.mark.parametrize(("lhs", "rhs", "out"), MERGE_TRIPLETS)
def test_merge(lhs: str, rhs: str, out: str) -> None:
    assert merge(json.loads(lhs), json.loads(rhs), GRAB_BAG) == json.loads(out)


POD = schema_for("Pod")

# ToFieldSet on pod fragments: leaves, keyed items (with the protocol default), sets, atomics.
FIELD_SETS: list[tuple[dict[str, Any], set[tuple[str, ...]]]] = [
    (
        {"metadata": {"labels": {"a": "1"}, "finalizers": ["x"]}},
        {("f:metadata", "f:labels", "f:a"), ("f:metadata", "f:finalizers", 'v:"x"')},
    ),
    (
        {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}},
        {
            ("f:spec", "f:containers", 'k:{"name":"c"}'),
            ("f:spec", "f:containers", 'k:{"name":"c"}', "f:name"),
            (
                "f:spec",
                "f:containers",
                'k:{"name":"c"}',
                "f:ports",
                'k:{"containerPort":80,"protocol":"TCP"}',
            ),
            (
                "f:spec",
                "f:containers",
                'k:{"name":"c"}',
                "f:ports",
                'k:{"containerPort":80,"protocol":"TCP"}',
                "f:containerPort",
            ),
        },
    ),
    (
        {"spec": {"tolerations": [{"operator": "Exists"}], "nodeSelector": {"a": "b"}}},
        {("f:spec", "f:tolerations"), ("f:spec", "f:nodeSelector")},
    ),
    (
        {
            "spec": {
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"x": []}}}
            }
        },
        {("f:spec", "f:affinity", "f:nodeAffinity", "f:requiredDuringSchedulingIgnoredDuringExecution")},
    ),
    ({"spec": {"securityContext": {}}}, {("f:spec", "f:securityContext")}),
]


@pytest.mark.parametrize(("obj", "expected"), FIELD_SETS)
def test_to_field_set(obj: dict[str, Any], expected: set[tuple[str, ...]]) -> None:
    assert to_field_set(obj, POD) == expected


def test_compare_added_inner_nodes_but_not_value_structs() -> None:
    new = {"spec": {"containers": [{"name": "c", "image": "x"}]}, "metadata": {"labels": {"a": "b"}}}
    result = compare({}, new, POD)
    assert ("f:spec",) not in result.added  # non-pointer struct: present in the typed empty object
    assert ("f:metadata",) not in result.added
    assert ("f:metadata", "f:labels") in result.added  # a map that appeared: the "." of Update entries
    assert ("f:spec", "f:containers", 'k:{"name":"c"}') in result.added
    assert ("f:spec", "f:containers", 'k:{"name":"c"}', "f:image") in result.added
    assert not result.modified and not result.removed


def test_compare_modified_and_removed() -> None:
    old = {"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "d"}], "hostNetwork": True}}
    new = {"spec": {"containers": [{"name": "c", "image": "y"}], "hostNetwork": 1}}
    result = compare(old, new, POD)
    assert result.modified == {
        ("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"),
        ("f:spec", "f:hostNetwork"),  # true and 1 differ, as in Go
    }
    assert result.removed == {
        ("f:spec", "f:containers", 'k:{"name":"d"}'),
        ("f:spec", "f:containers", 'k:{"name":"d"}', "f:name"),
    }
    assert not result.added


def test_remove_paths_drops_whole_items() -> None:
    obj = {"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "d", "image": "z"}]}}
    out = remove_paths(
        obj,
        {
            ("f:spec", "f:containers", 'k:{"name":"d"}'),
            ("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"),
        },
        POD,
    )
    assert out == {"spec": {"containers": [{"name": "c"}]}}
    assert obj["spec"]["containers"][1] == {"name": "d", "image": "z"}  # input untouched
