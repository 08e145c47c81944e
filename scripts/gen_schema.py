"""Generate ``src/kubeds/apiserver/schema/fields.json``: the known-field tree of every served kind.

The official ``kubernetes`` Python client is generated from the upstream OpenAPI document, so each
model class carries the Go struct's JSON field names (``attribute_map``) and their types
(``openapi_types``). This script walks those classes from each kind in
:data:`kubeds.apiserver.resources.RESOURCES` (and the subresource kinds: Binding, Eviction, Scale)
and writes a compact JSON document::

    {"kinds": {"DaemonSet": "V1DaemonSet", ...},
     "types": {"V1DaemonSet": {"apiVersion": "string", "metadata": "V1ObjectMeta", ...}, ...}}

A field type is one of ``string``, ``integer``, ``number``, ``boolean``, ``date-time``, ``byte``,
``any`` (free-form: int-or-string, RawExtension, FieldsV1), a model name (an object with known
fields), ``[]T`` (array of T) or ``{}T`` (map from string to T).

Run: ``.venv/bin/python scripts/gen_schema.py`` (rewrites the file; it is committed).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import kubernetes.client.models as models

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kubeds.apiserver import resources  # noqa: E402

OUT = ROOT / "src" / "kubeds" / "apiserver" / "schema" / "fields.json"

SCALARS = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "datetime": "date-time",
    "bytes": "byte",
    "object": "any",
}
_LIST = re.compile(r"^List\[(.*)\]$")
_DICT = re.compile(r"^Dict\[str, (.*)\]$")


def model_class(kind: str, version: str, group: str) -> str:
    """The client's class name for a kind: ``V1DaemonSet``, or group-prefixed ``CoreV1Event``."""
    v = version[0].upper() + version[1:]
    candidates = [f"{v}{kind}"]
    prefix = (group.split(".")[0] or "core").capitalize()
    candidates.insert(0, f"{prefix}{v}{kind}")
    for name in candidates:
        if hasattr(models, name):
            return name
    raise SystemExit(f"no client model for {group}/{version} {kind}")


def convert(type_str: str, pending: list[str]) -> str:
    m = _LIST.match(type_str)
    if m:
        return "[]" + convert(m.group(1), pending)
    m = _DICT.match(type_str)
    if m:
        return "{}" + convert(m.group(1), pending)
    if type_str in SCALARS:
        return SCALARS[type_str]
    if not hasattr(models, type_str):
        raise SystemExit(f"unknown client type {type_str!r}")
    pending.append(type_str)
    return type_str


def build() -> dict[str, Any]:
    kinds: dict[str, str] = {}
    for r in resources.RESOURCES:
        kinds[r.kind] = model_class(r.kind, r.version, r.group)
        for sub in r.subresources:
            if sub.kind not in kinds:
                kinds[sub.kind] = model_class(sub.kind, sub.version or r.version, sub.group or r.group)
    types: dict[str, dict[str, str]] = {}
    pending = list(kinds.values())
    while pending:
        name = pending.pop()
        if name in types:
            continue
        cls = getattr(models, name)
        fields: dict[str, str] = {}
        for attr, type_str in sorted(cls.openapi_types.items(), key=lambda kv: cls.attribute_map[kv[0]]):
            fields[cls.attribute_map[attr]] = convert(type_str, pending)
        types[name] = fields
    return {"kinds": dict(sorted(kinds.items())), "types": dict(sorted(types.items()))}


def main() -> None:
    doc = build()
    text = json.dumps(doc, separators=(",", ":"), sort_keys=False)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(doc['kinds'])} kinds, {len(doc['types'])} types")


if __name__ == "__main__":
    main()
