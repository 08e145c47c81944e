"""The well-known types' JSON forms: Time, MicroTime, Duration, Quantity, IntOrString, RawExtension."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubeds.apiserver.protobuf import field_bytes, field_string, field_varint
from kubeds.apiserver.protoschema import wellknown


def _timestamp(dt: datetime, nanos: int = 0) -> bytes:
    out = field_varint(1, int(dt.timestamp()))
    return out + field_varint(2, nanos) if nanos else out


MAY_5_1998 = datetime(1998, 5, 5, 5, 5, 5, tzinfo=UTC)


# upstream apimachinery pkg/apis/meta/v1/time_test.go TestTimeMarshalJSON (and TestTimeProto:
# the zero Time marshals to an empty message; nanos are dropped)
@pytest.mark.parametrize(
    ("data", "want"),
    [
        (b"", None),
        (_timestamp(MAY_5_1998, 50), "1998-05-05T05:05:05Z"),
        (_timestamp(MAY_5_1998), "1998-05-05T05:05:05Z"),
        (field_varint(1, 0), "1970-01-01T00:00:00Z"),
        (field_varint(1, -62135596800), "0001-01-01T00:00:00Z"),
    ],
)
def test_time(data: bytes, want: str | None) -> None:
    assert wellknown.decode_time(data) == want


# upstream micro_time_test.go TestMicroTimeMarshalJSON and TestMicroTimeProtoUnmarshalRaw
@pytest.mark.parametrize(
    ("data", "want"),
    [
        (b"", None),
        (_timestamp(MAY_5_1998, 50), "1998-05-05T05:05:05.000000Z"),
        (_timestamp(MAY_5_1998), "1998-05-05T05:05:05.000000Z"),
        (bytes([8, 123, 16, 179, 235, 218, 58]), "1970-01-01T00:02:03.123123Z"),  # nanosecond precision
        (bytes([8, 123, 16, 184, 234, 218, 58]), "1970-01-01T00:02:03.123123Z"),  # microsecond precision
    ],
)
def test_micro_time(data: bytes, want: str | None) -> None:
    assert wellknown.decode_micro_time(data) == want


def test_time_out_of_range_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="out of range"):
        wellknown.decode_time(field_varint(1, 1 << 62))


_SECOND = 1_000_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE


# Go's src/time/time_test.go durationTests (TestDurationString)
@pytest.mark.parametrize(
    ("nanos", "want"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1100, "1.1µs"),
        (2200 * 1000, "2.2ms"),
        (3300 * 1_000_000, "3.3s"),
        (4 * _MINUTE + 5 * _SECOND, "4m5s"),
        (4 * _MINUTE + 5001 * 1_000_000, "4m5.001s"),
        (5 * _HOUR + 6 * _MINUTE + 7001 * 1_000_000, "5h6m7.001s"),
        (8 * _MINUTE + 1, "8m0.000000001s"),
        ((1 << 63) - 1, "2562047h47m16.854775807s"),
        (-(1 << 63), "-2562047h47m16.854775808s"),
    ],
)
def test_go_duration_string(nanos: int, want: str) -> None:
    assert wellknown.format_go_duration(nanos) == want
    assert wellknown.decode_duration(field_varint(1, nanos)) == want


# upstream util/intstr/intstr_test.go TestIntOrStringMarshalJSON, plus the zero value
@pytest.mark.parametrize(
    ("data", "want"),
    [
        (field_varint(1, 0) + field_varint(2, 123) + field_string(3, ""), 123),
        (field_varint(1, 1) + field_varint(2, 0) + field_string(3, "123"), "123"),
        (field_varint(1, 1) + field_string(3, "25%"), "25%"),
        (field_varint(2, -1), -1),
        (b"", 0),
    ],
)
def test_int_or_string(data: bytes, want: Any) -> None:
    got = wellknown.decode_int_or_string(data)
    assert got == want
    assert type(got) is type(want)


def test_int_or_string_impossible_type() -> None:
    with pytest.raises(ValueError, match="impossible type 2"):
        wellknown.decode_int_or_string(field_varint(1, 2))


@pytest.mark.parametrize(("data", "want"), [(field_string(1, "100m"), "100m"), (b"", "")])
def test_quantity(data: bytes, want: str) -> None:
    assert wellknown.decode_quantity(data) == want


def test_raw_extension_and_fields_v1_carry_json() -> None:
    raw = b'{"spec":{"template":{"$patch":"replace"}}}'
    assert wellknown.decode_raw_extension(field_bytes(1, raw)) == {
        "spec": {"template": {"$patch": "replace"}}
    }
    assert wellknown.decode_raw_extension(b"") is None
    assert wellknown.decode_fields_v1(field_bytes(1, b'{"f:metadata":{}}')) == {"f:metadata": {}}
    with pytest.raises(ValueError, match="RawExtension: raw is not valid JSON"):
        wellknown.decode_raw_extension(field_bytes(1, b"\x0a\x02hi"))


def test_wrong_wire_type_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Quantity: field 1 has wire type 0, expected 2"):
        wellknown.decode_quantity(field_varint(1, 5))
