"""Server-side apply and managedFields tracking for ordinary writes.

Mirrors the field manager chain of ``k8s.io/apimachinery/pkg/util/managedfields/internal``:

* ``structuredmerge.go`` + SMD ``merge/update.go`` (``Updater.Apply``/``Updater.Update``): an
  apply merges the configuration into the live object, prunes what the applier applied last
  time but no longer applies and nobody else owns, then compares live and result: another
  manager owning a field whose value changes is a conflict, unless ``force``, which takes the
  field away from it. Every write removes changed and removed fields from the other managers;
  an ``Update`` writer gains what it added or modified.
* ``managedfieldsupdater.go``: an entry's ``time`` moves only when the write changed something.
* ``stripmeta.go``: ``apiVersion``, ``kind`` and server-owned metadata are never owned.
* ``skipnonapplied.go``: the first apply to an object without managedFields gives its existing
  fields to ``before-first-apply``, so they conflict instead of being silently overwritten.
* ``lastappliedmanager.go``: ``kubectl`` applying over a client-side-applied object may take
  the fields whose live value still equals the last-applied annotation without conflict.
* ``lastappliedupdater.go``: ``kubectl`` applies keep that annotation in sync.
* ``fieldmanager.go`` ``decodeLiveOrNew``: managedFields sent in an update replace the stored
  ones (``[]`` or ``[{}]`` clears them); subresource writes never change them directly.

Reset fields (``registry/rest`` ``ResetFieldsStrategy``) are approximated per subresource: the
main resource ignores ``status``, the ``status`` subresource ignores ``spec``.

Cost (every write of every component comes through :func:`track_update`): the objects compared
are shallow views without ``managedFields``; a create with no prior entries builds its one
``fieldsV1`` tree straight from the object (:func:`_store_created`); on updates the entries'
field sets are decoded only when the write touches them (:class:`managers.ManagerEntry`), so a
Lease renewal re-encodes nothing but its time; the reset sections are left out of the comparison
(:func:`_changes`), so a pod status write never serialises the pod's spec.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from kubeds.apiserver.apply.conflict import ApplyConflict
from kubeds.apiserver.apply.fieldpath import (
    FIELD,
    SELF,
    Path,
    encode_json,
    recursive_difference,
    to_fields_v1,
)
from kubeds.apiserver.apply.managers import (
    APPLY,
    FIELDS_TYPE,
    UPDATE,
    ManagerEntry,
    cap_update_managers,
    decode_managed_fields,
    encode_managed_fields,
    is_reset,
    remember_canonical,
)
from kubeds.apiserver.apply.schema import Struct, schema_for
from kubeds.apiserver.apply.typed import added_fields_v1, compare, merge, remove_paths, to_field_set

__all__ = ["ApplyConflict", "apply", "fields_v1", "track_update"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
KUBECTL_MANAGER = "kubectl"  # the only applier whose last-applied handling upstream special-cases
BEFORE_FIRST_APPLY = "before-first-apply"

# Metadata an applied configuration may set; the rest is the server's.
APPLIED_METADATA = (
    "name",
    "namespace",
    "generateName",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
)

# upstream stripmeta.go: never recorded as owned.
STRIPPED: frozenset[Path] = frozenset(
    {
        (FIELD + "apiVersion",),
        (FIELD + "kind",),
        (FIELD + "metadata",),
        *(
            (FIELD + "metadata", FIELD + name)
            for name in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ),
    }
)

_STRIPPED_DEEPEST_FIRST = sorted(STRIPPED, key=len, reverse=True)

RESET_FIELDS: dict[str, tuple[Path, ...]] = {
    "": ((FIELD + "status",),),
    "status": ((FIELD + "spec",),),
}
# Every reset field is a whole top-level section, so an update compares objects without them
# (:func:`_changes`) instead of walking them and dropping what it found below them.
RESET_SECTIONS: dict[str, frozenset[str]] = {
    sub: frozenset(p[0][len(FIELD) :] for p in paths) for sub, paths in RESET_FIELDS.items()
}
assert all(len(p) == 1 and p[0].startswith(FIELD) for paths in RESET_FIELDS.values() for p in paths)


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A view of ``obj`` without ``metadata.managedFields``: new top and metadata dicts, shared
    values. Callers only read it (compare, field sets) or merge it into new containers, and
    ``apply`` copies its result before handing it out."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    out = dict(obj)
    out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


def _without_sections(obj: dict[str, Any], skipped: frozenset[str]) -> dict[str, Any]:
    """A shallow view of ``obj`` without its ``skipped`` top-level sections (``obj`` if it has none)."""
    if any(key in obj for key in skipped):
        return {k: v for k, v in obj.items() if k not in skipped}
    return obj


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _configuration(applied: dict[str, Any]) -> dict[str, Any]:
    """The applied object as apply uses it: no status, only user-settable metadata, no nulls."""
    config: dict[str, Any] = _drop_nulls(copy.deepcopy(applied))
    config.pop("status", None)
    meta = config.get("metadata")
    if isinstance(meta, dict):
        config["metadata"] = {k: meta[k] for k in APPLIED_METADATA if k in meta}
    return config


def _owned(paths: set[Path], ignored: tuple[Path, ...] = ()) -> set[Path]:
    return recursive_difference(paths, ignored) - STRIPPED


def _decode_or_empty(managed_fields: Any) -> list[ManagerEntry]:
    try:
        return decode_managed_fields(managed_fields)
    except ValueError:
        return []


def _managed_fields_of(obj: dict[str, Any] | None) -> Any:
    meta = (obj or {}).get("metadata")
    return meta.get("managedFields") if isinstance(meta, dict) else None


def _store(obj: dict[str, Any], entries: list[ManagerEntry]) -> None:
    meta = obj.setdefault("metadata", {})
    encoded = encode_managed_fields(entries)
    if encoded:
        meta["managedFields"] = encoded
    else:
        meta.pop("managedFields", None)


def _prefixes(paths: set[Path]) -> set[Path]:
    return {p[:i] for p in paths for i in range(1, len(p))}


# --- Update ----------------------------------------------------------------------------------------


def _track(
    old: dict[str, Any],
    new: dict[str, Any],
    entries: list[ManagerEntry],
    *,
    root: Struct,
    manager: str,
    operation: str,
    api_version: str,
    now: str,
    subresource: str,
) -> list[ManagerEntry]:
    changed, removed = _changes(old, new, root=root, subresource=subresource)
    gone = changed | removed
    gained = changed - STRIPPED
    key = (manager, operation, "" if operation == APPLY else api_version, subresource)
    mine = next((e for e in entries if e.key == key), None) if gained else None
    for entry in entries:
        if entry is not mine:
            entry.discard_all(gone)
    if gained:
        if mine is None:
            mine = ManagerEntry(manager, operation, api_version, subresource=subresource)
            entries.append(mine)
        mine.replace_all(gone, gained)  # loses what changed, gains it back: often no change at all
        mine.time = now
    return cap_update_managers([e for e in entries if e.owns_any])


def _changes(
    old: dict[str, Any], new: dict[str, Any], *, root: Struct, subresource: str
) -> tuple[set[Path], set[Path]]:
    """``(changed, removed)`` from ``old`` to ``new``, without the subresource's reset fields.

    The same as comparing the whole objects and then dropping every path at or below a reset
    field (``recursive_difference``), which is what upstream's reset-fields wrapper does; but the
    reset sections (a pod's ``spec`` on a status write: most of the object) are left out before
    comparing, so they are neither serialised nor walked.
    """
    skipped = RESET_SECTIONS.get(subresource, frozenset())
    if not skipped:
        comparison = compare(old, new, root)
        return comparison.changed(), comparison.removed
    comparison = compare(_without_sections(old, skipped), _without_sections(new, skipped), root)
    return comparison.changed(), comparison.removed


def _store_created(
    new: dict[str, Any],
    *,
    manager: str,
    operation: str,
    api_version: str,
    now: str,
    subresource: str,
    root: Struct,
) -> None:
    """:func:`_track` of a create with no prior entries, straight into one ``fieldsV1`` tree.

    The writer gains every field of the new object (:func:`added_fields_v1`) but the reset ones
    and the server's (:data:`STRIPPED`), and is the only entry.
    """
    tree = added_fields_v1(_without_managed_fields(new), root)
    for prefix in RESET_FIELDS.get(subresource, ()):
        _drop_from_tree(tree, prefix, subtree=True)
    for path in _STRIPPED_DEEPEST_FIRST:
        _drop_from_tree(tree, path, subtree=False)
    meta = new["metadata"]
    if not tree:
        meta.pop("managedFields", None)
        return
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now,
    }
    entry["fieldsType"] = FIELDS_TYPE
    entry["fieldsV1"] = tree
    if subresource:
        entry["subresource"] = subresource
    meta["managedFields"] = [entry]
    remember_canonical(tree)  # the object's next write reads this tree without walking it


def _drop_from_tree(tree: dict[str, Any], path: Path, *, subtree: bool) -> None:
    """Remove ``path`` from a canonical ``fieldsV1`` tree: with all below it (``subtree``) or as a
    member only; nodes left without members below them go too, as re-encoding the set would."""
    trail = [tree]
    for element in path:
        child = trail[-1].get(element)
        if child is None:
            return
        trail.append(child)
    node = trail[-1]
    if not subtree and node:
        node.pop(SELF, None)  # still has children: stays, no longer a member itself
        return
    for depth in range(len(path), 0, -1):
        parent = trail[depth - 1]
        del parent[path[depth - 1]]
        if depth == 1 or parent:
            if list(parent) == [SELF]:
                parent.clear()  # a member whose last child went: a leaf again
            return


def track_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    operation: str = UPDATE,
    api_version: str,
    now: str,
    subresource: str = "",
) -> None:
    """Record a create/update/patch by ``manager`` in ``new["metadata"]["managedFields"]``.

    Call it with the decoded and defaulted request object, before the registry sets system
    metadata and resets status; ``old`` is the stored object (None on create).
    """
    meta = new.get("metadata")
    if not isinstance(meta, dict):
        return
    if subresource:
        entries = _decode_or_empty(_managed_fields_of(old))
    elif "managedFields" in meta and is_reset(meta["managedFields"]):
        entries = []
    else:
        entries = _decode_or_empty(meta.get("managedFields"))
        if not entries:
            entries = _decode_or_empty(_managed_fields_of(old))
    kind = str(new.get("kind") or (old or {}).get("kind") or "")
    if old is None and not entries:
        _store_created(
            new,
            manager=manager,
            operation=operation,
            api_version=api_version,
            now=now,
            subresource=subresource,
            root=schema_for(kind),
        )
        return
    entries = _track(
        _without_managed_fields(old) if old is not None else {},
        _without_managed_fields(new),
        entries,
        root=schema_for(kind),
        manager=manager,
        operation=operation,
        api_version=api_version,
        now=now,
        subresource=subresource,
    )
    _store(new, entries)


# --- Apply -----------------------------------------------------------------------------------------


def _apply_once(
    base: dict[str, Any],
    config: dict[str, Any],
    entries: list[ManagerEntry],
    *,
    root: Struct,
    manager: str,
    force: bool,
    api_version: str,
    now: str,
) -> tuple[dict[str, Any], list[ManagerEntry]]:
    entries = [copy.copy(e) for e in entries]
    for entry in entries:
        entry.fields = set(entry.fields)
    applied_set = _owned(to_field_set(config, root), RESET_FIELDS[""])
    key = (manager, APPLY, "", "")
    previous = next((e for e in entries if e.key == key), None)
    others = [e for e in entries if e.key != key]

    merged = merge(base, config, root)
    if previous is not None:
        kept: set[Path] = set(applied_set)
        for other in others:
            kept |= other.fields
        still_needed = kept | _prefixes(kept)
        merged = remove_paths(merged, {p for p in previous.fields if p not in still_needed}, root)

    comparison = compare(base, merged, root)
    changed = comparison.changed()
    conflicts = [(other, path) for other in others for path in other.fields & changed]
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    for other in others:
        other.fields -= changed | comparison.removed

    if previous is None:
        previous = ManagerEntry(manager, APPLY, api_version)
        entries.append(previous)
    if changed or comparison.removed or previous.fields != applied_set or previous.time is None:
        previous.time = now
    previous.fields = applied_set
    previous.api_version = api_version
    return merged, [e for e in entries if e.fields]


def _allowed_from_last_applied(live: dict[str, Any], *, root: Struct, api_version: str) -> set[Path] | None:
    """Fields whose live value still equals kubectl's last-applied annotation."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(LAST_APPLIED)
    if not isinstance(text, str) or not text:
        return None
    try:
        last = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return None
    comparison = compare(last, _without_managed_fields(live), root)
    return to_field_set(last, root) - comparison.modified - comparison.added - comparison.removed


def _sync_last_applied(result: dict[str, Any], applied: dict[str, Any]) -> None:
    annotations = (result.get("metadata") or {}).get("annotations")
    if not isinstance(annotations, dict) or LAST_APPLIED not in annotations:
        return
    snapshot = copy.deepcopy(applied)
    applied_annotations = (snapshot.get("metadata") or {}).get("annotations")
    if isinstance(applied_annotations, dict):
        applied_annotations.pop(LAST_APPLIED, None)
    annotations[LAST_APPLIED] = encode_json(snapshot) + "\n"


def apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    *,
    manager: str,
    force: bool,
    api_version: str,
    now: str,
) -> dict[str, Any]:
    """The object after ``manager`` server-side-applies ``applied`` to ``live`` (None: create).

    Raises :class:`ApplyConflict` when a changed field is owned by another manager and not
    ``force``. ``metadata.managedFields`` of the result carry the applier's ``Apply`` entry.
    """
    kind = str(applied.get("kind") or (live or {}).get("kind") or "")
    root = schema_for(kind)
    config = _configuration(applied)
    if live is None:
        base: dict[str, Any] = {}
        entries: list[ManagerEntry] = []
    else:
        base = _without_managed_fields(live)
        entries = _decode_or_empty(_managed_fields_of(live))
        if not entries:
            entries = _track(
                {},
                base,
                [],
                root=root,
                manager=BEFORE_FIRST_APPLY,
                operation=UPDATE,
                api_version=api_version,
                now=now,
                subresource="",
            )
    options: dict[str, Any] = {"root": root, "manager": manager, "api_version": api_version, "now": now}
    try:
        result, entries = _apply_once(base, config, entries, force=force, **options)
    except ApplyConflict as err:
        allowed = None
        if manager == KUBECTL_MANAGER and live is not None:
            allowed = _allowed_from_last_applied(live, root=root, api_version=api_version)
        if allowed is None:
            raise
        remaining = [(m, p) for m, p in err.entries if p not in allowed]
        if remaining:
            raise ApplyConflict(remaining) from None
        result, entries = _apply_once(base, config, entries, force=True, **options)
    result = copy.deepcopy(result)
    if manager == KUBECTL_MANAGER:
        _sync_last_applied(result, applied)
    _store(result, entries)
    return result


def fields_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """The ``fieldsV1`` tree of the fields ``obj`` sets (server-owned metadata left out)."""
    root = schema_for(str(obj.get("kind") or ""))
    return to_fields_v1(_owned(to_field_set(_without_managed_fields(obj), root)))
