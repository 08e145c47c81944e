"""Executing the ControllerRevision history plans: ``constructHistory`` and ``cleanupHistory``.

Mirrors upstream ``pkg/controller/daemon/update.go``. The decisions are in
:mod:`kubeds.controllers.daemonset.history`; this module writes them, in upstream's order:

1. label legacy revisions that have no ``controller-revision-hash`` with their own name (PUT);
2. no revision matches the template → ``snapshot``: create ``<ds>-<hash>``. On AlreadyExists the
   existing revision is read; if it records this template it is current; otherwise it is a hash
   collision: the DaemonSet is re-read uncached, and a stale cached ``collisionCount`` is an error to
   retry, else ``status.collisionCount`` is incremented through the status subresource and the
   AlreadyExists error is returned (the retried sync hashes with the new count);
3. otherwise ``dedupCurHistories``: relabel the claimed pods to the kept revision's hash
   (strategic-merge PATCH), delete the duplicates, then raise the kept revision's number to
   ``max(old) + 1`` if it is lower. That is a rollback: the old revision becomes current again, no
   revision is created, and its pods stay.

``cleanup_history`` deletes old revisions beyond ``revisionHistoryLimit``, oldest first, skipping any
revision a claimed pod (terminal and terminating ones included) still carries.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeds.client import api as api_mod, errors
from kubeds.controllers.daemonset import constants as c, history

__all__ = ["HistoryResult", "cleanup_history", "construct_history"]

Obj = Mapping[str, Any]


class StaleCollisionCount(Exception):
    """The cached DaemonSet's collisionCount is out of date; retry once the cache catches up."""


@dataclass
class HistoryResult:
    """The current revision's hash (new pods get it), the current revision and the old ones."""

    hash: str
    current: dict[str, Any]
    old: list[dict[str, Any]]


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


async def construct_history(
    ds: Obj,
    histories: Sequence[Obj],
    pods: Sequence[Obj],
    *,
    revisions: api_mod.ResourceClient,
    daemonsets: api_mod.ResourceClient,
    pods_client: api_mod.ResourceClient,
) -> HistoryResult:
    """Find (or make) the current revision of ``ds`` among its claimed ``histories``."""
    namespace = str((ds.get("metadata") or {}).get("namespace") or "")
    plan = history.construct_history(ds, histories, pods)
    latest: dict[str, dict[str, Any]] = {_name(h): dict(h) for h in histories}
    for name in plan.add_hash_label:
        # Legacy revisions are labelled with their name: no hash collision is possible with that.
        to_update = copy.deepcopy(latest[name])
        meta = to_update.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), c.CONTROLLER_REVISION_HASH_LABEL: name}
        latest[name] = await revisions.update(to_update, namespace=namespace)

    if plan.create is not None:
        current = await _snapshot(ds, plan.create, revisions=revisions, daemonsets=daemonsets)
        return HistoryResult(hash=plan.hash, current=current, old=plan.old)

    assert plan.current is not None
    for pod_name in plan.relabel_pods:
        await pods_client.patch(
            pod_name, history.relabel_patch(plan.hash), namespace=namespace, patch_type="strategic"
        )
    for name in plan.delete_duplicates:
        await revisions.delete(name, namespace=namespace)
    current = latest.get(_name(plan.current), plan.current)
    if plan.bump_revision is not None:
        to_update = copy.deepcopy(current)
        to_update["revision"] = plan.bump_revision
        current = await revisions.update(to_update, namespace=namespace)
    return HistoryResult(hash=plan.hash, current=current, old=plan.old)


async def _snapshot(
    ds: Obj,
    revision: dict[str, Any],
    *,
    revisions: api_mod.ResourceClient,
    daemonsets: api_mod.ResourceClient,
) -> dict[str, Any]:
    meta = ds.get("metadata") or {}
    namespace = str(meta.get("namespace") or "")
    try:
        return await revisions.create(revision, namespace=namespace)
    except errors.AlreadyExists as outer:
        existing = await revisions.get(_name(revision), namespace=namespace)
        if history.match(ds, existing):
            return existing  # created by an earlier pass whose answer we lost
        fresh = await daemonsets.get(str(meta.get("name")), namespace=namespace)
        fresh_count = (fresh.get("status") or {}).get("collisionCount")
        decision = history.resolve_snapshot_conflict(
            ds, existing, fresh_collision_count=None if fresh_count is None else int(fresh_count)
        )
        if decision.action == "use-existing":
            return existing
        if decision.action == "stale":
            raise StaleCollisionCount(decision.error) from None
        # A real collision: bump collisionCount so the next pass computes another name.
        fresh.setdefault("status", {})["collisionCount"] = decision.collision_count
        await daemonsets.update_status(fresh, namespace=namespace)
        raise outer


async def cleanup_history(
    ds: Obj,
    old: Sequence[Obj],
    pods: Iterable[Obj],
    *,
    revisions: api_mod.ResourceClient,
) -> list[str]:
    """Delete old revisions beyond ``revisionHistoryLimit``; returns the names deleted."""
    namespace = str((ds.get("metadata") or {}).get("namespace") or "")
    # The pods are only read when there are more old revisions than the limit (a lazy iterable).
    labels = ((p.get("metadata") or {}).get("labels") or {} for p in pods)
    live = (str(h) for lab in labels if (h := lab.get(c.CONTROLLER_REVISION_HASH_LABEL)))
    doomed = history.cleanup_history_candidates(ds, old, live)
    for name in doomed:
        await revisions.delete(name, namespace=namespace)
    return doomed
