"""JSON patch: RFC 6902 Appendix A examples (also evanphx/json-patch's ``Cases``/``MutationTestCases``)
plus the v4 library's departures and error texts."""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.apiserver.patch import GENERIC_INVALID_MESSAGE, PatchError, json_patch

CASES = [
    # A.1 adding an object member
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    # A.2 adding an array element
    (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    # A.3 removing an object member
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    # A.4 removing an array element
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    # A.5 replacing a value
    (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    # A.6 moving a value
    (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    # A.7 moving an array element
    (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    # A.8 testing a value: success
    (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    # A.10 adding a nested member object
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    # A.11 ignoring unrecognized elements
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
    ),
    # A.14 ~ escape ordering
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    # A.16 adding an array value
    (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
    # RFC 6901 escapes
    (
        {"a/b": 1, "m~n": 8},
        [{"op": "replace", "path": "/a~1b", "value": 2}, {"op": "remove", "path": "/m~0n"}],
        {"a/b": 2},
    ),
    # copy
    (
        {"foo": {"bar": [1]}},
        [{"op": "copy", "from": "/foo/bar", "path": "/baz"}],
        {"foo": {"bar": [1]}, "baz": [1]},
    ),
    # evanphx v4: negative indexes count from the end
    ({"foo": ["a", "b"]}, [{"op": "add", "path": "/foo/-1", "value": "x"}], {"foo": ["a", "b", "x"]}),
    ({"foo": ["a", "b", "c"]}, [{"op": "remove", "path": "/foo/-1"}], {"foo": ["a", "b"]}),
    # evanphx v4: replace of an absent object member adds it
    ({"foo": "bar"}, [{"op": "replace", "path": "/baz", "value": 1}], {"foo": "bar", "baz": 1}),
    # evanphx v4: test of an absent member against null passes
    ({"foo": "bar"}, [{"op": "test", "path": "/baz", "value": None}], {"foo": "bar"}),
    # kubectl patch --type=json on a node
    (
        {"metadata": {"labels": {"a": "b"}}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}},
        [
            {"op": "remove", "path": "/spec/taints/0"},
            {"op": "add", "path": "/metadata/labels/x", "value": "y"},
        ],
        {"metadata": {"labels": {"a": "b", "x": "y"}}, "spec": {"taints": []}},
    ),
]


@pytest.mark.parametrize(("original", "ops", "expected"), CASES)
def test_json_patch(original: dict[str, Any], ops: list[Any], expected: dict[str, Any]) -> None:
    before = repr(original)
    assert json_patch(original, ops) == expected
    assert repr(original) == before


FAILURES = [
    # A.9 testing a value: error
    (
        {"baz": "qux"},
        [{"op": "test", "path": "/baz", "value": "bar"}],
        "testing value /baz failed: test failed",
    ),
    # A.12 adding to a nonexistent target
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz/bat", "value": "qux"}],
        'add operation does not apply: doc is missing path: "/baz/bat": missing value',
    ),
    # A.15 comparing strings and numbers
    (
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": "10"}],
        "testing value /~01 failed: test failed",
    ),
    (
        {"foo": "bar"},
        [{"op": "remove", "path": "/baz"}],
        "error in remove for path: '/baz': Unable to remove nonexistent key: baz: missing value",
    ),
    (
        {"foo": [1]},
        [{"op": "add", "path": "/foo/5", "value": 2}],
        "error in add for path: '/foo/5': Unable to access invalid index: 5: invalid index referenced",
    ),
    (
        {"foo": [1]},
        [{"op": "add", "path": "/foo/x", "value": 2}],
        "error in add for path: '/foo/x': value was not a proper array index: 'x': "
        'strconv.Atoi: parsing "x": invalid syntax',
    ),
    (
        {"foo": [1]},
        [{"op": "replace", "path": "/foo/3", "value": 2}],
        "replace operation does not apply: doc is missing key: /foo/3: missing value",
    ),
    (
        {"foo": 1},
        [{"op": "move", "from": "/bar", "path": "/baz"}],
        "error in move for path: 'bar': Unable to remove nonexistent key: bar: missing value",
    ),
    (
        {"foo": 1},
        [{"op": "copy", "from": "/a/b", "path": "/baz"}],
        "copy operation does not apply: doc is missing from path: /a/b: missing value",
    ),
    ({"foo": 1}, [{"op": "add", "value": 1}], "add operation failed to decode path: missing value"),
    (
        {"foo": 1},
        [{"op": "move", "path": "/x"}],
        "move operation failed to decode from: operation, missing from field: missing value",
    ),
    ({"foo": 1}, [{"op": "frobnicate", "path": "/foo"}], "Unexpected kind: frobnicate"),
    ({"foo": 1}, [{"path": "/foo"}], "Unexpected kind: unknown"),
    (
        {"foo": 1},
        [{"op": "add", "path": "", "value": {}}],
        'add operation does not apply: doc is missing path: "": missing value',
    ),
    ({"foo": 1}, [{"op": "test", "path": "/foo", "value": 1.0}], "testing value /foo failed: test failed"),
]


@pytest.mark.parametrize(("original", "ops", "detail"), FAILURES)
def test_failed_operation_is_generic_422(original: dict[str, Any], ops: list[Any], detail: str) -> None:
    with pytest.raises(PatchError) as info:
        json_patch(original, ops)
    error = info.value
    assert (error.code, error.reason, error.message) == (422, "Invalid", GENERIC_INVALID_MESSAGE)
    assert error.detail == detail


def test_failed_patch_leaves_original_alone() -> None:
    original = {"foo": ["a"]}
    with pytest.raises(PatchError):
        json_patch(
            original,
            [{"op": "add", "path": "/foo/-", "value": "b"}, {"op": "test", "path": "/x", "value": 1}],
        )
    assert original == {"foo": ["a"]}


@pytest.mark.parametrize(
    ("ops", "strict", "message"),
    [
        (
            {"op": "add"},
            True,
            "error decoding patch: json: cannot unmarshal object into Go value of type "
            "[]handlers.jsonPatchOp",
        ),
        ({"op": "add"}, False, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        (
            ["x"],
            True,
            "error decoding patch: json: cannot unmarshal string into Go value of type handlers.jsonPatchOp",
        ),
        (["x"], False, "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
        (
            [{"op": 1, "path": "/a"}],
            True,
            "error decoding patch: json: cannot unmarshal number into Go struct field "
            "jsonPatchOp.op of type string",
        ),
    ],
)
def test_undecodable_body_is_400(ops: Any, strict: bool, message: str) -> None:
    with pytest.raises(PatchError) as info:
        json_patch({"a": 1}, ops, strict=strict)
    assert (info.value.code, info.value.reason, info.value.message) == (400, "BadRequest", message)


def test_too_many_operations_is_413() -> None:
    ops = [{"op": "test", "path": "/a", "value": 1}] * 10001
    with pytest.raises(PatchError) as info:
        json_patch({"a": 1}, ops)
    assert info.value.code == 413
    assert info.value.message.endswith("The allowed maximum operations in a JSON patch is 10000, got 10001")
    assert json_patch({"a": 1}, ops[:10000]) == {"a": 1}
