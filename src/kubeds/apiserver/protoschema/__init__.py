"""Decoding of Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``).

kubectl >= 1.32 sends POST/PUT bodies of its typed clients as protobuf. :func:`decode_object`
turns such a body into the JSON-shaped dict the rest of the API server works on; the layout of
every served kind is generated from upstream's ``generated.proto`` files and Go struct tags by
``scripts/gen_proto_schema.py`` into the committed ``schema.json``.
"""

from __future__ import annotations

from kubeds.apiserver.protoschema.decoder import decode_message, decode_object
from kubeds.apiserver.protoschema.schema import FieldSpec, Schema, load_schema

__all__ = [
    "FieldSpec",
    "Schema",
    "decode_message",
    "decode_object",
    "load_schema",
]
