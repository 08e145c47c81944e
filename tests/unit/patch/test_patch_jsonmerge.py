"""JSON merge patch: RFC 7386 Appendix A (the table evanphx/json-patch's merge tests use), kubectl label."""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.apiserver.patch import PatchError, json_merge_patch

# RFC 7386 Appendix A, restricted to object documents (the API server only patches objects)
RFC_CASES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    # evanphx specifics: nulls pruned from a map replacing a scalar; lists keep their nulls
    ({"a": 1}, {"a": {"b": None, "c": 2}}, {"a": {"c": 2}}),
    ({"a": {"b": 1}}, {"a": [None, {"c": None}]}, {"a": [None, {"c": None}]}),
    ({}, {"a": [None, {"c": None}]}, {"a": [None, {}]}),
    # kubectl label / unlabel / relabel (fixture labels `label`, `label-remove`, `lbl-same`)
    (
        {"metadata": {"name": "n"}},
        {"metadata": {"labels": {"a": "b"}}},
        {"metadata": {"name": "n", "labels": {"a": "b"}}},
    ),
    (
        {"metadata": {"labels": {"a": "b", "x": "1"}}},
        {"metadata": {"labels": {"a": None}}},
        {"metadata": {"labels": {"x": "1"}}},
    ),
    ({"metadata": {"labels": {"a": "b"}}}, {}, {"metadata": {"labels": {"a": "b"}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC_CASES)
def test_merge_patch(original: dict[str, Any], patch: Any, expected: dict[str, Any]) -> None:
    before = repr(original)
    assert json_merge_patch(original, patch) == expected
    assert repr(original) == before


def test_status_conditions_list_is_replaced_whole() -> None:
    # the upstream e2e merge-patches /status with one condition: lists never merge in JSON merge patch
    original = {"status": {"conditions": [{"type": "A", "status": "True"}]}}
    patch = {"status": {"conditions": [{"type": "StatusPatched", "status": "True"}]}}
    assert json_merge_patch(original, patch)["status"]["conditions"] == [
        {"type": "StatusPatched", "status": "True"}
    ]


@pytest.mark.parametrize("patch", [None, "x", 1, True])
def test_null_or_scalar_patch_is_bad_request(patch: Any) -> None:
    with pytest.raises(PatchError) as info:
        json_merge_patch({"a": 1}, patch)
    assert (info.value.code, info.value.reason, info.value.message) == (
        400,
        "BadRequest",
        "Invalid JSON Patch",
    )


def test_list_patch_cannot_make_an_object() -> None:
    with pytest.raises(PatchError) as info:
        json_merge_patch({"a": 1}, ["c"])
    assert (info.value.code, info.value.reason) == (422, "Invalid")
    assert 'Invalid value: "[\\"c\\"]"' in info.value.message
