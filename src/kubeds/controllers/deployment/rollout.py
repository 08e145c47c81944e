"""The two rollout strategies: RollingUpdate within maxSurge/maxUnavailable, and Recreate.

Mirrors upstream ``pkg/controller/deployment/rolling.go`` and ``recreate.go``.

RollingUpdate, one step per sync (each write triggers another sync through the informers):

1. scale the new ReplicaSet up, to at most ``replicas + maxSurge`` pods in all ReplicaSets and at most
   ``replicas`` in the new one (``reconcileNewReplicaSet``; a new ReplicaSet above ``replicas`` is
   scaled down to it);
2. otherwise scale old ReplicaSets down by at most
   ``all pods - (replicas - maxUnavailable) - unavailable pods of the new ReplicaSet``: first the
   unavailable replicas of the oldest ReplicaSets (``cleanupUnhealthyReplicas``), then available ones
   while more than ``replicas - maxUnavailable`` pods are available, oldest ReplicaSet first
   (``scaleDownOldReplicaSetsForRollingUpdate``);
3. when complete, clean up old history; always write the rollout status.

Recreate: scale every old ReplicaSet to 0; wait until no old pod is left (terminal pods aside, and an
old ReplicaSet reporting replicas counts as running); only then create the new ReplicaSet and scale it
to ``replicas``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds.controllers import common
from kubeds.controllers.deployment import util
from kubeds.controllers.deployment.sync import DeploymentSync

__all__ = ["old_pods_running", "rollout_recreate", "rollout_rolling"]

log = logging.getLogger(__name__)

Obj = Mapping[str, Any]
MSG_BAD_SCALE_DOWN = "when {what}, got invalid request to scale down {namespace}/{name} {old} -> {new}"


def _available(rs: Obj) -> int:
    return int((rs.get("status") or {}).get("availableReplicas") or 0)


async def rollout_rolling(s: DeploymentSync, d: dict[str, Any], rss: Sequence[Obj]) -> None:
    new_rs, old_rss = await s.get_all_replica_sets_and_sync_revision(d, rss, create=True)
    if new_rs is None:
        return
    all_rss: list[Obj] = [*old_rss, new_rs]
    if await reconcile_new_replica_set(s, all_rss, new_rs, d):
        await s.sync_rollout_status(all_rss, new_rs, d)
        return
    if await reconcile_old_replica_sets(s, all_rss, common.filter_active_replica_sets(old_rss), new_rs, d):
        await s.sync_rollout_status(all_rss, new_rs, d)
        return
    if util.deployment_complete(d, d.get("status") or {}):
        await s.cleanup_deployment(old_rss, d)
    await s.sync_rollout_status(all_rss, new_rs, d)


async def reconcile_new_replica_set(s: DeploymentSync, all_rss: Sequence[Obj], new_rs: Obj, d: Obj) -> bool:
    replicas, current = common.replicas_of(d), common.replicas_of(new_rs)
    if current == replicas:
        return False
    if current > replicas:
        scaled, _ = await s.scale_replica_set_and_record_event(new_rs, replicas, d)
        return scaled
    target = util.new_rs_new_replicas(d, all_rss, new_rs)
    scaled, _ = await s.scale_replica_set_and_record_event(new_rs, target, d)
    return scaled


async def reconcile_old_replica_sets(
    s: DeploymentSync, all_rss: Sequence[Obj], old_rss: Sequence[Obj], new_rs: Obj, d: Obj
) -> bool:
    if util.replica_count(old_rss) == 0:
        return False
    all_pods = util.replica_count(all_rss)
    min_available = common.replicas_of(d) - util.max_unavailable(d)
    new_unavailable = common.replicas_of(new_rs) - _available(new_rs)
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    try:
        cleaned_rss, cleaned = await cleanup_unhealthy_replicas(s, list(old_rss), d, max_scaled_down)
    except Exception as exc:  # upstream logs and reports no progress
        log.debug("deployment %s: cleaning up unhealthy replicas failed: %s", d["metadata"]["name"], exc)
        return False
    try:
        scaled = await scale_down_old_replica_sets(s, [*cleaned_rss, new_rs], cleaned_rss, d)
    except Exception as exc:
        log.debug("deployment %s: scaling down old replica sets failed: %s", d["metadata"]["name"], exc)
        return False
    return cleaned + scaled > 0


async def cleanup_unhealthy_replicas(
    s: DeploymentSync, old_rss: list[Obj], d: Obj, max_cleanup: int
) -> tuple[list[Obj], int]:
    """Scale old ReplicaSets down by their unavailable replicas, oldest first, up to ``max_cleanup``."""
    old_rss = common.sort_by_creation(old_rss)
    total = 0
    for index, rs in enumerate(old_rss):
        if total >= max_cleanup:
            break
        replicas = common.replicas_of(rs)
        if replicas == 0 or replicas == _available(rs):
            continue
        count = min(max_cleanup - total, replicas - _available(rs))
        new_count = replicas - count
        if new_count > replicas:
            raise ValueError(_bad_scale_down("cleaning up unhealthy replicas", rs, replicas, new_count))
        _, updated = await s.scale_replica_set_and_record_event(rs, new_count, d)
        total += count
        old_rss[index] = updated
    return old_rss, total


async def scale_down_old_replica_sets(
    s: DeploymentSync, all_rss: Sequence[Obj], old_rss: Sequence[Obj], d: Obj
) -> int:
    """Scale old ReplicaSets down while more than ``replicas - maxUnavailable`` pods are available."""
    min_available = common.replicas_of(d) - util.max_unavailable(d)
    available = util.status_count(all_rss, "availableReplicas")
    if available <= min_available:
        return 0
    total, wanted = 0, available - min_available
    for rs in common.sort_by_creation(old_rss):
        if total >= wanted:
            break
        replicas = common.replicas_of(rs)
        if replicas == 0:
            continue
        count = min(replicas, wanted - total)
        new_count = replicas - count
        if new_count > replicas:
            raise ValueError(_bad_scale_down("scaling down old RS", rs, replicas, new_count))
        await s.scale_replica_set_and_record_event(rs, new_count, d)
        total += count
    return total


def _bad_scale_down(what: str, rs: Obj, old: int, new: int) -> str:
    meta = rs.get("metadata") or {}
    return MSG_BAD_SCALE_DOWN.format(
        what=what, namespace=meta.get("namespace"), name=meta.get("name"), old=old, new=new
    )


# ---- Recreate ------------------------------------------------------------------------------------
async def rollout_recreate(
    s: DeploymentSync, d: dict[str, Any], rss: Sequence[Obj], pod_map: Mapping[str, Sequence[Obj]]
) -> None:
    # Do not create the new ReplicaSet yet: scaling up must wait for the old pods to go.
    new_rs, old_rss = await s.get_all_replica_sets_and_sync_revision(d, rss, create=False)
    all_rss: list[Obj | None] = [*old_rss, new_rs]
    scaled = False
    for rs in common.filter_active_replica_sets(old_rss):
        changed, _ = await s.scale_replica_set_and_record_event(rs, 0, d)
        scaled = scaled or changed
    if scaled:
        await s.sync_rollout_status(all_rss, new_rs, d)
        return
    if old_pods_running(new_rs, old_rss, pod_map):
        await s.sync_rollout_status(all_rss, new_rs, d)
        return
    if new_rs is None:
        new_rs, old_rss = await s.get_all_replica_sets_and_sync_revision(d, rss, create=True)
        all_rss = [*old_rss, new_rs]
    if new_rs is not None:
        await s.scale_replica_set_and_record_event(new_rs, common.replicas_of(d), d)
    if util.deployment_complete(d, d.get("status") or {}):
        await s.cleanup_deployment(old_rss, d)
    await s.sync_rollout_status(all_rss, new_rs, d)


def old_pods_running(
    new_rs: Obj | None, old_rss: Sequence[Obj], pod_map: Mapping[str, Sequence[Obj]]
) -> bool:
    """Whether an old ReplicaSet reports pods, or a non-terminal pod of an old ReplicaSet exists."""
    if util.status_count(old_rss, "replicas") > 0:
        return True
    new_uid = (new_rs.get("metadata") or {}).get("uid") if new_rs is not None else None
    for rs_uid, pods in pod_map.items():
        if new_uid is not None and rs_uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False
