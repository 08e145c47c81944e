"""The Deployment controller's writes: the new ReplicaSet, scaling, history cleanup, status.

Mirrors upstream ``pkg/controller/deployment/sync.go`` and ``progress.go``:

* ``get_new_replica_set``: the new ReplicaSet is the one whose template equals the Deployment's
  (ignoring ``pod-template-hash``); an existing one gets the Deployment's annotations, revision
  ``max(old revisions) + 1`` and ``minReadySeconds``; a missing one is created (when asked) named
  ``<deployment>-<hash>``, the hash (:func:`kubeds.controllers.daemonset.history.compute_hash` of the
  template and ``collisionCount``) added to its template labels and selector, sized by
  :func:`.util.new_rs_new_replicas`. A name clash with a ReplicaSet that is not ours bumps
  ``status.collisionCount`` and retries. The Deployment's revision annotation follows its new
  ReplicaSet; conditions ``Progressing`` ``NewReplicaSetCreated``/``FoundNewReplicaSet``/
  ``ReplicaSetCreateError`` are recorded when a progress deadline is set.
* ``scale``: a scaling event (replicas changed, or the Deployment is paused) sizes the only active
  ReplicaSet, or scales down the old ones of a saturated new ReplicaSet, or distributes the difference
  proportionally (largest first, leftovers to the largest) for rolling Deployments.
* ``scale_replica_set``: one PUT carrying the size and the ``desired-replicas``/``max-replicas``
  annotations; Normal ``ScalingReplicaSet`` ``Scaled up replica set x from 1 to 3`` (or down).
* ``cleanup_deployment``: old, empty, fully observed ReplicaSets beyond ``revisionHistoryLimit`` are
  deleted oldest revision first.
* ``sync_rollout_status``: the status of :func:`.util.calculate_status` plus the ``Progressing``
  condition (``NewReplicaSetAvailable``/``ReplicaSetUpdated``/``ProgressDeadlineExceeded``), the
  ReplicaSets' ``ReplicaFailure``, and a requeue for the progress deadline while nothing changes.

Status writes go to ``/status``; the Deployment dict a sync works on is updated with each write's
resourceVersion so that several writes in one sync do not conflict with each other.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers import common
from kubeds.controllers.daemonset.history import compute_hash
from kubeds.controllers.daemonset.podcontrol import NAMESPACE_TERMINATING_CAUSE, has_status_cause
from kubeds.controllers.daemonset.pods import ZERO_TIME, parse_time
from kubeds.controllers.deployment import util
from kubeds.machinery import cache, events as events_mod

__all__ = ["API_VERSION", "KIND", "DeploymentSync"]

log = logging.getLogger(__name__)

API_VERSION = "apps/v1"
KIND = "Deployment"
SCALING_REPLICA_SET_REASON = "ScalingReplicaSet"
MSG_SCALED = "Scaled {direction} replica set {name} from {old} to {new}"
MSG_CREATED_RS = 'Created new replica set "{name}"'
MSG_FOUND_RS = 'Found new replica set "{name}"'
MSG_FAILED_RS = 'Failed to create new replica set "{name}": {error}'
MSG_PAUSED = "Deployment is paused"
MSG_RESUMED = "Deployment is resumed"
MSG_COMPLETE = '{kind} "{name}" has successfully progressed.'
MSG_PROGRESSING = '{kind} "{name}" is progressing.'
MSG_TIMED_OUT = '{kind} "{name}" has timed out progressing.'

Obj = Mapping[str, Any]


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _name(obj: Obj) -> str:
    return str(_meta(obj).get("name") or "")


def _subject(d: Obj, new_rs: Obj | None) -> tuple[str, str]:
    return ("ReplicaSet", _name(new_rs)) if new_rs is not None else ("Deployment", _name(d))


class DeploymentSync:
    """The write half of one Deployment controller (see the module docstring)."""

    def __init__(
        self,
        api: api_mod.ApiClient,
        *,
        recorder: events_mod.EventRecorder,
        rs_indexer: cache.Indexer,
        clock: clock_mod.Clock,
        requeue_after: Callable[[Obj, float], None],
        requeue_rate_limited: Callable[[Obj], None],
    ) -> None:
        self.rs_client = api.resource(API_VERSION, "replicasets")
        self.d_client = api.resource(API_VERSION, "deployments")
        self.recorder = recorder
        self.rs_indexer = rs_indexer
        self.clock = clock
        self.requeue_after = requeue_after
        self.requeue_rate_limited = requeue_rate_limited

    def now(self) -> dt.datetime:
        return self.clock.now()

    # -- writes -----------------------------------------------------------------------------------

    async def update_status(self, d: dict[str, Any]) -> None:
        """PUT ``d`` to /status and carry the new resourceVersion into ``d``."""
        written = await self.d_client.update_status(d)
        d.setdefault("metadata", {})["resourceVersion"] = _meta(written).get("resourceVersion")

    async def scale_replica_set_and_record_event(self, rs: Obj, new_scale: int, d: Obj) -> tuple[bool, Obj]:
        if common.replicas_of(rs) == new_scale:
            return False, rs
        return await self.scale_replica_set(rs, new_scale, d)

    async def scale_replica_set(self, rs: Obj, new_scale: int, d: Obj) -> tuple[bool, Obj]:
        """Resize ``rs`` and refresh its replica annotations; True when the size changed."""
        old_scale = common.replicas_of(rs)
        desired = common.replicas_of(d)
        maximum = desired + util.max_surge(d)
        size_changed = old_scale != new_scale
        if not size_changed and not util.replicas_annotations_need_update(rs, desired, maximum):
            return False, rs
        rs_copy: dict[str, Any] = copy.deepcopy(dict(rs))
        rs_copy.setdefault("spec", {})["replicas"] = new_scale
        util.set_replicas_annotations(rs_copy, desired, maximum)
        updated = await self.rs_client.update(rs_copy)
        if size_changed:
            direction = "up" if old_scale < new_scale else "down"
            self.recorder.event(
                d,
                events_mod.EVENT_TYPE_NORMAL,
                SCALING_REPLICA_SET_REASON,
                MSG_SCALED.format(direction=direction, name=_name(rs), old=old_scale, new=new_scale),
            )
        return size_changed, updated

    # -- the new replica set ----------------------------------------------------------------------

    async def get_all_replica_sets_and_sync_revision(
        self, d: dict[str, Any], rss: Sequence[Obj], *, create: bool
    ) -> tuple[Obj | None, list[Obj]]:
        _, all_old = util.find_old_replica_sets(d, rss)
        new_rs = await self.get_new_replica_set(d, rss, all_old, create=create)
        return new_rs, all_old

    async def get_new_replica_set(
        self, d: dict[str, Any], rss: Sequence[Obj], old_rss: Sequence[Obj], *, create: bool
    ) -> Obj | None:
        existing = util.find_new_replica_set(d, rss)
        new_revision = str(util.max_revision(old_rss) + 1)
        status: dict[str, Any] = d.setdefault("status", {})
        if existing is not None:
            rs_copy: dict[str, Any] = copy.deepcopy(dict(existing))
            annotations_updated = util.set_new_replica_set_annotations(d, rs_copy, new_revision, exists=True)
            min_ready = int((d.get("spec") or {}).get("minReadySeconds") or 0)
            if (
                annotations_updated
                or int((rs_copy.get("spec") or {}).get("minReadySeconds") or 0) != min_ready
            ):
                rs_copy["spec"]["minReadySeconds"] = min_ready
                return await self.rs_client.update(rs_copy)
            revision = (_meta(rs_copy).get("annotations") or {}).get(util.REVISION_ANNOTATION, "")
            needs_update = _set_deployment_revision(d, revision)
            if util.has_progress_deadline(d) and util.get_condition(status, util.PROGRESSING) is None:
                msg = MSG_FOUND_RS.format(name=_name(rs_copy))
                cond = util.new_condition(
                    util.PROGRESSING, "True", util.FOUND_NEW_RS_REASON, msg, now=self.now()
                )
                util.set_condition(status, cond)
                needs_update = True
            if needs_update:
                await self.update_status(d)
            return rs_copy
        if not create:
            return None
        return await self._create_new_replica_set(d, old_rss, new_revision)

    async def _create_new_replica_set(
        self, d: dict[str, Any], old_rss: Sequence[Obj], new_revision: str
    ) -> Obj | None:
        spec = d.get("spec") or {}
        status: dict[str, Any] = d.setdefault("status", {})
        template: dict[str, Any] = copy.deepcopy(dict(spec.get("template") or {}))
        hash_ = compute_hash(template, status.get("collisionCount"))
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), util.POD_TEMPLATE_HASH_LABEL: hash_}
        selector: dict[str, Any] = copy.deepcopy(dict(spec.get("selector") or {}))
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), util.POD_TEMPLATE_HASH_LABEL: hash_}
        name = f"{_name(d)}-{hash_}"
        new_rs: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": _meta(d).get("namespace"),
                "ownerReferences": [common.new_controller_ref(d, api_version=API_VERSION, kind=KIND)],
                "labels": dict(tmeta["labels"]),
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                "selector": selector,
                "template": template,
            },
        }
        count = util.new_rs_new_replicas(d, [*old_rss, new_rs], new_rs)
        new_rs["spec"]["replicas"] = count
        util.set_new_replica_set_annotations(d, new_rs, new_revision, exists=False)
        already_exists = False
        created: Obj
        try:
            created = await self.rs_client.create(new_rs)
        except errors.AlreadyExists:
            already_exists = True
            found = self.rs_indexer.get_by_key(f"{_meta(d).get('namespace')}/{name}")
            if found is None:
                raise
            ref = common.controller_ref_of(found)
            if (
                ref is None
                or ref.get("uid") != _meta(d).get("uid")
                or not util.equal_ignore_hash(
                    spec.get("template") or {}, (found.get("spec") or {}).get("template") or {}
                )
            ):
                # A hash collision: bump collisionCount so the next sync hashes differently.
                status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
                try:
                    await self.update_status(d)
                except errors.ApiError:
                    pass
                raise
            created = found
        except errors.ApiError as err:
            if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                raise
            msg = MSG_FAILED_RS.format(name=name, error=err)
            if util.has_progress_deadline(d):
                cond = util.new_condition(
                    util.PROGRESSING, "False", util.FAILED_RS_CREATE_REASON, msg, now=self.now()
                )
                util.set_condition(status, cond)
                try:
                    await self.update_status(d)
                except errors.ApiError:
                    pass  # the creation error is the one to report
            self.recorder.event(d, events_mod.EVENT_TYPE_WARNING, util.FAILED_RS_CREATE_REASON, msg)
            raise
        if not already_exists and count > 0:
            self.recorder.event(
                d,
                events_mod.EVENT_TYPE_NORMAL,
                SCALING_REPLICA_SET_REASON,
                MSG_SCALED.format(direction="up", name=_name(created), old=0, new=count),
            )
        needs_update = _set_deployment_revision(d, new_revision)
        if not already_exists and util.has_progress_deadline(d):
            msg = MSG_CREATED_RS.format(name=_name(created))
            cond = util.new_condition(
                util.PROGRESSING, "True", util.NEW_REPLICA_SET_REASON, msg, now=self.now()
            )
            util.set_condition(status, cond)
            needs_update = True
        if needs_update:
            await self.update_status(d)
        return created

    # -- scaling events ---------------------------------------------------------------------------

    async def is_scaling_event(self, d: dict[str, Any], rss: Sequence[Obj]) -> bool:
        """An active ReplicaSet was sized for a different ``spec.replicas``."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rss, create=False)
        for rs in common.filter_active_replica_sets([*old_rss, new_rs]):
            desired = util.desired_replicas_annotation(rs)
            if desired is not None and desired != common.replicas_of(d):
                return True
        return False

    async def scale(self, d: dict[str, Any], new_rs: Obj | None, old_rss: Sequence[Obj]) -> None:
        active_or_latest = util.find_active_or_latest(new_rs, old_rss)
        replicas = common.replicas_of(d)
        if active_or_latest is not None:
            if common.replicas_of(active_or_latest) != replicas:
                await self.scale_replica_set_and_record_event(active_or_latest, replicas, d)
            return
        if util.is_saturated(d, new_rs):
            for old in common.filter_active_replica_sets(old_rss):
                await self.scale_replica_set_and_record_event(old, 0, d)
            return
        if not util.is_rolling_update(d):
            return
        active = common.filter_active_replica_sets([*old_rss, new_rs])
        allowed = replicas + util.max_surge(d) if replicas > 0 else 0
        to_add = allowed - util.replica_count(active)
        if to_add > 0:
            active = common.sort_by_size_newer(active)
        elif to_add < 0:
            active = common.sort_by_size_older(active)
        added = 0
        sizes: dict[str, int] = {}
        for rs in active:
            if to_add != 0:
                proportion = util.get_proportion(rs, d, to_add, added)
                sizes[_name(rs)] = common.replicas_of(rs) + proportion
                added += proportion
            else:
                sizes[_name(rs)] = common.replicas_of(rs)
        for index, rs in enumerate(active):
            if index == 0 and to_add != 0:
                sizes[_name(rs)] = max(0, sizes[_name(rs)] + to_add - added)
            await self.scale_replica_set(rs, sizes[_name(rs)], d)

    async def sync(self, d: dict[str, Any], rss: Sequence[Obj]) -> None:
        """Reconcile a scaling event or a paused Deployment: no rollout, only sizes and status."""
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rss, create=False)
        await self.scale(d, new_rs, old_rss)
        if (d.get("spec") or {}).get("paused"):
            await self.cleanup_deployment(old_rss, d)
        await self.sync_deployment_status([*old_rss, new_rs], new_rs, d)

    async def sync_status_only(self, d: dict[str, Any], rss: Sequence[Obj]) -> None:
        new_rs, old_rss = await self.get_all_replica_sets_and_sync_revision(d, rss, create=False)
        await self.sync_deployment_status([*old_rss, new_rs], new_rs, d)

    async def check_paused_conditions(self, d: dict[str, Any]) -> None:
        """Progressing ``Unknown`` ``DeploymentPaused``/``DeploymentResumed`` when pausing/resuming."""
        if not util.has_progress_deadline(d):
            return
        status: dict[str, Any] = d.setdefault("status", {})
        cond = util.get_condition(status, util.PROGRESSING)
        if cond is not None and cond.get("reason") == util.TIMED_OUT_REASON:
            return
        paused_cond = cond is not None and cond.get("reason") == util.PAUSED_DEPLOY_REASON
        paused = bool((d.get("spec") or {}).get("paused"))
        if paused and not paused_cond:
            new = util.new_condition(
                util.PROGRESSING, "Unknown", util.PAUSED_DEPLOY_REASON, MSG_PAUSED, now=self.now()
            )
        elif not paused and paused_cond:
            new = util.new_condition(
                util.PROGRESSING, "Unknown", util.RESUMED_DEPLOY_REASON, MSG_RESUMED, now=self.now()
            )
        else:
            return
        util.set_condition(status, new)
        await self.update_status(d)

    async def cleanup_deployment(self, old_rss: Sequence[Obj], d: Obj) -> None:
        """Delete the oldest empty ReplicaSets beyond ``revisionHistoryLimit``."""
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        if limit is None:
            return
        cleanable = [rs for rs in old_rss if not _meta(rs).get("deletionTimestamp")]
        diff = len(cleanable) - int(limit)
        if diff <= 0:
            return
        cleanable.sort(key=lambda rs: (util.revision_of(rs) or 0, _created(rs), _name(rs)))
        for rs in cleanable[:diff]:
            status = rs.get("status") or {}
            if (
                int(status.get("replicas") or 0) != 0
                or common.replicas_of(rs) != 0
                or int(_meta(rs).get("generation") or 0) > int(status.get("observedGeneration") or 0)
            ):
                continue
            try:
                await self.rs_client.delete(_name(rs), namespace=_meta(rs).get("namespace"))
            except errors.NotFound:
                pass

    # -- status -----------------------------------------------------------------------------------

    async def sync_deployment_status(
        self, all_rss: Sequence[Obj | None], new_rs: Obj | None, d: dict[str, Any]
    ) -> None:
        new_status = util.calculate_status(all_rss, new_rs, d, now=self.now())
        await self._write_status_if_changed(d, new_status)

    async def _write_status_if_changed(self, d: dict[str, Any], new_status: dict[str, Any]) -> bool:
        if util.normalized_status(d.get("status") or {}) == util.normalized_status(new_status):
            return False
        d["status"] = new_status
        await self.update_status(d)
        return True

    async def sync_rollout_status(
        self, all_rss: Sequence[Obj | None], new_rs: Obj | None, d: dict[str, Any]
    ) -> None:
        """Status plus the Progressing condition during a rollout (``syncRolloutStatus``)."""
        now = self.now()
        new_status = util.calculate_status(all_rss, new_rs, d, now=now)
        if not util.has_progress_deadline(d):
            util.remove_condition(new_status, util.PROGRESSING)
        current = util.get_condition(d.get("status") or {}, util.PROGRESSING)
        complete_already = (
            int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
            and current is not None
            and current.get("reason") == util.NEW_RS_AVAILABLE_REASON
        )
        if util.has_progress_deadline(d) and not complete_already:
            kind, name = _subject(d, new_rs)
            if util.deployment_complete(d, new_status):
                msg = MSG_COMPLETE.format(kind=kind, name=name)
                cond = util.new_condition(
                    util.PROGRESSING, "True", util.NEW_RS_AVAILABLE_REASON, msg, now=now
                )
                util.set_condition(new_status, cond)
            elif util.deployment_progressing(d, new_status):
                msg = MSG_PROGRESSING.format(kind=kind, name=name)
                cond = util.new_condition(
                    util.PROGRESSING, "True", util.REPLICA_SET_UPDATED_REASON, msg, now=now
                )
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    util.remove_condition(new_status, util.PROGRESSING)
                util.set_condition(new_status, cond)
            elif util.deployment_timed_out(d, new_status, now=now):
                msg = MSG_TIMED_OUT.format(kind=kind, name=name)
                cond = util.new_condition(util.PROGRESSING, "False", util.TIMED_OUT_REASON, msg, now=now)
                util.set_condition(new_status, cond)
        failures = _replica_failures(all_rss, new_rs)
        if failures:
            util.set_condition(new_status, failures[0])
        else:
            util.remove_condition(new_status, util.REPLICA_FAILURE)
        if not await self._write_status_if_changed(d, new_status):
            self.requeue_stuck_deployment(d, new_status)

    def requeue_stuck_deployment(self, d: Obj, new_status: Mapping[str, Any]) -> float:
        """Requeue for the progress-deadline check; returns the delay, or -1 when none is needed."""
        current = util.get_condition(d.get("status") or {}, util.PROGRESSING)
        if not util.has_progress_deadline(d) or current is None:
            return -1.0
        if util.deployment_complete(d, new_status) or current.get("reason") == util.TIMED_OUT_REASON:
            return -1.0
        since = parse_time(current.get("lastUpdateTime"))
        if since is None:
            return -1.0
        deadline = since + dt.timedelta(seconds=int((d.get("spec") or {})["progressDeadlineSeconds"]))
        after = (deadline - self.now()).total_seconds()
        if after < 1.0:
            self.requeue_rate_limited(d)
            return 0.0
        self.requeue_after(d, after + 1.0)
        return after


