"""Just enough of the protobuf wire format: an encoder for the OpenAPI v2 document and a decoder
for the Kubernetes protobuf envelope that carries ``DeleteOptions``.

No protobuf library is involved. The encoder is a handful of helpers that write tags, varints
and length-delimited fields (proto3 style: callers leave out default values). The decoder
(:func:`iter_fields`) walks any message and yields ``(number, wire_type, value)`` triples, so the
typed decoders here read the fields they know and skip the rest, as protobuf readers do with
unknown fields. Malformed input (truncated varints or lengths, field number 0, group wire
types, invalid UTF-8 in strings, a field sent with the wrong wire type) raises ``ValueError``.

Kubernetes protobuf bodies (``application/vnd.kubernetes.protobuf``) mirror upstream
``staging/src/k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go``: the 4-byte magic
``k8s\\x00`` followed by a ``runtime.Unknown`` message (``runtime/generated.proto``):
``typeMeta(1){apiVersion(1), kind(2)}``, ``raw(2)``, ``contentEncoding(3)``, ``contentType(4)``.
For a DELETE, ``raw`` is a ``meta.v1.DeleteOptions`` (``pkg/apis/meta/v1/generated.proto``):
``gracePeriodSeconds(1) int64``, ``preconditions(2){uid(1), resourceVersion(2)}``,
``orphanDependents(3) bool``, ``propagationPolicy(4) string``, ``dryRun(5) repeated string``,
``ignoreStoreReadErrorWithClusterBreakingPotential(6) bool``. Those fields are ``optional``
(proto2), so presence on the wire is kept: ``gracePeriodSeconds: 0`` differs from absent.
kubectl >= 1.32 sends such bodies when drain falls back to deleting pods.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "K8S_PROTOBUF_CONTENT_TYPE",
    "K8S_PROTOBUF_MAGIC",
    "WIRE_FIXED32",
    "WIRE_FIXED64",
    "WIRE_LEN",
    "WIRE_VARINT",
    "WireField",
    "decode_delete_options",
    "decode_unknown",
    "decode_varint",
    "encode_delete_options",
    "encode_unknown",
    "encode_varint",
    "field_bool",
    "field_bytes",
    "field_string",
    "field_varint",
    "iter_fields",
    "to_int64",
]

WIRE_VARINT = 0
WIRE_FIXED64 = 1
WIRE_LEN = 2
WIRE_FIXED32 = 5

K8S_PROTOBUF_MAGIC = b"k8s\x00"
K8S_PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

_MAX_VARINT_BYTES = 10
_UINT64_MASK = (1 << 64) - 1

_DELETE_OPTIONS_KIND = "DeleteOptions"
_DELETE_OPTIONS_API_VERSION = "v1"

# runtime.Unknown and runtime.TypeMeta field numbers (runtime/generated.proto).
_UNKNOWN_TYPE_META = 1
_UNKNOWN_RAW = 2
_UNKNOWN_CONTENT_ENCODING = 3
_UNKNOWN_CONTENT_TYPE = 4
_TYPE_META_API_VERSION = 1
_TYPE_META_KIND = 2

# meta.v1.DeleteOptions / Preconditions field numbers (meta/v1/generated.proto).
_DO_GRACE_PERIOD_SECONDS = 1
_DO_PRECONDITIONS = 2
_DO_ORPHAN_DEPENDENTS = 3
_DO_PROPAGATION_POLICY = 4
_DO_DRY_RUN = 5
_DO_IGNORE_STORE_READ_ERROR = 6
_PRECONDITION_UID = 1
_PRECONDITION_RESOURCE_VERSION = 2

MSG_NO_MAGIC = "body does not start with the Kubernetes protobuf magic number"
MSG_TRUNCATED_VARINT = "truncated varint"
MSG_VARINT_TOO_LONG = "varint longer than 10 bytes"
MSG_TRUNCATED_FIELD = "field {number} runs past the end of the message"
MSG_BAD_FIELD_NUMBER = "invalid field number 0"
MSG_BAD_WIRE_TYPE = "unsupported wire type {wire_type} for field {number}"
MSG_WRONG_WIRE_TYPE = "field {number} has wire type {got}, expected {want}"
MSG_BAD_UTF8 = "field {number} is not valid UTF-8"
MSG_WRONG_KIND = "expected a DeleteOptions body, got kind {kind!r}"
MSG_CONTENT_ENCODING = "unsupported content encoding {encoding!r}"


# ---------------------------------------------------------------------------------------------
# Encoding


def encode_varint(value: int) -> bytes:
    """Base-128 varint; negative numbers are written as 64-bit two's complement (10 bytes)."""
    value &= _UINT64_MASK
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return encode_varint((number << 3) | wire_type)


