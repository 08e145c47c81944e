"""Pure Deployment arithmetic and bookkeeping: revisions, annotations, fenceposts, conditions, status.

Mirrors upstream ``pkg/controller/deployment/util/deployment_util.go`` (``ResolveFenceposts``,
``MaxSurge``/``MaxUnavailable``, ``NewRSNewReplicas``, ``IsSaturated``, ``GetProportion``,
``FindNewReplicaSet``/``FindOldReplicaSets``/``FindActiveOrLatest``, ``EqualIgnoreHash``,
``SetNewReplicaSetAnnotations`` with the revision history, ``SetReplicasAnnotations``, the condition
helpers, ``DeploymentComplete``/``DeploymentProgressing``/``DeploymentTimedOut``),
``pkg/controller/deployment/sync.go`` ``calculateStatus`` and kubectl's
``polymorphichelpers/rollout_status.go`` (the text ``kubectl rollout status deployment/x`` prints).

maxUnavailable is rounded down and maxSurge up; both resolving to 0 makes maxUnavailable 1.
Times are ``metav1.Time`` strings; ``now`` is passed in.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubeds.clock import format_time
from kubeds.controllers import common
from kubeds.controllers.daemonset.pods import parse_time
from kubeds.models import intstr

__all__ = [
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "POD_TEMPLATE_HASH_LABEL",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "calculate_status",
    "deployment_complete",
    "deployment_progressing",
    "deployment_timed_out",
    "equal_ignore_hash",
    "find_active_or_latest",
    "find_new_replica_set",
    "find_old_replica_sets",
    "get_condition",
    "get_proportion",
    "is_saturated",
    "max_revision",
    "max_surge",
    "max_unavailable",
    "new_condition",
    "new_rs_new_replicas",
    "remove_condition",
    "resolve_fenceposts",
    "rollout_status",
    "set_condition",
    "set_new_replica_set_annotations",
    "set_replicas_annotations",
]

Obj = Mapping[str, Any]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000
ANNOTATIONS_TO_SKIP = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        "deprecated.deployment.rollback.to",
    }
)

ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"
AVAILABLE = "Available"
PROGRESSING = "Progressing"
REPLICA_FAILURE = "ReplicaFailure"

# Condition reasons (deployment_util.go).
REPLICA_SET_UPDATED_REASON = "ReplicaSetUpdated"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
NEW_REPLICA_SET_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
PAUSED_DEPLOY_REASON = "DeploymentPaused"
RESUMED_DEPLOY_REASON = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"
MSG_MIN_AVAILABLE = "Deployment has minimum availability."
MSG_MIN_UNAVAILABLE = "Deployment does not have minimum availability."

# kubectl rollout status (polymorphichelpers/rollout_status.go).
MSG_ROLLOUT_DEADLINE = 'deployment "{name}" exceeded its progress deadline'
MSG_ROLLOUT_UPDATED = (
    'Waiting for deployment "{name}" rollout to finish: '
    "{updated} out of {replicas} new replicas have been updated...\n"
)
MSG_ROLLOUT_OLD = (
    'Waiting for deployment "{name}" rollout to finish: {old} old replicas are pending termination...\n'
)
MSG_ROLLOUT_AVAILABLE = (
    'Waiting for deployment "{name}" rollout to finish: '
    "{available} of {updated} updated replicas are available...\n"
)
MSG_ROLLOUT_DONE = 'deployment "{name}" successfully rolled out\n'
MSG_ROLLOUT_SPEC = "Waiting for deployment spec update to be observed...\n"


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _spec(obj: Obj) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _int(value: Any) -> int:
    return int(value or 0)


# ---- strategy arithmetic -------------------------------------------------------------------------
def is_rolling_update(d: Obj) -> bool:
    return bool((_spec(d).get("strategy") or {}).get("type", ROLLING_UPDATE) == ROLLING_UPDATE)


def resolve_fenceposts(
    surge: int | str | None, unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """``(maxSurge, maxUnavailable)`` in pods; raises :class:`kubeds.models.intstr.IntStrError`."""
    s = intstr.scaled_value(surge if surge is not None else 0, desired, round_up=True)
    u = intstr.scaled_value(unavailable if unavailable is not None else 0, desired, round_up=False)
    if s == 0 and u == 0:
        # Rounding down may make both zero (validation forbids it explicitly): allow one unavailable.
        u = 1
    return s, u


def _fenceposts(d: Obj) -> tuple[int, int]:
    rolling = (_spec(d).get("strategy") or {}).get("rollingUpdate") or {}
    try:
        return resolve_fenceposts(
            rolling.get("maxSurge"), rolling.get("maxUnavailable"), common.replicas_of(d)
        )
    except intstr.IntStrError:
        return 0, 0  # caught by validation


def max_surge(d: Obj) -> int:
    return _fenceposts(d)[0] if is_rolling_update(d) else 0


def max_unavailable(d: Obj) -> int:
    """Pods that may be unavailable; never more than ``spec.replicas``."""
    if not is_rolling_update(d) or common.replicas_of(d) == 0:
        return 0
    return min(_fenceposts(d)[1], common.replicas_of(d))


def new_rs_new_replicas(d: Obj, all_rss: Iterable[Obj | None], new_rs: Obj) -> int:
    """How many replicas the new ReplicaSet should have now (``NewRSNewReplicas``)."""
    replicas = common.replicas_of(d)
    strategy = (_spec(d).get("strategy") or {}).get("type", ROLLING_UPDATE)
    if strategy == RECREATE:
        return replicas
    if strategy != ROLLING_UPDATE:
        raise ValueError(f"deployment type {strategy} isn't supported")
    rolling = (_spec(d).get("strategy") or {}).get("rollingUpdate") or {}
    surge = intstr.scaled_value(rolling.get("maxSurge", 0), replicas, round_up=True)
    current = replica_count(all_rss)
    max_total = replicas + surge
    new_replicas = common.replicas_of(new_rs)
    if current >= max_total:
        return new_replicas
    return new_replicas + min(max_total - current, replicas - new_replicas)


def _int_annotation(rs: Obj, key: str) -> int | None:
    value = (_meta(rs).get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def desired_replicas_annotation(rs: Obj) -> int | None:
    return _int_annotation(rs, DESIRED_REPLICAS_ANNOTATION)


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    """The ReplicaSet has, and is annotated to want, all of the Deployment's replicas."""
    if rs is None:
        return False
    desired = desired_replicas_annotation(rs)
    return desired is not None and common.replicas_of(rs) == common.replicas_of(d) == desired


