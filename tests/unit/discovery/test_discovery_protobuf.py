"""The protobuf wire codec and Kubernetes protobuf DeleteOptions bodies (kubectl-wire.md §1.8)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubeds.apiserver import protobuf as pb

# Recorded DELETE bodies from kubectl 1.32/1.33 drain (fixtures/kubectl-requests.jsonl, labels
# drain-disable-evict and drain-de-1.33) with the decoded form the recording server logged.
RECORDED = [
    (
        "azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxICCAoaACIA",
        {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 10},
    ),
    ("azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxIAGgAiAA==", {"apiVersion": "v1", "kind": "DeleteOptions"}),
]


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        # examples from the protobuf encoding guide ("Base 128 Varints", "Signed Integers")
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (150, b"\x96\x01"),
        (300, b"\xac\x02"),
        (2**63 - 1, b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
        (-1, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
        (-2, b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    ],
)
def test_varint_round_trip(value: int, encoded: bytes) -> None:
    assert pb.encode_varint(value) == encoded
    raw, pos = pb.decode_varint(encoded + b"\x99", 0)
    assert pos == len(encoded)
    assert pb.to_int64(raw) == value


def test_iter_fields_reads_every_wire_type() -> None:
    data = (
        pb.field_varint(1, 150)
        + pb.field_string(2, "testing")
        + b"\x19"
        + (7).to_bytes(8, "little")  # field 3, fixed64
        + b"\x25"
        + (9).to_bytes(4, "little")  # field 4, fixed32
        + pb.field_bool(5, True)
    )
    assert [(f.number, f.wire_type, f.value) for f in pb.iter_fields(data)] == [
        (1, pb.WIRE_VARINT, 150),
        (2, pb.WIRE_LEN, b"testing"),
        (3, pb.WIRE_FIXED64, 7),
        (4, pb.WIRE_FIXED32, 9),
        (5, pb.WIRE_VARINT, 1),
    ]
    # the protobuf guide's example message: field 1 = 150
    assert [(f.number, f.value) for f in pb.iter_fields(b"\x08\x96\x01")] == [(1, 150)]


@pytest.mark.parametrize(
    "data",
    [
        b"\x08",  # varint missing
        b"\x08\x80",  # truncated varint
        b"\x08" + b"\xff" * 11,  # varint too long
        b"\x12\x05ab",  # length past the end
        b"\x19\x00\x00",  # truncated fixed64
        b"\x00\x01",  # field number 0
        b"\x0b",  # start group (wire type 3)
        b"\x0e",  # wire type 6
    ],
)
def test_iter_fields_rejects_garbage(data: bytes) -> None:
    with pytest.raises(ValueError):
        list(pb.iter_fields(data))


@pytest.mark.parametrize(("b64", "expected"), RECORDED)
def test_decode_recorded_delete_options(b64: str, expected: dict[str, Any]) -> None:
    assert pb.decode_delete_options(base64.b64decode(b64)) == expected


@pytest.mark.parametrize(("b64", "options"), RECORDED)
def test_encode_matches_client_go_bytes(b64: str, options: dict[str, Any]) -> None:
    assert pb.encode_delete_options(options) == base64.b64decode(b64)


def test_decode_every_delete_options_field() -> None:
    raw = (
        pb.field_varint(1, 0)  # gracePeriodSeconds 0 is present, not absent
        + pb.field_bytes(2, pb.field_string(1, "uid-1") + pb.field_string(2, "42"))
        + pb.field_bool(3, False)
        + pb.field_string(4, "Foreground")
        + pb.field_string(5, "All")
        + pb.field_string(5, "Other")
        + pb.field_bool(6, True)
    )
    body = pb.encode_unknown(raw, api_version="v1", kind="DeleteOptions")
    assert pb.decode_delete_options(body) == {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1", "resourceVersion": "42"},
        "orphanDependents": False,
        "propagationPolicy": "Foreground",
        "dryRun": ["All", "Other"],
        "ignoreStoreReadErrorWithClusterBreakingPotential": True,
    }


@pytest.mark.parametrize(
    "options",
    [
        {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 30,
            "propagationPolicy": "Background",
        },
        {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": -1},
        {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": "abc"},
            "orphanDependents": True,
        },
        {"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"]},
    ],
)
def test_delete_options_round_trip(options: dict[str, Any]) -> None:
    assert pb.decode_delete_options(pb.encode_delete_options(options)) == options


def test_decode_tolerates_unknown_fields() -> None:
    raw = (
        pb.field_varint(1, 5)
        + pb.field_varint(99, 1)
        + pb.field_string(50, "future")
        + b"\x7d\x00\x00\x00\x00"
    )
    body = pb.encode_unknown(raw, api_version="v1", kind="DeleteOptions") + pb.field_string(9, "extra")
    assert pb.decode_delete_options(body) == {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 5,
    }


def test_decode_without_type_meta() -> None:
    body = pb.K8S_PROTOBUF_MAGIC + pb.field_bytes(2, pb.field_string(4, "Orphan"))
    assert pb.decode_delete_options(body) == {"propagationPolicy": "Orphan"}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"kind":"DeleteOptions","apiVersion":"v1"}',
        b"k8s",  # magic cut short
        b"k8s\x00\x0a\x13\x0a",  # envelope truncated
        pb.encode_unknown(b"\x08", api_version="v1", kind="DeleteOptions"),  # raw truncated
        pb.encode_unknown(
            pb.field_string(1, "10"), api_version="v1", kind="DeleteOptions"
        ),  # wrong wire type
        pb.encode_unknown(
            pb.field_bytes(4, b"\xff\xfe"), api_version="v1", kind="DeleteOptions"
        ),  # bad UTF-8
        pb.encode_unknown(b"", api_version="v1", kind="Pod"),  # not DeleteOptions
        pb.encode_unknown(b"", api_version="v1", kind="DeleteOptions", content_encoding="gzip"),
    ],
)
def test_decode_rejects_garbage(body: bytes) -> None:
    with pytest.raises(ValueError):
        pb.decode_delete_options(body)


def test_decode_unknown_envelope() -> None:
    body = pb.encode_unknown(b"\x08\x01", api_version="v1", kind="DeleteOptions", content_type="x/y")
    assert pb.decode_unknown(body) == {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "raw": b"\x08\x01",
        "contentEncoding": "",
        "contentType": "x/y",
    }