def _created(obj: Obj) -> dt.datetime:
    return parse_time(_meta(obj).get("creationTimestamp")) or ZERO_TIME


def _set_deployment_revision(d: dict[str, Any], revision: str) -> bool:
    annotations = d.setdefault("metadata", {}).setdefault("annotations", {})
    if annotations.get(util.REVISION_ANNOTATION) != revision:
        annotations[util.REVISION_ANNOTATION] = revision
        return True
    return False


def _replica_failures(all_rss: Sequence[Obj | None], new_rs: Obj | None) -> list[dict[str, Any]]:
    """ReplicaFailure conditions of the new ReplicaSet, else of any ReplicaSet, as Deployment conditions."""

    def of(rs: Obj) -> list[dict[str, Any]]:
        return [
            {
                "type": c.get("type"),
                "status": c.get("status"),
                "lastUpdateTime": c.get("lastTransitionTime"),
                "lastTransitionTime": c.get("lastTransitionTime"),
                "reason": c.get("reason"),
                "message": c.get("message"),
            }
            for c in (rs.get("status") or {}).get("conditions") or []
            if c.get("type") == util.REPLICA_FAILURE
        ]

    if new_rs is not None and (found := of(new_rs)):
        return found
    return [cond for rs in all_rss if rs is not None for cond in of(rs)]