def get_proportion(rs: Obj | None, d: Obj, to_add: int, added: int) -> int:
    """The share of ``to_add - added`` replicas ``rs`` gets in a proportional scaling (``GetProportion``)."""
    if rs is None or common.replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _replica_set_fraction(rs: Obj, d: Obj) -> int:
    rs_replicas = common.replicas_of(rs)
    if common.replicas_of(d) == 0:
        return -rs_replicas
    deployment_replicas = common.replicas_of(d) + max_surge(d)
    annotated = _int_annotation(rs, MAX_REPLICAS_ANNOTATION)
    if annotated is None:
        annotated = _int(_status(d).get("replicas"))
    if annotated == 0:
        return 0
    # Go's math.Round: halves away from zero.
    size = rs_replicas * deployment_replicas / annotated
    rounded = int(size + 0.5) if size >= 0 else -int(-size + 0.5)
    return rounded - rs_replicas


# ---- replica sets --------------------------------------------------------------------------------
def replica_count(rss: Iterable[Obj | None]) -> int:
    return sum(common.replicas_of(rs) for rs in rss if rs is not None)


def status_count(rss: Iterable[Obj | None], field: str) -> int:
    return sum(_int(_status(rs).get(field)) for rs in rss if rs is not None)


def _without_hash(template: Obj) -> dict[str, Any]:
    t = copy.deepcopy(dict(template))
    meta = dict(t.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != POD_TEMPLATE_HASH_LABEL}
    meta["labels"] = labels
    t["metadata"] = {k: v for k, v in meta.items() if v not in (None, {}, [], "")}
    return t


def equal_ignore_hash(t1: Obj, t2: Obj) -> bool:
    """Pod templates equal except for the ``pod-template-hash`` label (``EqualIgnoreHash``)."""
    return _without_hash(t1) == _without_hash(t2)


def find_new_replica_set(d: Obj, rss: Sequence[Obj]) -> Obj | None:
    """The oldest ReplicaSet whose template is the Deployment's (``FindNewReplicaSet``)."""
    template = _spec(d).get("template") or {}
    for rs in common.sort_by_creation(rss):
        if equal_ignore_hash(_spec(rs).get("template") or {}, template):
            return rs
    return None