def field_varint(number: int, value: int) -> bytes:
    return _tag(number, WIRE_VARINT) + encode_varint(value)


def field_bool(number: int, value: bool) -> bytes:
    return field_varint(number, 1 if value else 0)


def field_bytes(number: int, data: bytes) -> bytes:
    """A length-delimited field: bytes, an embedded message or (via :func:`field_string`) text."""
    return _tag(number, WIRE_LEN) + encode_varint(len(data)) + data


def field_string(number: int, text: str) -> bytes:
    return field_bytes(number, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Decoding


@dataclass(frozen=True)
class WireField:
    """One field as found on the wire: an ``int`` for varint/fixed types, ``bytes`` for LEN."""

    number: int
    wire_type: int
    value: int | bytes


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Read a varint at ``pos``; return ``(value, next_pos)``. The value is unsigned 64-bit."""
    result = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise ValueError(MSG_TRUNCATED_VARINT)
        byte = data[pos + i]
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return result & _UINT64_MASK, pos + i + 1
    raise ValueError(MSG_VARINT_TOO_LONG)


def to_int64(value: int) -> int:
    """Reinterpret an unsigned 64-bit varint as the signed ``int64`` it encodes."""
    value &= _UINT64_MASK
    return value - (1 << 64) if value >= 1 << 63 else value


def iter_fields(data: bytes) -> Iterator[WireField]:
    """Yield every field of one message, in wire order; raise ``ValueError`` on malformed input."""
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = decode_varint(data, pos)
        number, wire_type = key >> 3, key & 0x7
        if number == 0:
            raise ValueError(MSG_BAD_FIELD_NUMBER)
        if wire_type == WIRE_VARINT:
            value, pos = decode_varint(data, pos)
            yield WireField(number, wire_type, value)
        elif wire_type in (WIRE_FIXED64, WIRE_FIXED32):
            size = 8 if wire_type == WIRE_FIXED64 else 4
            if pos + size > end:
                raise ValueError(MSG_TRUNCATED_FIELD.format(number=number))
            yield WireField(number, wire_type, int.from_bytes(data[pos : pos + size], "little"))
            pos += size
        elif wire_type == WIRE_LEN:
            length, pos = decode_varint(data, pos)
            if pos + length > end:
                raise ValueError(MSG_TRUNCATED_FIELD.format(number=number))
            yield WireField(number, wire_type, bytes(data[pos : pos + length]))
            pos += length
        else:  # 3/4 are deprecated groups, 6/7 do not exist
            raise ValueError(MSG_BAD_WIRE_TYPE.format(wire_type=wire_type, number=number))


def _expect(field: WireField, wire_type: int) -> None:
    if field.wire_type != wire_type:
        raise ValueError(MSG_WRONG_WIRE_TYPE.format(number=field.number, got=field.wire_type, want=wire_type))


def _as_int(field: WireField) -> int:
    _expect(field, WIRE_VARINT)
    assert isinstance(field.value, int)
    return field.value


def _as_bytes(field: WireField) -> bytes:
    _expect(field, WIRE_LEN)
    assert isinstance(field.value, bytes)
    return field.value


def _as_str(field: WireField) -> str:
    try:
        return _as_bytes(field).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(MSG_BAD_UTF8.format(number=field.number)) from exc


# ---------------------------------------------------------------------------------------------
# The Kubernetes envelope (runtime.Unknown)


def encode_unknown(
    raw: bytes,
    *,
    api_version: str,
    kind: str,
    content_encoding: str = "",
    content_type: str = "",
) -> bytes:
    """Wrap ``raw`` in the magic + ``runtime.Unknown`` envelope, field for field as client-go does.

    client-go always writes all four fields, even empty ones (they are gogo non-pointer fields).
    """
    type_meta = field_string(_TYPE_META_API_VERSION, api_version) + field_string(_TYPE_META_KIND, kind)
    return (
        K8S_PROTOBUF_MAGIC
        + field_bytes(_UNKNOWN_TYPE_META, type_meta)
        + field_bytes(_UNKNOWN_RAW, raw)
        + field_string(_UNKNOWN_CONTENT_ENCODING, content_encoding)
        + field_string(_UNKNOWN_CONTENT_TYPE, content_type)
    )


def decode_unknown(body: bytes) -> dict[str, Any]:
    """Split a Kubernetes protobuf body into ``apiVersion``, ``kind``, ``raw``, ``contentEncoding``
    and ``contentType``."""
    if not body.startswith(K8S_PROTOBUF_MAGIC):
        raise ValueError(MSG_NO_MAGIC)
    out: dict[str, Any] = {"apiVersion": "", "kind": "", "raw": b"", "contentEncoding": "", "contentType": ""}
    for field in iter_fields(body[len(K8S_PROTOBUF_MAGIC) :]):
        if field.number == _UNKNOWN_TYPE_META:
            for tm in iter_fields(_as_bytes(field)):
                if tm.number == _TYPE_META_API_VERSION:
                    out["apiVersion"] = _as_str(tm)
                elif tm.number == _TYPE_META_KIND:
                    out["kind"] = _as_str(tm)
        elif field.number == _UNKNOWN_RAW:
            out["raw"] = _as_bytes(field)
        elif field.number == _UNKNOWN_CONTENT_ENCODING:
            out["contentEncoding"] = _as_str(field)
        elif field.number == _UNKNOWN_CONTENT_TYPE:
            out["contentType"] = _as_str(field)
    return out


# ---------------------------------------------------------------------------------------------
# meta.v1.DeleteOptions


def decode_delete_options(body: bytes) -> dict[str, Any]:
    """Decode a protobuf ``DeleteOptions`` request body into its JSON form.

    ``apiVersion``/``kind`` come from the envelope when set; unknown fields are skipped.
    """
    envelope = decode_unknown(body)
    kind = envelope["kind"]
    if kind and kind != _DELETE_OPTIONS_KIND:
        raise ValueError(MSG_WRONG_KIND.format(kind=kind))
    if envelope["contentEncoding"]:
        raise ValueError(MSG_CONTENT_ENCODING.format(encoding=envelope["contentEncoding"]))
    out: dict[str, Any] = {}
    if envelope["apiVersion"]:
        out["apiVersion"] = envelope["apiVersion"]
    if kind:
        out["kind"] = kind
    dry_run: list[str] = []
    for field in iter_fields(envelope["raw"]):
        if field.number == _DO_GRACE_PERIOD_SECONDS:
            out["gracePeriodSeconds"] = to_int64(_as_int(field))
        elif field.number == _DO_PRECONDITIONS:
            pre: dict[str, Any] = out.setdefault("preconditions", {})  # repeated messages merge
            for p in iter_fields(_as_bytes(field)):
                if p.number == _PRECONDITION_UID:
                    pre["uid"] = _as_str(p)
                elif p.number == _PRECONDITION_RESOURCE_VERSION:
                    pre["resourceVersion"] = _as_str(p)
        elif field.number == _DO_ORPHAN_DEPENDENTS:
            out["orphanDependents"] = _as_int(field) != 0
        elif field.number == _DO_PROPAGATION_POLICY:
            out["propagationPolicy"] = _as_str(field)
        elif field.number == _DO_DRY_RUN:
            dry_run.append(_as_str(field))
        elif field.number == _DO_IGNORE_STORE_READ_ERROR:
            out["ignoreStoreReadErrorWithClusterBreakingPotential"] = _as_int(field) != 0
    if dry_run:
        out["dryRun"] = dry_run
    return out


def encode_delete_options(options: dict[str, Any]) -> bytes:
    """The inverse of :func:`decode_delete_options` (for tests and protobuf-speaking clients)."""
    raw = b""
    if options.get("gracePeriodSeconds") is not None:
        raw += field_varint(_DO_GRACE_PERIOD_SECONDS, int(options["gracePeriodSeconds"]))
    pre = options.get("preconditions")
    if pre is not None:
        body = b""
        if pre.get("uid") is not None:
            body += field_string(_PRECONDITION_UID, pre["uid"])
        if pre.get("resourceVersion") is not None:
            body += field_string(_PRECONDITION_RESOURCE_VERSION, pre["resourceVersion"])
        raw += field_bytes(_DO_PRECONDITIONS, body)
    if options.get("orphanDependents") is not None:
        raw += field_bool(_DO_ORPHAN_DEPENDENTS, bool(options["orphanDependents"]))
    if options.get("propagationPolicy") is not None:
        raw += field_string(_DO_PROPAGATION_POLICY, options["propagationPolicy"])
    for value in options.get("dryRun") or ():
        raw += field_string(_DO_DRY_RUN, value)
    if options.get("ignoreStoreReadErrorWithClusterBreakingPotential") is not None:
        flag = bool(options["ignoreStoreReadErrorWithClusterBreakingPotential"])
        raw += field_bool(_DO_IGNORE_STORE_READ_ERROR, flag)
    return encode_unknown(
        raw,
        api_version=options.get("apiVersion") or _DELETE_OPTIONS_API_VERSION,
        kind=options.get("kind") or _DELETE_OPTIONS_KIND,
    )
