"""``metadata.managedFields`` entries: decoding, identity, ordering, capping, encoding.

Mirrors ``k8s.io/apimachinery/pkg/util/managedfields/internal``:

* ``managedfields.go``: decode/encode, and ``sortEncodedManagedFields`` (``Apply`` entries
  before ``Update`` ones, then by time, manager, apiVersion, subresource);
* ``buildmanagerinfo.go`` / ``BuildManagerIdentifier``: a manager is identified by name,
  operation and subresource, plus apiVersion for ``Update`` entries only, never by time;
* ``capmanagers.go``: at most :data:`MAX_UPDATE_MANAGERS` ``Update`` entries; the oldest are
  folded into an ``ancient-changes`` entry per apiVersion;
* ``conflict.go`` ``printManager``: how a manager is named in conflict messages.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from kubeds.apiserver.apply.fieldpath import Path, decode_fields_v1, to_fields_v1

__all__ = [
    "ANCIENT_CHANGES",
    "APPLY",
    "MAX_UPDATE_MANAGERS",
    "UPDATE",
    "ManagerEntry",
    "cap_update_managers",
    "decode_managed_fields",
    "encode_managed_fields",
    "is_reset",
]

APPLY = "Apply"
UPDATE = "Update"
FIELDS_TYPE = "FieldsV1"
MAX_UPDATE_MANAGERS = 10  # upstream DefaultMaxUpdateManagers
ANCIENT_CHANGES = "ancient-changes"  # upstream's bucket for capped update managers


@dataclass
class ManagerEntry:
    """One ``managedFields`` entry with its field set decoded."""

    manager: str
    operation: str
    api_version: str
    fields: set[Path] = field(default_factory=set)
    time: str | None = None
    subresource: str = ""
    # The field set as decoded and its fieldsV1 tree: encoding reuses the tree while the set is
    # unchanged (most entries of most writes), instead of rebuilding and re-sorting it.
    decoded: tuple[frozenset[Path], dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of the manager (upstream ``BuildManagerIdentifier``)."""
        version = "" if self.operation == APPLY else self.api_version
        return self.manager, self.operation, version, self.subresource

    @property
    def identifier(self) -> str:
        """Upstream's JSON identifier; conflicts are grouped and sorted by it."""
        out: dict[str, str] = {"manager": self.manager, "operation": self.operation}
        if self.operation != APPLY and self.api_version:
            out["apiVersion"] = self.api_version
        if self.subresource:
            out["subresource"] = self.subresource
        return json.dumps(out, separators=(",", ":"))

    def describe(self) -> str:
        """``"kubectl-client-side-apply" using apps/v1``, as upstream ``printManager``."""
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


def is_reset(managed_fields: Any) -> bool:
    """A request resets managedFields with ``[]`` or ``[{}]`` (upstream ``isResetManagedFields``)."""
    return isinstance(managed_fields, list) and (managed_fields == [] or managed_fields == [{}])


def decode_managed_fields(managed_fields: Any) -> list[ManagerEntry]:
    """Decode entries; raises ``ValueError`` for anything malformed (as upstream's decode fails)."""
    if managed_fields is None:
        return []
    if not isinstance(managed_fields, list):
        raise ValueError("managedFields must be a list")
    entries: list[ManagerEntry] = []
    seen: set[tuple[str, str, str, str]] = set()
    for raw in managed_fields:
        if not isinstance(raw, dict):
            raise ValueError("managedFields entries must be objects")
        operation = raw.get("operation")
        if operation not in (APPLY, UPDATE):
            raise ValueError(f"unsupported operation {operation!r}")
        if raw.get("fieldsType", FIELDS_TYPE) != FIELDS_TYPE:
            raise ValueError(f"unsupported fieldsType {raw.get('fieldsType')!r}")
        tree = raw.get("fieldsV1") or {}
        paths, canonical = decode_fields_v1(tree)
        entry = ManagerEntry(
            manager=str(raw.get("manager", "")),
            operation=operation,
            api_version=str(raw.get("apiVersion", "")),
            fields=paths,
            time=raw.get("time"),
            subresource=str(raw.get("subresource", "")),
            decoded=(frozenset(paths), tree) if paths and canonical else None,
        )
        if entry.key in seen:
            raise ValueError(f"duplicate entry for manager {entry.identifier}")
        seen.add(entry.key)
        entries.append(entry)
    return entries


def _seconds(time: str | None) -> float:
    if not time:
        return 0.0
    try:
        return dt.datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _sort_key(entry: ManagerEntry) -> tuple[str, float, str, str, str]:
    return entry.operation, _seconds(entry.time), entry.manager, entry.api_version, entry.subresource


def encode_managed_fields(entries: list[ManagerEntry]) -> list[dict[str, Any]]:
    """Entries in upstream's stored order, empty ones dropped."""
    out: list[dict[str, Any]] = []
    for entry in sorted((e for e in entries if e.fields), key=_sort_key):
        raw: dict[str, Any] = {
            "manager": entry.manager,
            "operation": entry.operation,
            "apiVersion": entry.api_version,
        }
        if entry.time is not None:
            raw["time"] = entry.time
        raw["fieldsType"] = FIELDS_TYPE
        if entry.decoded is not None and entry.decoded[0] == entry.fields:
            raw["fieldsV1"] = entry.decoded[1]
        else:
            raw["fieldsV1"] = to_fields_v1(entry.fields)
        if entry.subresource:
            raw["subresource"] = entry.subresource
        out.append(raw)
    return out


def cap_update_managers(
    entries: list[ManagerEntry], *, limit: int = MAX_UPDATE_MANAGERS
) -> list[ManagerEntry]:
    """Fold the oldest ``Update`` entries into ``ancient-changes`` until at most ``limit`` remain."""
    updaters = [e for e in entries if e.operation == UPDATE]
    if len(updaters) <= limit:
        return entries
    updaters.sort(key=lambda e: (_seconds(e.time), e.manager))
    kept = list(entries)
    count = len(updaters)
    for oldest in updaters:
        if count <= limit:
            break
        if oldest.manager == ANCIENT_CHANGES and not oldest.subresource:
            continue
        kept.remove(oldest)
        bucket = next(
            (e for e in kept if e.key == (ANCIENT_CHANGES, UPDATE, oldest.api_version, "")),
            None,
        )
        if bucket is None:
            kept.append(
                ManagerEntry(ANCIENT_CHANGES, UPDATE, oldest.api_version, set(oldest.fields), oldest.time)
            )
        else:
            bucket.fields |= oldest.fields
            if _seconds(oldest.time) > _seconds(bucket.time):
                bucket.time = oldest.time
            count -= 1
    return kept
