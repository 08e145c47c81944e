"""``metadata.managedFields`` entries: decoding, identity, ordering, capping, encoding.

Mirrors ``k8s.io/apimachinery/pkg/util/managedfields/internal``:

* ``managedfields.go``: decode/encode, and ``sortEncodedManagedFields`` (``Apply`` entries
  before ``Update`` ones, then by time, manager, apiVersion, subresource);
* ``buildmanagerinfo.go`` / ``BuildManagerIdentifier``: a manager is identified by name,
  operation and subresource, plus apiVersion for ``Update`` entries only, never by time;
* ``capmanagers.go``: at most :data:`MAX_UPDATE_MANAGERS` ``Update`` entries; the oldest are
  folded into an ``ancient-changes`` entry per apiVersion;
* ``conflict.go`` ``printManager``: how a manager is named in conflict messages.

Entries are decoded lazily: a well-formed, canonical ``fieldsV1`` tree seen before (remembered by a
16-byte BLAKE2 digest of its JSON) is not walked again, its field set is decoded only when a write
touches it, and an unchanged set is written back as the tree it was read as.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import orjson

from kubeds.apiserver.apply.fieldpath import SELF, Path, decode_fields_v1, from_fields_v1, to_fields_v1

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
    "remember_canonical",
]

APPLY = "Apply"
UPDATE = "Update"
FIELDS_TYPE = "FieldsV1"
MAX_UPDATE_MANAGERS = 10  # upstream DefaultMaxUpdateManagers
ANCIENT_CHANGES = "ancient-changes"  # upstream's bucket for capped update managers
LAZY_LOOKUPS = 64  # at most this many paths are looked up in an undecoded tree (else it is decoded)
DIGEST_BYTES = 16
MAX_REMEMBERED_TREES = 1 << 16
# Fingerprints of fieldsV1 trees known to be well-formed, canonical and non-empty: decoding one
# again needs no walk (its field set is decoded only if a write touches it).
_CANONICAL_TREES: set[bytes] = set()


class ManagerEntry:
    """One ``managedFields`` entry: who, how, when, and the set of fields it owns.

    An entry read from an object keeps its ``fieldsV1`` tree. Its field set is decoded from the
    tree on first use: most writes touch none of most entries' fields, which :meth:`has`
    answers from the tree, and an entry whose set did not change is written back as the tree it
    was read as (:meth:`fields_v1`).
    """

    def __init__(
        self,
        manager: str,
        operation: str,
        api_version: str,
        fields: set[Path] | None = None,
        time: str | None = None,
        subresource: str = "",
        *,
        tree: dict[str, Any] | None = None,
    ) -> None:
        self.manager = manager
        self.operation = operation
        self.api_version = api_version
        self.time = time
        self.subresource = subresource
        # ``tree`` is canonical and non-empty; ``fields`` None means "not decoded from it yet".
        self._tree = tree
        self._fields: set[Path] | None = fields if fields is not None or tree is not None else set()
        self._tree_fields: frozenset[Path] | None = frozenset(fields) if tree is not None and fields else None

    def __repr__(self) -> str:
        return f"ManagerEntry({self.manager!r}, {self.operation!r}, {self.api_version!r}, time={self.time!r})"

    @property
    def fields(self) -> set[Path]:
        if self._fields is None:
            assert self._tree is not None
            paths = from_fields_v1(self._tree)
            self._tree_fields = frozenset(paths)
            self._fields = paths
        return self._fields

    @fields.setter
    def fields(self, value: set[Path]) -> None:
        self._fields = value

    @property
    def owns_any(self) -> bool:
        """Whether the field set is non-empty (an undecoded tree always is)."""
        return self._fields is None or bool(self._fields)

    def has(self, path: Path) -> bool:
        """``path in self.fields``, from the tree while the set is not decoded."""
        if self._fields is not None:
            return path in self._fields
        node: Any = self._tree
        for element in path:
            node = node.get(element)
            if node is None:
                return False
        return bool(path) and (not node or SELF in node)

    def discard_all(self, paths: set[Path]) -> None:
        """``fields -= paths``, without decoding the tree when it holds none of them."""
        if self._fields is None and (len(paths) > LAZY_LOOKUPS or any(self.has(p) for p in paths)):
            self.fields  # noqa: B018  (decode now)
        if self._fields is not None:
            self._fields -= paths

    def replace_all(self, removed: set[Path], added: set[Path]) -> None:
        """``fields = (fields - removed) | added``, without decoding the tree when that leaves the
        set as it is: it holds all of ``added`` and none of the rest of ``removed``."""
        if self._fields is None and len(removed) + len(added) <= LAZY_LOOKUPS:
            if all(self.has(p) for p in added) and not any(self.has(p) for p in removed - added):
                return
        fields = self.fields
        fields -= removed
        fields |= added

    def fields_v1(self) -> dict[str, Any]:
        """The ``fieldsV1`` tree: the one read, while the set is unchanged."""
        if self._tree is not None and (self._fields is None or _same_set(self._fields, self._tree_fields)):
            return self._tree
        tree = to_fields_v1(self.fields)
        remember_canonical(tree)
        return tree

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
        digest = _digest(tree)
        paths: set[Path] | None = None
        if digest is None or digest not in _CANONICAL_TREES:
            paths, canonical = decode_fields_v1(tree)
            if canonical and paths and digest is not None:
                _remember(digest)
            elif not canonical or not paths:
                tree = None
        entry = ManagerEntry(
            manager=str(raw.get("manager", "")),
            operation=operation,
            api_version=str(raw.get("apiVersion", "")),
            fields=paths,
            time=raw.get("time"),
            subresource=str(raw.get("subresource", "")),
            tree=tree,
        )
        if entry.key in seen:
            raise ValueError(f"duplicate entry for manager {entry.identifier}")
        seen.add(entry.key)
        entries.append(entry)
    return entries


def _same_set(fields: set[Path], decoded: frozenset[Path] | None) -> bool:
    return decoded is not None and len(fields) == len(decoded) and fields.issuperset(decoded)


def _digest(tree: Any) -> bytes | None:
    """A fingerprint of a ``fieldsV1`` tree's exact JSON (None: not JSON orjson can write)."""
    if not isinstance(tree, dict):
        return None
    try:
        return hashlib.blake2b(orjson.dumps(tree), digest_size=DIGEST_BYTES).digest()
    except (TypeError, orjson.JSONEncodeError):
        return None


def _remember(digest: bytes) -> None:
    if len(_CANONICAL_TREES) >= MAX_REMEMBERED_TREES:
        _CANONICAL_TREES.clear()
    _CANONICAL_TREES.add(digest)


def remember_canonical(tree: dict[str, Any]) -> None:
    """Note a tree the server built (canonical, non-empty), so reading it back skips its walk."""
    digest = _digest(tree)
    if digest is not None and tree:
        _remember(digest)


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
    for entry in sorted((e for e in entries if e.owns_any), key=_sort_key):
        raw: dict[str, Any] = {
            "manager": entry.manager,
            "operation": entry.operation,
            "apiVersion": entry.api_version,
        }
        if entry.time is not None:
            raw["time"] = entry.time
        raw["fieldsType"] = FIELDS_TYPE
        raw["fieldsV1"] = entry.fields_v1()
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
