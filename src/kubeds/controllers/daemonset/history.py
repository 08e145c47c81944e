"""ControllerRevision history: hashing, snapshots, current/old split, dedup, cleanup.

Mirrors upstream ``pkg/controller/daemon/update.go`` (``constructHistory``, ``snapshot``, ``Match``,
``getPatch``, ``dedupCurHistories``, ``cleanupHistory``, ``maxRevision``) and
``pkg/controller/controller_utils.go`` (``ComputeHash``). Everything here decides; the controller
executes the plan (creates, updates, deletes, pod label patches) through the API.

**Revision data.** A revision stores ``{"spec": {"template": <template + "$patch": "replace">}}``,
the strategic-merge patch ``kubectl rollout undo`` applies verbatim. A revision is *current* when its
data equals the DaemonSet's patch. Upstream compares Go's sorted-key JSON bytes; data arrives here as
parsed JSON, so both sides are compared in one canonical encoding (sorted keys, no spaces). Any
change inside ``spec.template`` makes a new revision; changes elsewhere in the spec do not.

**Hash.** Upstream's ``ComputeHash`` feeds FNV-32a a ``spew`` dump of the Go struct (a format only
Go's reflection produces); this hashes the canonical JSON of the template instead, then, like
upstream, 8 bytes of collision count (little-endian uint32 + 4 zero bytes) when
``status.collisionCount`` is set, and encodes the decimal sum with ``rand.SafeEncodeString``'s
alphabet. Hashes are therefore stable and shaped like upstream's (1-10 characters of
``bcdfghjklmnpqrstvwxz2456789``) but differ from a real cluster's for the same template.

**Rollback.** When the template equals an old revision again, that revision becomes current and is
renumbered to the highest revision; no revision is created and pods with its hash stay untouched.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.podtemplate import controller_ref

__all__ = [
    "HistoryPlan",
    "SnapshotConflict",
    "cleanup_history_candidates",
    "compute_hash",
    "construct_history",
    "count_matching",
    "dedup_cur_histories",
    "get_patch",
    "live_pod_hashes",
    "match",
    "max_revision",
    "relabel_patch",
    "resolve_snapshot_conflict",
    "snapshot",
]

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # rand.SafeEncodeString: no vowels, no 0/1/3

History = Mapping[str, Any]


def _canonical(obj: Any) -> bytes:
    if isinstance(obj, bytes | bytearray):
        obj = json.loads(obj)
    elif isinstance(obj, str):
        obj = json.loads(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _fnv32a(data: bytes, h: int = _FNV32_OFFSET) -> int:
    for byte in data:
        h = ((h ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def compute_hash(template: Mapping[str, Any], collision_count: int | None) -> str:
    """The ``controller-revision-hash`` of a pod template (see the module docstring)."""
    h = _fnv32a(_canonical(template))
    if collision_count is not None:
        h = _fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + b"\x00" * 4, h)
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in str(h))


def _sorted_keys(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _sorted_keys(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted_keys(v) for v in obj]
    return obj


def get_patch(ds: Mapping[str, Any]) -> dict[str, Any]:
    """``{"spec": {"template": {..., "$patch": "replace"}}}``: the data of the DaemonSet's revision.

    Keys are sorted at every level, as upstream's ``getPatch`` (a Go map marshalled) writes them:
    the API serves ``data`` in this order, and ``kubectl rollout undo`` compares those bytes with
    its own ``getDaemonSetPatch`` of the DaemonSet to print "skipped rollback"."""
    # A shallow copy is enough: _sorted_keys rebuilds every mapping and list below it.
    template = dict((ds.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    sorted_patch: dict[str, Any] = _sorted_keys({"spec": {"template": template}})
    return sorted_patch


def match(ds: Mapping[str, Any], history: History) -> bool:
    """True if ``history`` records the DaemonSet's current template."""
    return _matches(_canonical(get_patch(ds)), history)


def _matches(patch: bytes, history: History) -> bool:
    """``history`` records the patch whose canonical bytes are ``patch``."""
    data = history.get("data")
    if data is None:
        return False
    try:
        return _canonical(data) == patch
    except ValueError:
        return False


