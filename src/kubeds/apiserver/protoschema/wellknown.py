"""Well-known Kubernetes messages whose JSON form is not a plain object of their proto fields.

Each converter takes the raw bytes of the embedded message and returns the value that upstream's
``MarshalJSON`` would write, so a protobuf body decodes to what the same object sent as JSON holds:

* ``meta.v1.Time`` (``apimachinery/pkg/apis/meta/v1/time.go``, ``time_proto.go``): an empty message
  is the zero time, JSON ``null``; otherwise ``seconds`` as RFC 3339 in UTC
  (``2006-01-02T15:04:05Z``); ``nanos`` is ignored, as upstream's ``Time.Unmarshal`` does.
* ``meta.v1.MicroTime`` (``micro_time.go``, ``micro_time_proto.go``): ``2006-01-02T15:04:05.000000Z``,
  nanos truncated to microseconds.
* ``meta.v1.Duration`` (``duration.go``): Go's ``time.Duration.String()`` (``1h2m3.5s``).
* ``meta.v1.FieldsV1`` (``fieldsv1_byte.go``): ``Raw(1)`` holds JSON, emitted as is.
* ``api.resource.Quantity`` (``api/resource/generated.proto``): ``string(1)``.
* ``util.intstr.IntOrString`` (``util/intstr/intstr.go``): ``type(1)`` 0 -> ``intVal(2)``,
  1 -> ``strVal(3)``.
* ``runtime.RawExtension`` (``runtime/extension.go``): ``raw(1)`` holds JSON (``null`` when empty).

Malformed input raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from kubeds.apiserver.protobuf import WIRE_LEN, WIRE_VARINT, WireField, iter_fields, to_int64

__all__ = [
    "DURATION",
    "FIELDS_V1",
    "INT_OR_STRING",
    "MICRO_TIME",
    "QUANTITY",
    "RAW_EXTENSION",
    "SPECIAL_TYPES",
    "TIME",
    "format_go_duration",
]

_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
TIME = f"{_META}.Time"
MICRO_TIME = f"{_META}.MicroTime"
DURATION = f"{_META}.Duration"
FIELDS_V1 = f"{_META}.FieldsV1"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "k8s.io.apimachinery.pkg.runtime.RawExtension"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT_OR_STRING_INT = 0
_INT_OR_STRING_STRING = 1

MSG_WIRE_TYPE = "{type}: field {number} has wire type {got}, expected {want}"
MSG_TIME_RANGE = "{type}: seconds {seconds} out of range"
MSG_BAD_JSON = "{type}: raw is not valid JSON: {error}"
MSG_BAD_UTF8 = "{type}: field {number} is not valid UTF-8"
MSG_INT_OR_STRING_TYPE = "IntOrString: impossible type {value}"


def _int(field: WireField, type_name: str) -> int:
    if field.wire_type != WIRE_VARINT or not isinstance(field.value, int):
        raise ValueError(
            MSG_WIRE_TYPE.format(type=type_name, number=field.number, got=field.wire_type, want=WIRE_VARINT)
        )
    return to_int64(field.value)


def _bytes(field: WireField, type_name: str) -> bytes:
    if field.wire_type != WIRE_LEN or not isinstance(field.value, bytes):
        raise ValueError(
            MSG_WIRE_TYPE.format(type=type_name, number=field.number, got=field.wire_type, want=WIRE_LEN)
        )
    return field.value


def _str(field: WireField, type_name: str) -> str:
    try:
        return _bytes(field, type_name).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(MSG_BAD_UTF8.format(type=type_name, number=field.number)) from None


def _timestamp(data: bytes, type_name: str) -> tuple[int, int]:
    seconds = nanos = 0
    for f in iter_fields(data):
        if f.number == 1:
            seconds = _int(f, type_name)
        elif f.number == 2:
            nanos = _int(f, type_name)
    return seconds, nanos


def _instant(seconds: int, micros: int, type_name: str) -> datetime:
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=micros)
    except OverflowError:
        raise ValueError(MSG_TIME_RANGE.format(type=type_name, seconds=seconds)) from None


def _rfc3339(dt: datetime, *, micros: bool) -> str:
    """``2006-01-02T15:04:05Z`` (or ``.000000Z``); strftime's ``%Y`` does not pad years < 1000."""
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    return f"{text}.{dt.microsecond:06d}Z" if micros else f"{text}Z"


def decode_time(data: bytes) -> str | None:
    if not data:
        return None
    seconds, _ = _timestamp(data, "Time")
    return _rfc3339(_instant(seconds, 0, "Time"), micros=False)


def decode_micro_time(data: bytes) -> str | None:
    if not data:
        return None
    seconds, nanos = _timestamp(data, "MicroTime")
    return _rfc3339(_instant(seconds, nanos // 1000, "MicroTime"), micros=True)


def format_go_duration(nanos: int) -> str:
    """Go's ``time.Duration.String``: ``0s``, ``1.5µs``, ``2m3s``, ``1h0m0.5s``, ``-3s``."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    n = abs(nanos)
    if n < 1_000_000_000:  # below one second Go picks ns, µs or ms with a fraction
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if n < size * 1000:
                return sign + _fraction(n, size) + unit
    hours, rest = divmod(n, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _fraction(rest, 1_000_000_000) + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _fraction(value: int, size: int) -> str:
    whole, frac = divmod(value, size)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def decode_duration(data: bytes) -> str:
    nanos = 0
    for f in iter_fields(data):
        if f.number == 1:
            nanos = _int(f, "Duration")
    return format_go_duration(nanos)


def _raw_json(data: bytes, number: int, type_name: str) -> Any:
    raw = b""
    for f in iter_fields(data):
        if f.number == number:
            raw = _bytes(f, type_name)
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(MSG_BAD_JSON.format(type=type_name, error=exc)) from None


def decode_fields_v1(data: bytes) -> Any:
    return _raw_json(data, 1, "FieldsV1")


def decode_raw_extension(data: bytes) -> Any:
    return _raw_json(data, 1, "RawExtension")


def decode_quantity(data: bytes) -> str:
    text = ""
    for f in iter_fields(data):
        if f.number == 1:
            text = _str(f, "Quantity")
    return text


def decode_int_or_string(data: bytes) -> int | str:
    kind = int_val = 0
    str_val = ""
    for f in iter_fields(data):
        if f.number == 1:
            kind = _int(f, "IntOrString")
        elif f.number == 2:
            int_val = _int(f, "IntOrString")
        elif f.number == 3:
            str_val = _str(f, "IntOrString")
    if kind == _INT_OR_STRING_INT:
        return int_val
    if kind == _INT_OR_STRING_STRING:
        return str_val
    raise ValueError(MSG_INT_OR_STRING_TYPE.format(value=kind))


SPECIAL_TYPES: dict[str, Callable[[bytes], Any]] = {
    TIME: decode_time,
    MICRO_TIME: decode_micro_time,
    DURATION: decode_duration,
    FIELDS_V1: decode_fields_v1,
    QUANTITY: decode_quantity,
    INT_OR_STRING: decode_int_or_string,
    RAW_EXTENSION: decode_raw_extension,
}
