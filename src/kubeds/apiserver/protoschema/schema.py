"""The committed protobuf layout of the served kinds (``schema.json``), loaded once.

``schema.json`` is written by ``scripts/gen_proto_schema.py`` from upstream's ``generated.proto``
files and Go struct tags (see that script for the format). This module turns its rows into
:class:`FieldSpec` tables keyed by field number, and maps an envelope's ``apiVersion``/``kind`` to
the message that carries the object, as upstream's scheme does
(``apimachinery/pkg/runtime/scheme.go``: ``New(gvk)``). The option kinds that
``metav1.AddToGroupVersion`` registers into every group version (``DeleteOptions`` and friends)
resolve to their ``meta.v1`` message whatever the group.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "FieldSpec",
    "Schema",
    "load_schema",
]

SCHEMA_FILE = "schema.json"
META_V1 = "k8s.io.apimachinery.pkg.apis.meta.v1"
# kinds metav1.AddToGroupVersion registers in every group version (register.go); only those in the
# generated schema can be decoded.
META_OPTION_KINDS = ("DeleteOptions", "CreateOptions", "UpdateOptions", "PatchOptions", "GetOptions")

LABEL_SINGLE = ""
LABEL_REPEATED = "repeated"
LABEL_MAP = "map"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message.

    ``type`` is a proto scalar name or a message full name; for maps ``key_type``/``type`` are the
    entry's key and value types. ``pointer``: a Go pointer, presence is kept; ``omit_zero``: a
    Go value with ``omitempty``, its zero value is dropped; ``inline``: the message's fields are
    merged into the parent (embedded Go struct); ``hidden``: ``json:"-"``.
    """

    number: int
    json_name: str
    type: str
    label: str = LABEL_SINGLE
    key_type: str = ""
    pointer: bool = False
    omit_zero: bool = False
    inline: bool = False
    hidden: bool = False


@dataclass(frozen=True)
class Schema:
    kinds: dict[str, str]  # "apps/v1/Deployment" -> message name
    messages: dict[str, dict[int, FieldSpec]]
    source: dict[str, str]

    def message_for(self, api_version: str, kind: str) -> str | None:
        """The message name for an envelope's type, or ``None`` when the kind is not served."""
        name = self.kinds.get(f"{api_version}/{kind}")
        if name is None and kind in META_OPTION_KINDS and api_version:
            candidate = f"{META_V1}.{kind}"
            if candidate in self.messages:
                name = candidate
        return name


def _field(row: list[Any]) -> FieldSpec:
    number, json_name, ftype, label, flags = row
    key_type = ""
    if label == LABEL_MAP:
        key_type, ftype = ftype
    return FieldSpec(
        number=int(number),
        json_name=str(json_name),
        type=str(ftype),
        label=str(label),
        key_type=str(key_type),
        pointer="p" in flags,
        omit_zero="o" in flags,
        inline="i" in flags,
        hidden="-" in flags,
    )


def parse_schema(doc: dict[str, Any]) -> Schema:
    messages = {
        name: {spec.number: spec for spec in map(_field, rows)} for name, rows in doc["messages"].items()
    }
    return Schema(kinds=dict(doc["kinds"]), messages=messages, source=dict(doc.get("source", {})))


@functools.cache
def load_schema() -> Schema:
    """The packaged ``schema.json``, parsed on first use."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return parse_schema(json.loads(text))