def count_matching(ds: Mapping[str, Any], histories: Iterable[History]) -> int:
    """How many of ``histories`` record the DaemonSet's current template."""
    patch = _canonical(get_patch(ds))
    return sum(1 for h in histories if _matches(patch, h))


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _revision(history: History) -> int:
    return int(history.get("revision") or 0)


def _collision_count(ds: Mapping[str, Any]) -> int | None:
    value = (ds.get("status") or {}).get("collisionCount")
    return None if value is None else int(value)


def snapshot(ds: Mapping[str, Any], revision_number: int, hash_: str) -> dict[str, Any]:
    """The ControllerRevision recording the DaemonSet's template as ``revision_number``."""
    meta = ds.get("metadata") or {}
    template = (ds.get("spec") or {}).get("template") or {}
    labels = dict(_labels(template))
    labels[c.CONTROLLER_REVISION_HASH_LABEL] = hash_
    cr_meta: dict[str, Any] = {
        "name": f"{meta.get('name')}-{hash_}",
        "namespace": meta.get("namespace"),
        "labels": labels,
    }
    if meta.get("annotations"):
        cr_meta["annotations"] = dict(meta["annotations"])
    cr_meta["ownerReferences"] = [controller_ref(ds)]
    return {
        "apiVersion": c.API_VERSION,
        "kind": c.REVISION_KIND,
        "metadata": cr_meta,
        "data": get_patch(ds),
        "revision": revision_number,
    }


def max_revision(histories: Iterable[History]) -> int:
    """The highest ``revision`` (0 for none)."""
    return max((_revision(h) for h in histories), default=0)


def relabel_patch(hash_: str) -> dict[str, Any]:
    """The JSON merge patch that moves a pod to revision ``hash_``."""
    return {"metadata": {"labels": {c.CONTROLLER_REVISION_HASH_LABEL: hash_}}}


def dedup_cur_histories(
    cur_histories: Sequence[History], pods: Iterable[Mapping[str, Any]]
) -> tuple[History, list[str], list[str]]:
    """``(keep, revisions_to_delete, pods_to_relabel)`` among several current revisions.

    Keeps the highest revision (on ties the later one); pods whose hash label differs from the
    kept one are relabelled (:func:`relabel_patch`) before the duplicates are deleted.
    """
    if len(cur_histories) == 1:
        return cur_histories[0], [], []
    keep = cur_histories[0]
    top = 0
    for history in cur_histories:
        if _revision(history) >= top:
            keep, top = history, _revision(history)
    keep_hash = _labels(keep).get(c.CONTROLLER_REVISION_HASH_LABEL)
    relabel = [_name(p) for p in pods if _labels(p).get(c.CONTROLLER_REVISION_HASH_LABEL) != keep_hash]
    delete = [_name(h) for h in cur_histories if _name(h) != _name(keep)]
    return keep, delete, relabel


@dataclass
class HistoryPlan:
    """What ``constructHistory`` does, in order, and its result.

    1. ``add_hash_label``: update these revisions, adding the hash label with their own name;
    2. ``create``: create this revision (then see :func:`resolve_snapshot_conflict`); or
    3. ``relabel_pods`` (merge patch :func:`relabel_patch` with ``hash``), then delete
       ``delete_duplicates``, then set ``current``'s revision to ``bump_revision`` if not None.
    ``hash`` is the current revision's hash label: new pods get it.
    """

    hash: str
    current: dict[str, Any] | None
    old: list[dict[str, Any]]
    create: dict[str, Any] | None = None
    add_hash_label: list[str] = field(default_factory=list)
    relabel_pods: list[str] = field(default_factory=list)
    delete_duplicates: list[str] = field(default_factory=list)
    bump_revision: int | None = None