def find_old_replica_sets(d: Obj, rss: Sequence[Obj]) -> tuple[list[Obj], list[Obj]]:
    """``(old ReplicaSets with replicas, every old ReplicaSet)``."""
    new_rs = find_new_replica_set(d, rss)
    new_uid = _meta(new_rs).get("uid") if new_rs is not None else None
    all_old = [rs for rs in rss if new_rs is None or _meta(rs).get("uid") != new_uid]
    return [rs for rs in all_old if common.replicas_of(rs) != 0], all_old


def find_active_or_latest(new_rs: Obj | None, old_rss: Sequence[Obj]) -> Obj | None:
    """The only active ReplicaSet, or the newest when none is active; None when several are."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(common.sort_by_creation(old_rss)))
    active = common.filter_active_replica_sets([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


def revision_of(obj: Obj) -> int | None:
    value = (_meta(obj).get("annotations") or {}).get(REVISION_ANNOTATION)
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return None


def max_revision(rss: Iterable[Obj]) -> int:
    """The highest revision among ``rss`` (unparsable ones skipped)."""
    return max((r for rs in rss if (r := revision_of(rs)) is not None), default=0)


def set_replicas_annotations(rs: dict[str, Any], desired: int, maximum: int) -> bool:
    """Record the Deployment's size and size + surge on the ReplicaSet; True when they changed."""
    annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
    updated = False
    for key, value in ((DESIRED_REPLICAS_ANNOTATION, str(desired)), (MAX_REPLICAS_ANNOTATION, str(maximum))):
        if annotations.get(key) != value:
            annotations[key] = value
            updated = True
    return updated


def replicas_annotations_need_update(rs: Obj, desired: int, maximum: int) -> bool:
    annotations = _meta(rs).get("annotations") or {}
    return annotations.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or annotations.get(
        MAX_REPLICAS_ANNOTATION
    ) != str(maximum)


def set_new_replica_set_annotations(d: Obj, rs: dict[str, Any], new_revision: str, *, exists: bool) -> bool:
    """Copy the Deployment's annotations and advance the revision (``SetNewReplicaSetAnnotations``)."""
    annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in (_meta(d).get("annotations") or {}).items():
        if key in ANNOTATIONS_TO_SKIP or annotations.get(key) == value:
            continue
        annotations[key] = value
        changed = True
    old_revision = annotations.get(REVISION_ANNOTATION)
    try:
        old_int = int(old_revision) if old_revision else 0
    except ValueError:
        return False
    new_int = int(new_revision)
    if old_int < new_int:
        annotations[REVISION_ANNOTATION] = new_revision
        changed = True
        if old_revision is not None:
            # Re-used for a newer revision (a rollback): remember the revisions it served.
            history = annotations.get(REVISION_HISTORY_ANNOTATION, "")
            olds = history.split(",") if history else []
            total = len(history) + len(old_revision) + 1
            start = 0
            while total > MAX_REV_HISTORY_LENGTH_IN_CHARS and start < len(olds):
                total -= len(olds[start]) + 1
                start += 1
            if not history:
                annotations[REVISION_HISTORY_ANNOTATION] = old_revision
            elif total <= MAX_REV_HISTORY_LENGTH_IN_CHARS:
                annotations[REVISION_HISTORY_ANNOTATION] = ",".join([*olds[start:], old_revision])
    replicas = common.replicas_of(d)
    if not exists and set_replicas_annotations(rs, replicas, replicas + max_surge(d)):
        changed = True
    return changed


# ---- conditions ----------------------------------------------------------------------------------
def new_condition(type_: str, status: str, reason: str, message: str, *, now: dt.datetime) -> dict[str, Any]:
    stamp = format_time(now)
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def get_condition(status: Mapping[str, Any], type_: str) -> dict[str, Any] | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def set_condition(status: dict[str, Any], cond: dict[str, Any]) -> None:
    """Unchanged when status and reason match; a same-status change keeps ``lastTransitionTime``."""
    current = get_condition(status, cond["type"])
    if (
        current is not None
        and current.get("status") == cond["status"]
        and current.get("reason") == cond["reason"]
    ):
        return
    if current is not None and current.get("status") == cond["status"]:
        cond = dict(cond, lastTransitionTime=current.get("lastTransitionTime"))
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != cond["type"]] + [
        cond
    ]


