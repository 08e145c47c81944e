"""Decode a Kubernetes protobuf request body into the JSON-shaped object it stands for.

Upstream's protobuf serializer (``apimachinery/pkg/runtime/serializer/protobuf/protobuf.go``)
reads the ``k8s\\x00`` magic and the ``runtime.Unknown`` envelope, looks the envelope's
``apiVersion``/``kind`` up in the scheme and unmarshals ``raw`` into the Go struct with the
gogo-generated code (``generated.pb.go``). The API server then works on that struct, which is
what the same object sent as JSON would have produced. This module does the same in one step: it
walks ``raw`` with :func:`kubeds.apiserver.protobuf.iter_fields` against the committed layout
(:mod:`.schema`) and builds the dict that ``encoding/json`` would write for the decoded struct:

* JSON names and inlining come from the Go struct tags (``Volume.VolumeSource``,
  ``Probe.ProbeHandler`` and ``EphemeralContainer.EphemeralContainerCommon`` are inlined);
* proto2 presence is kept where Go keeps it: a pointer scalar present on the wire is emitted
  even when zero (``replicas: 0``); a plain value with ``omitempty`` is dropped when zero, as Go
  clients always write those fields (``name: ""``, ``generation: 0``) and JSON omits them;
* a singular message field is always emitted (Go structs are never omitted), a repeated field or
  map only when it has entries; a singular message sent twice is merged (concatenated bytes);
  packed repeated scalars are accepted;
* int64 becomes ``int``, bytes become standard base64 text (as ``encoding/json`` writes
  ``[]byte``), invalid UTF-8 in strings is replaced by U+FFFD (as ``encoding/json`` does), and the
  well-known types (Time, MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1) use
  their own JSON forms (:mod:`.wellknown`);
* unknown field numbers are skipped, as protobuf readers do.

Malformed input (bad magic, truncation, wrong wire types, unknown kinds, a content encoding)
raises ``ValueError`` with a message naming the field path.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from kubeds.apiserver.protobuf import (
    WIRE_FIXED32,
    WIRE_FIXED64,
    WIRE_LEN,
    WIRE_VARINT,
    WireField,
    decode_unknown,
    decode_varint,
    iter_fields,
    to_int64,
)
from kubeds.apiserver.protoschema.schema import LABEL_MAP, LABEL_REPEATED, FieldSpec, Schema, load_schema
from kubeds.apiserver.protoschema.wellknown import SPECIAL_TYPES

__all__ = [
    "decode_message",
    "decode_object",
]

MAX_DEPTH = 64

MSG_NO_KIND = "object has no kind in its protobuf envelope"
MSG_NOT_REGISTERED = 'no kind "{kind}" is registered for version "{api_version}"'
MSG_CONTENT_ENCODING = "unsupported content encoding {encoding!r}"
MSG_WIRE_TYPE = "field {number} has wire type {got}, expected {want}"
MSG_TOO_DEEP = "message nesting exceeds {depth} levels"
MSG_AT = "{path}: {error}"

_VARINT_TYPES = frozenset({"int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool"})
_FIXED32_TYPES = frozenset({"fixed32", "sfixed32", "float"})
_FIXED64_TYPES = frozenset({"fixed64", "sfixed64", "double"})
_SCALARS = _VARINT_TYPES | _FIXED32_TYPES | _FIXED64_TYPES | {"string", "bytes"}
_MASK32 = (1 << 32) - 1


class _PathError(ValueError):
    """A ValueError already prefixed with the field path (so outer levels do not prefix again)."""


def _wire_type_of(ftype: str) -> int:
    if ftype in _VARINT_TYPES:
        return WIRE_VARINT
    if ftype in _FIXED32_TYPES:
        return WIRE_FIXED32
    if ftype in _FIXED64_TYPES:
        return WIRE_FIXED64
    return WIRE_LEN


def _scalar(ftype: str, raw: int | bytes) -> Any:
    """Convert one wire value (already checked to have the right wire type) to its JSON value."""
    if isinstance(raw, bytes):
        if ftype == "string":
            return raw.decode("utf-8", errors="replace")
        return base64.b64encode(raw).decode("ascii")
    if ftype == "bool":
        return raw != 0
    if ftype in ("int64", "sfixed64"):
        return to_int64(raw)
    if ftype in ("int32", "sfixed32"):
        low = raw & _MASK32
        return low - (1 << 32) if low >= 1 << 31 else low
    if ftype in ("uint32", "fixed32"):
        return raw & _MASK32
    if ftype in ("sint32", "sint64"):
        return (raw >> 1) ^ -(raw & 1)
    if ftype == "double":
        return struct.unpack("<d", raw.to_bytes(8, "little"))[0]
    if ftype == "float":
        return struct.unpack("<f", raw.to_bytes(4, "little"))[0]
    return raw  # uint64, fixed64


def _unpack(ftype: str, data: bytes) -> list[int]:
    """A packed repeated scalar: consecutive varints or fixed-size values in one LEN field."""
    out: list[int] = []
    pos = 0
    if ftype in _VARINT_TYPES:
        while pos < len(data):
            value, pos = decode_varint(data, pos)
            out.append(value)
        return out
    size = 4 if ftype in _FIXED32_TYPES else 8
    if len(data) % size:
        raise ValueError(f"packed {ftype} field has {len(data)} bytes")
    return [int.from_bytes(data[i : i + size], "little") for i in range(0, len(data), size)]


class _Decoder:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def value(self, ftype: str, wire: WireField, path: str, depth: int) -> Any:
        """One singular value of a scalar or message type."""
        want = _wire_type_of(ftype)
        if wire.wire_type != want:
            raise ValueError(MSG_WIRE_TYPE.format(number=wire.number, got=wire.wire_type, want=want))
        if ftype in _SCALARS:
            return _scalar(ftype, wire.value)
        assert isinstance(wire.value, bytes)
        return self.message(wire.value, ftype, path, depth + 1)

    def message(self, data: bytes, name: str, path: str, depth: int) -> Any:
        special = SPECIAL_TYPES.get(name)
        try:
            if special is not None:
                return special(data)
            if depth > MAX_DEPTH:
                raise ValueError(MSG_TOO_DEEP.format(depth=MAX_DEPTH))
            return self._fields(data, name, path, depth)
        except _PathError:
            raise
        except ValueError as exc:
            raise _PathError(MSG_AT.format(path=path or "<root>", error=exc)) from None

    def _fields(self, data: bytes, name: str, path: str, depth: int) -> dict[str, Any]:
        specs = self.schema.messages.get(name)
        if specs is None:
            raise ValueError(f"message {name} is not in the protobuf schema")
        singles: dict[int, Any] = {}
        merged: dict[int, bytes] = {}  # singular messages: repeated occurrences merge
        lists: dict[int, list[Any]] = {}
        maps: dict[int, dict[str, Any]] = {}
        for wire in iter_fields(data):
            spec = specs.get(wire.number)
            if spec is None or spec.hidden:
                continue
            sub = f"{path}.{spec.json_name}" if path and spec.json_name else (spec.json_name or path)
            if spec.label == LABEL_MAP:
                maps.setdefault(spec.number, {}).update([self._entry(spec, wire, sub, depth)])
            elif spec.label == LABEL_REPEATED:
                items = lists.setdefault(spec.number, [])
                if wire.wire_type == WIRE_LEN and spec.type in _SCALARS - {"string", "bytes"}:
                    assert isinstance(wire.value, bytes)
                    items.extend(_scalar(spec.type, v) for v in _unpack(spec.type, wire.value))
                else:
                    items.append(self.value(spec.type, wire, f"{sub}[{len(items)}]", depth))
            elif spec.type in _SCALARS:
                singles[spec.number] = self.value(spec.type, wire, sub, depth)
            else:
                if wire.wire_type != WIRE_LEN:
                    raise ValueError(
                        MSG_WIRE_TYPE.format(number=wire.number, got=wire.wire_type, want=WIRE_LEN)
                    )
                assert isinstance(wire.value, bytes)
                merged[spec.number] = merged.get(spec.number, b"") + wire.value
        for number, raw in merged.items():
            spec = specs[number]
            sub = f"{path}.{spec.json_name}" if path and spec.json_name else (spec.json_name or path)
            singles[number] = self.message(raw, spec.type, sub, depth + 1)
        out: dict[str, Any] = {}
        for number in sorted(specs):
            spec = specs[number]
            if number in singles:
                self._emit(out, spec, singles[number])
            elif lists.get(number):
                out[spec.json_name] = lists[number]
            elif maps.get(number):
                out[spec.json_name] = maps[number]
        return out

    @staticmethod
    def _emit(out: dict[str, Any], spec: FieldSpec, value: Any) -> None:
        if spec.inline and isinstance(value, dict):
            out.update(value)
        elif spec.type in _SCALARS and spec.omit_zero and not spec.pointer and not value:
            return
        else:
            out[spec.json_name] = value

    def _entry(self, spec: FieldSpec, wire: WireField, path: str, depth: int) -> tuple[str, Any]:
        if wire.wire_type != WIRE_LEN:
            raise ValueError(MSG_WIRE_TYPE.format(number=wire.number, got=wire.wire_type, want=WIRE_LEN))
        assert isinstance(wire.value, bytes)
        key: Any = "" if spec.key_type == "string" else 0
        value_raw: WireField | None = None
        for part in iter_fields(wire.value):
            if part.number == 1:
                key = self.value(spec.key_type, part, path, depth)
            elif part.number == 2:
                value_raw = part
        entry_path = f"{path}[{key}]"
        if value_raw is not None:
            value = self.value(spec.type, value_raw, entry_path, depth)
        elif spec.type in _SCALARS:
            value = "" if spec.type in ("string", "bytes") else False if spec.type == "bool" else 0
        else:
            value = self.message(b"", spec.type, entry_path, depth + 1)
        return str(key), value


def decode_message(data: bytes, message: str, *, schema: Schema | None = None) -> dict[str, Any]:
    """Decode ``data`` as the named message (no envelope) into its JSON form."""
    value = _Decoder(schema or load_schema()).message(data, message, "", 0)
    if not isinstance(value, dict):
        raise ValueError(f"message {message} does not decode to an object")
    return value


def decode_object(body: bytes, *, schema: Schema | None = None) -> dict[str, Any]:
    """Decode a ``application/vnd.kubernetes.protobuf`` body (magic + ``runtime.Unknown``).

    Returns the object as JSON would carry it, ``kind`` and ``apiVersion`` first (from the
    envelope's ``typeMeta``). Raises ``ValueError`` for malformed bodies and unserved kinds.
    """
    schema = schema or load_schema()
    envelope = decode_unknown(body)
    if envelope["contentEncoding"]:
        raise ValueError(MSG_CONTENT_ENCODING.format(encoding=envelope["contentEncoding"]))
    kind, api_version = envelope["kind"], envelope["apiVersion"]
    if not kind:
        raise ValueError(MSG_NO_KIND)
    message = schema.message_for(api_version, kind)
    if message is None:
        raise ValueError(MSG_NOT_REGISTERED.format(kind=kind, api_version=api_version))
    out: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    out.update(decode_message(envelope["raw"], message, schema=schema))
    return out