def construct_history(
    ds: Mapping[str, Any], histories: Sequence[History], pods: Iterable[Mapping[str, Any]]
) -> HistoryPlan:
    """Split the claimed ``histories`` into current and old and say what to write.

    ``pods`` are the DaemonSet's claimed pods (only needed to relabel when deduplicating).
    Returned histories are shallow copies (with a copied ``metadata`` carrying the hash label the
    plan adds): treat what lies below as read-only.
    """
    add_label: list[str] = []
    current: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    patch = _canonical(get_patch(ds))
    for history in histories:
        h = dict(history)
        if c.CONTROLLER_REVISION_HASH_LABEL not in _labels(h):
            # Legacy revision: label it with its name, so no hash collision is possible.
            meta = dict(h.get("metadata") or {})
            meta["labels"] = {**(meta.get("labels") or {}), c.CONTROLLER_REVISION_HASH_LABEL: _name(h)}
            h["metadata"] = meta
            add_label.append(_name(h))
        (current if _matches(patch, h) else old).append(h)
    curr_revision = max_revision(old) + 1
    if not current:
        hash_ = compute_hash((ds.get("spec") or {}).get("template") or {}, _collision_count(ds))
        created = snapshot(ds, curr_revision, hash_)
        return HistoryPlan(hash=hash_, current=None, old=old, create=created, add_hash_label=add_label)
    keep, duplicates, relabel = dedup_cur_histories(current, pods)
    kept = dict(keep)
    return HistoryPlan(
        hash=str(_labels(kept).get(c.CONTROLLER_REVISION_HASH_LABEL) or ""),
        current=kept,
        old=old,
        add_hash_label=add_label,
        relabel_pods=relabel,
        delete_duplicates=duplicates,
        bump_revision=curr_revision if _revision(kept) < curr_revision else None,
    )


@dataclass(frozen=True)
class SnapshotConflict:
    """What to do when creating the snapshot answered AlreadyExists.

    ``action`` is ``"use-existing"`` (the existing revision already records this template),
    ``"stale"`` (the cached collisionCount is out of date: return ``error``, retry later) or
    ``"bump"`` (a real hash collision: write ``status.collisionCount = collision_count`` through
    the status subresource, then return the AlreadyExists error so the sync is retried).
    """

    action: str
    collision_count: int | None = None
    error: str | None = None


def resolve_snapshot_conflict(
    ds: Mapping[str, Any], existing: History, *, fresh_collision_count: int | None
) -> SnapshotConflict:
    """Decide after AlreadyExists; ``fresh_collision_count`` comes from an uncached GET of the DaemonSet."""
    if match(ds, existing):
        return SnapshotConflict("use-existing")
    cached = _collision_count(ds)
    if cached != fresh_collision_count:
        message = c.MSG_STALE_COLLISION_COUNT.format(
            stale=cached, fresh=fresh_collision_count, name=(ds.get("metadata") or {}).get("name")
        )
        return SnapshotConflict("stale", error=message)
    return SnapshotConflict("bump", collision_count=(fresh_collision_count or 0) + 1)


def live_pod_hashes(pods: Iterable[Mapping[str, Any]]) -> set[str]:
    """Non-empty hash labels of the claimed pods (include terminal pods being deleted)."""
    return {h for p in pods if (h := _labels(p).get(c.CONTROLLER_REVISION_HASH_LABEL))}


def cleanup_history_candidates(
    ds: Mapping[str, Any], old_histories: Sequence[History], live_hashes: Iterable[str]
) -> list[str]:
    """Names of old revisions to delete beyond ``spec.revisionHistoryLimit``, oldest first.

    Revisions some pod still carries are never deleted and do not count toward the quota, so more
    than the limit may remain.
    """
    limit = (ds.get("spec") or {}).get("revisionHistoryLimit")
    to_kill = len(old_histories) - (c.DEFAULT_REVISION_HISTORY_LIMIT if limit is None else int(limit))
    if to_kill <= 0:
        return []
    live = set(live_hashes)
    result: list[str] = []
    for history in sorted(old_histories, key=_revision):
        if to_kill <= 0:
            break
        if _labels(history).get(c.CONTROLLER_REVISION_HASH_LABEL) in live:
            continue
        result.append(_name(history))
        to_kill -= 1
    return result