def remove_condition(status: dict[str, Any], type_: str) -> None:
    remaining = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if remaining:
        status["conditions"] = remaining
    else:
        status.pop("conditions", None)


def has_progress_deadline(d: Obj) -> bool:
    deadline = _spec(d).get("progressDeadlineSeconds")
    return deadline is not None and int(deadline) != 2**31 - 1


def deployment_complete(d: Obj, status: Mapping[str, Any]) -> bool:
    replicas = common.replicas_of(d)
    return (
        _int(status.get("updatedReplicas")) == replicas
        and _int(status.get("replicas")) == replicas
        and _int(status.get("availableReplicas")) == replicas
        and _int(status.get("observedGeneration")) >= _int(_meta(d).get("generation"))
    )


def deployment_progressing(d: Obj, status: Mapping[str, Any]) -> bool:
    old = _status(d)
    old_old = _int(old.get("replicas")) - _int(old.get("updatedReplicas"))
    new_old = _int(status.get("replicas")) - _int(status.get("updatedReplicas"))
    return (
        _int(status.get("updatedReplicas")) > _int(old.get("updatedReplicas"))
        or new_old < old_old
        or _int(status.get("readyReplicas")) > _int(old.get("readyReplicas"))
        or _int(status.get("availableReplicas")) > _int(old.get("availableReplicas"))
    )


def deployment_timed_out(d: Obj, status: Mapping[str, Any], *, now: dt.datetime) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, PROGRESSING)
    if cond is None:
        return False
    if cond.get("reason") == TIMED_OUT_REASON:
        return True
    since = parse_time(cond.get("lastUpdateTime"))
    if since is None:
        return False
    return since + dt.timedelta(seconds=int(_spec(d)["progressDeadlineSeconds"])) < now


def calculate_status(
    all_rss: Sequence[Obj | None], new_rs: Obj | None, d: Obj, *, now: dt.datetime
) -> dict[str, Any]:
    """The Deployment status the ReplicaSets imply, with the Available condition (``calculateStatus``)."""
    available = status_count(all_rss, "availableReplicas")
    unavailable = max(0, replica_count(all_rss) - available)
    status: dict[str, Any] = {
        "observedGeneration": _int(_meta(d).get("generation")),
        "replicas": status_count(all_rss, "replicas"),
        "updatedReplicas": status_count([new_rs], "replicas"),
        "readyReplicas": status_count(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
    }
    if _status(d).get("collisionCount") is not None:
        status["collisionCount"] = _status(d)["collisionCount"]
    conditions = copy.deepcopy(list(_status(d).get("conditions") or []))
    if conditions:
        status["conditions"] = conditions
    if available >= common.replicas_of(d) - max_unavailable(d):
        cond = new_condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE, MSG_MIN_AVAILABLE, now=now)
    else:
        cond = new_condition(AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE, MSG_MIN_UNAVAILABLE, now=now)
    set_condition(status, cond)
    return status


def normalized_status(status: Mapping[str, Any]) -> dict[str, Any]:
    """Status with zero counters dropped, for comparing what is stored with what was computed."""
    return {k: v for k, v in status.items() if v not in (0, None, [], {})}


def rollout_status(d: Obj) -> tuple[str, bool]:
    """What ``kubectl rollout status deployment/<name>`` prints for ``d``, and whether it is done.

    Raises ValueError with kubectl's message when the progress deadline was exceeded.
    """
    name = str(_meta(d).get("name") or "")
    status = _status(d)
    if _int(_meta(d).get("generation")) > _int(status.get("observedGeneration")):
        return MSG_ROLLOUT_SPEC, False
    cond = get_condition(status, PROGRESSING)
    if cond is not None and cond.get("reason") == TIMED_OUT_REASON:
        raise ValueError(MSG_ROLLOUT_DEADLINE.format(name=name))
    replicas, updated = common.replicas_of(d), _int(status.get("updatedReplicas"))
    total, available = _int(status.get("replicas")), _int(status.get("availableReplicas"))
    if updated < replicas:
        return MSG_ROLLOUT_UPDATED.format(name=name, updated=updated, replicas=replicas), False
    if total > updated:
        return MSG_ROLLOUT_OLD.format(name=name, old=total - updated), False
    if available < updated:
        return MSG_ROLLOUT_AVAILABLE.format(name=name, available=available, updated=updated), False
    return MSG_ROLLOUT_DONE.format(name=name), True
