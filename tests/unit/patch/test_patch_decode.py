"""PATCH body decoding: upstream's 400 texts per patch type (apiserver handlers/patch.go)."""

from __future__ import annotations

import pytest

from kubeds.apiserver.patch import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    PatchError,
    decode_patch_body,
)


def test_valid_bodies_decode() -> None:
    assert decode_patch_body(b'{"spec":{"unschedulable":true}}', patch_type=STRATEGIC_MERGE_PATCH) == {
        "spec": {"unschedulable": True}
    }
    assert decode_patch_body('[{"op":"remove","path":"/a"}]', patch_type=JSON_PATCH) == [
        {"op": "remove", "path": "/a"}
    ]


@pytest.mark.parametrize(
    ("body", "patch_type", "strict", "message"),
    [
        (
            b"{x",
            STRATEGIC_MERGE_PATCH,
            True,
            "invalid character 'x' looking for beginning of object key string",
        ),
        (b"nope", STRATEGIC_MERGE_PATCH, True, "invalid character 'n' looking for beginning of value"),
        (b'{"a":1', MERGE_PATCH, True, "error decoding patch: unexpected end of JSON input"),
        (b'{"a" 1}', MERGE_PATCH, True, "error decoding patch: invalid character '1' after object key"),
        (b'{"a":1', MERGE_PATCH, False, "Invalid JSON Patch"),
        (b"[1 2]", JSON_PATCH, True, "error decoding patch: invalid character '2' after array element"),
        (b'{"a":1 "b":2}', JSON_PATCH, False, "invalid character '\"' after object key:value pair"),
        (b"{} {}", JSON_PATCH, True, "error decoding patch: invalid character '{' after top-level value"),
    ],
)
def test_bad_bodies(body: bytes, patch_type: str, strict: bool, message: str) -> None:
    with pytest.raises(PatchError) as info:
        decode_patch_body(body, patch_type=patch_type, strict=strict)
    assert (info.value.code, info.value.message) == (400, message)
