"""Controller helpers shared by the ReplicaSet, Deployment and disruption controllers.

Mirrors the generic parts of upstream ``pkg/controller``:

* ``controller_utils.go``: ``FilterActivePods``/``IsPodActive``, ``GetPodFromTemplate`` (the pod a
  ReplicaSet POSTs: ``generateName: <owner>-``, template labels/annotations/finalizers, one controller
  ownerReference), ``ActivePodsWithRanks`` (the order in which a ReplicaSet deletes surplus pods:
  unassigned, then Pending < Unknown < Running, then not ready, then lower
  ``controller.kubernetes.io/pod-deletion-cost``, then more co-located siblings, then ready for less
  time on a log2 scale, then more restarts, then newer on a log2 scale, then uid),
  ``ReplicaSetsByCreationTimestamp``/``ReplicaSetsBySizeOlder``/``ReplicaSetsBySizeNewer``,
  ``FilterActiveReplicaSets`` and ``slowStartBatch``;
* ``controller_ref_manager.go``: ``ClaimPods``/``ClaimReplicaSets`` — owned objects are kept, matching
  orphans are adopted with a strategic-merge PATCH that adds the controller ownerReference (after an
  uncached GET proves the owner still exists and is not being deleted, ``RecheckDeletionTimestamp``),
  owned objects the selector no longer matches are released with a ``$patch: delete`` of that
  reference. The decision itself is :func:`kubeds.controllers.daemonset.pods.claim_action`.

Objects are plain dicts from informer caches: nothing here mutates its inputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import functools
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.controllers import runnable as runnable_mod
from kubeds.controllers.daemonset import pods as pods_mod
from kubeds.controllers.daemonset.podcontrol import aggregate
from kubeds.machinery import controller as controller_mod, events as events_mod, informer as informer_mod

__all__ = [
    "POD_DELETION_COST_ANNOTATION",
    "ManagedController",
    "active_pods_less",
    "adopt_patch",
    "claim_objects",
    "controller_ref_of",
    "filter_active_pods",
    "filter_active_replica_sets",
    "is_pod_active",
    "new_controller_ref",
    "pod_from_template",
    "recheck_owner",
    "release_patch",
    "replicas_of",
    "slow_start_batch",
    "sort_by_creation",
    "sort_by_size_newer",
    "sort_by_size_older",
    "sort_pods_for_deletion",
]

Obj = Mapping[str, Any]

POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
SLOW_START_INITIAL_BATCH_SIZE = 1
MSG_OWNER_GONE = "original {kind} {namespace}/{name} is gone: got uid {got}, wanted {wanted}"
MSG_JUST_DELETED = "{namespace}/{name} has just been deleted at {at}"
MSG_CANT_ADOPT = "can't adopt {kind} {namespace}/{name} ({uid}): {error}"
MSG_NO_LABELS = "unable to create pods, no labels"
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def controller_ref_of(obj: Obj) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true`` (``metav1.GetControllerOf``), or None."""
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def new_controller_ref(owner: Obj, *, api_version: str, kind: str) -> dict[str, Any]:
    """``metav1.NewControllerRef``: controller and blockOwnerDeletion both true."""
    meta = _meta(owner)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_pod_active(pod: Obj) -> bool:
    """Not Succeeded, not Failed and not being deleted (``IsPodActive``)."""
    return not pods_mod.is_pod_terminal(pod) and not pods_mod.is_being_deleted(pod)


def filter_active_pods(pods: Iterable[Obj]) -> list[Obj]:
    return [p for p in pods if is_pod_active(p)]


def replicas_of(obj: Obj) -> int:
    """``*spec.replicas`` (the API server defaults it to 1)."""
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def filter_active_replica_sets(rss: Iterable[Obj | None]) -> list[Obj]:
    """ReplicaSets that exist and want at least one replica (``FilterActiveReplicaSets``)."""
    return [rs for rs in rss if rs is not None and replicas_of(rs) > 0]


def _created(obj: Obj) -> dt.datetime:
    return pods_mod.parse_time(_meta(obj).get("creationTimestamp")) or pods_mod.ZERO_TIME


def sort_by_creation(objs: Iterable[Obj]) -> list[Obj]:
    """Oldest first, ties by name (``ReplicaSetsByCreationTimestamp``)."""
    return sorted(objs, key=lambda o: (_created(o), str(_meta(o).get("name") or "")))


def sort_by_size_older(rss: Iterable[Obj]) -> list[Obj]:
    """Largest first; equal sizes oldest first (``ReplicaSetsBySizeOlder``)."""
    return sorted(sort_by_creation(rss), key=lambda rs: -replicas_of(rs))


def sort_by_size_newer(rss: Iterable[Obj]) -> list[Obj]:
    """Largest first; equal sizes newest first (``ReplicaSetsBySizeNewer``)."""
    return sorted(list(reversed(sort_by_creation(rss))), key=lambda rs: -replicas_of(rs))


# ---- claiming ------------------------------------------------------------------------------------
def adopt_patch(owner: Obj, obj: Obj, *, api_version: str, kind: str) -> dict[str, Any]:
    """The strategic-merge patch that makes ``owner`` the controller of ``obj`` (uid as precondition)."""
    return {
        "metadata": {
            "ownerReferences": [new_controller_ref(owner, api_version=api_version, kind=kind)],
            "uid": _meta(obj).get("uid"),
        }
    }


def release_patch(owner: Obj, obj: Obj) -> dict[str, Any]:
    """The strategic-merge patch that removes ``owner``'s reference from ``obj``."""
    return {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": _meta(owner).get("uid")}],
            "uid": _meta(obj).get("uid"),
        }
    }


async def recheck_owner(client: api_mod.ResourceClient, owner: Obj, *, kind: str) -> None:
    """Uncached GET: raise unless ``owner`` still exists with its uid and is not being deleted."""
    meta = _meta(owner)
    fresh = await client.get(str(meta.get("name")), namespace=meta.get("namespace"))
    fmeta = _meta(fresh)
    if fmeta.get("uid") != meta.get("uid"):
        raise RuntimeError(
            MSG_OWNER_GONE.format(
                kind=kind,
                namespace=meta.get("namespace"),
                name=meta.get("name"),
                got=fmeta.get("uid"),
                wanted=meta.get("uid"),
            )
        )
    if fmeta.get("deletionTimestamp"):
        raise RuntimeError(
            MSG_JUST_DELETED.format(
                namespace=meta.get("namespace"), name=meta.get("name"), at=fmeta.get("deletionTimestamp")
            )
        )


async def claim_objects(
    owner: Obj,
    objs: Sequence[Obj],
    *,
    client: api_mod.ResourceClient,
    owner_client: api_mod.ResourceClient,
    api_version: str,
    kind: str,
    obj_kind: str,
) -> list[Obj]:
    """Adopt and release as ``ClaimObject`` decides; return the objects ``owner`` now controls.

    ``client`` writes the claimed objects (pods or ReplicaSets); ``owner_client`` re-reads the owner
    before the first adoption. Every failure is collected and raised together at the end, after the
    other objects were handled (``utilerrors.NewAggregate``).
    """
    claimed: list[Obj] = []
    failures: list[BaseException] = []
    adopt_ok: bool | None = None
    adopt_err: BaseException | None = None
    for obj in objs:
        action = pods_mod.claim_action(owner, obj)
        meta = _meta(obj)
        name, namespace = str(meta.get("name")), meta.get("namespace")
        if action == pods_mod.CLAIM_OWN:
            claimed.append(obj)
        elif action == pods_mod.CLAIM_ADOPT:
            if adopt_ok is None:
                try:
                    await recheck_owner(owner_client, owner, kind=kind)
                    adopt_ok = True
                except (errors.ApiError, errors.TransportError, RuntimeError) as exc:
                    adopt_ok, adopt_err = False, exc
            if not adopt_ok:
                failures.append(
                    RuntimeError(
                        MSG_CANT_ADOPT.format(
                            kind=obj_kind,
                            namespace=namespace,
                            name=name,
                            uid=meta.get("uid"),
                            error=adopt_err,
                        )
                    )
                )
                continue
            try:
                await client.patch(
                    name,
                    adopt_patch(owner, obj, api_version=api_version, kind=kind),
                    namespace=namespace,
                    patch_type="strategic",
                )
            except errors.NotFound:
                continue  # gone meanwhile: nothing to claim
            except (errors.ApiError, errors.TransportError) as exc:
                failures.append(exc)
                continue
            claimed.append(obj)
        elif action == pods_mod.CLAIM_RELEASE:
            try:
                await client.patch(
                    name, release_patch(owner, obj), namespace=namespace, patch_type="strategic"
                )
            except (errors.NotFound, errors.Invalid):
                continue  # gone, or its owner reference already removed
            except (errors.ApiError, errors.TransportError) as exc:
                failures.append(exc)
    err = aggregate(failures)
    if err is not None:
        raise err
    return claimed


# ---- pods ----------------------------------------------------------------------------------------
def pod_from_template(template: Obj, owner: Obj, *, controller_ref: Mapping[str, Any]) -> dict[str, Any]:
    """``GetPodFromTemplate``: the pod a controller creates from its template (raises without labels)."""
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    if not labels:
        raise ValueError(MSG_NO_LABELS)
    owner_meta = _meta(owner)
    meta: dict[str, Any] = {
        "generateName": f"{owner_meta.get('name')}-",
        "namespace": owner_meta.get("namespace"),
        "labels": labels,
        "ownerReferences": [dict(controller_ref)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


async def slow_start_batch(count: int, fn: Callable[[], Awaitable[None]]) -> tuple[int, BaseException | None]:
    """Call ``fn`` ``count`` times in batches of 1, 2, 4, ...; stop after a batch with a failure.

    Returns ``(successes, first error)`` (upstream ``slowStartBatch``).
    """
    remaining, successes = count, 0
    batch = min(remaining, SLOW_START_INITIAL_BATCH_SIZE)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        errs = [r for r in results if isinstance(r, BaseException)]
        for err in errs:
            if not isinstance(err, Exception):
                raise err
        successes += batch - len(errs)
        if errs:
            return successes, errs[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


def _deletion_cost(pod: Obj) -> int:
    value = (_meta(pod).get("annotations") or {}).get(POD_DELETION_COST_ANNOTATION)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _ready_time(pod: Obj) -> dt.datetime | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return pods_mod.parse_time(cond.get("lastTransitionTime"))
    return None


def _max_restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def _log_rank(t: dt.datetime, now: dt.datetime) -> int:
    nanos = (now - t) // dt.timedelta(microseconds=1) * 1000
    return int(math.log2(nanos)) if nanos > 0 else -1


def _after_or_zero(t1: dt.datetime | None, t2: dt.datetime | None) -> bool:
    """``afterOrZero``: a zero time sorts first, else the later one does."""
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _time_less(t1: dt.datetime | None, t2: dt.datetime | None, a: Obj, b: Obj, now: dt.datetime) -> bool:
    """Logarithmic comparison of two unequal times (``LogarithmicScaleDown``), newer first."""
    if t1 is None or t2 is None:
        return _after_or_zero(t1, t2)
    diff = _log_rank(t1, now) - _log_rank(t2, now)
    if diff == 0:
        return str(_meta(a).get("uid") or "") < str(_meta(b).get("uid") or "")
    return diff < 0


def active_pods_less(a: Obj, b: Obj, rank_a: int, rank_b: int, now: dt.datetime) -> bool:
    """``ActivePodsWithRanks.Less``: whether ``a`` should be deleted before ``b``."""
    node_a = str((a.get("spec") or {}).get("nodeName") or "")
    node_b = str((b.get("spec") or {}).get("nodeName") or "")
    if node_a != node_b and (not node_a or not node_b):
        return not node_a
    phase_a = _PHASE_ORDINAL.get(str((a.get("status") or {}).get("phase") or ""), 0)
    phase_b = _PHASE_ORDINAL.get(str((b.get("status") or {}).get("phase") or ""), 0)
    if phase_a != phase_b:
        return phase_a < phase_b
    ready_a, ready_b = pods_mod.is_pod_ready(a), pods_mod.is_pod_ready(b)
    if ready_a != ready_b:
        return not ready_a
    cost_a, cost_b = _deletion_cost(a), _deletion_cost(b)
    if cost_a != cost_b:
        return cost_a < cost_b
    if rank_a != rank_b:
        return rank_a > rank_b
    if ready_a and ready_b:
        t_a, t_b = _ready_time(a), _ready_time(b)
        if t_a != t_b:
            return _time_less(t_a, t_b, a, b, now)
    restarts_a, restarts_b = _max_restarts(a), _max_restarts(b)
    if restarts_a != restarts_b:
        return restarts_a > restarts_b
    c_a = pods_mod.parse_time(_meta(a).get("creationTimestamp"))
    c_b = pods_mod.parse_time(_meta(b).get("creationTimestamp"))
    if c_a != c_b:
        return _time_less(c_a, c_b, a, b, now)
    return False


def sort_pods_for_deletion(pods: Sequence[Obj], related: Iterable[Obj], *, now: dt.datetime) -> list[Obj]:
    """``pods`` in deletion order; the rank is how many active ``related`` pods share a pod's node."""
    on_node: dict[str, int] = {}
    for pod in related:
        if is_pod_active(pod):
            node = str((pod.get("spec") or {}).get("nodeName") or "")
            on_node[node] = on_node.get(node, 0) + 1
    ranked = [(pod, on_node.get(str((pod.get("spec") or {}).get("nodeName") or ""), 0)) for pod in pods]

    def cmp(x: tuple[Obj, int], y: tuple[Obj, int]) -> int:
        if active_pods_less(x[0], y[0], x[1], y[1], now):
            return -1
        if active_pods_less(y[0], x[0], y[1], x[1], now):
            return 1
        return 0

    return [pod for pod, _ in sorted(ranked, key=functools.cmp_to_key(cmp))]


# ---- running -------------------------------------------------------------------------------------
class ManagedController(runnable_mod.Runnable, controller_mod.Controller):
    """A :class:`~kubeds.machinery.controller.Controller` that owns its informers and event recorder.

    :meth:`run` (from :class:`~kubeds.controllers.runnable.Runnable`, which comes first in the MRO so
    that it wins over :meth:`Controller.run`; its inner task is named after the controller) starts the
    shared informer factory (unless one was passed in, whose owner starts it) and the recorder, then
    runs the workers until :meth:`stop` (then returns) or cancellation (then raises); either way the
    recorder is flushed and an owned factory stopped.
    """

    def __init__(
        self,
        api: api_mod.ApiClient,
        *,
        name: str,
        component: str,
        workers: int,
        clock: clock_mod.Clock,
        informers: informer_mod.SharedInformerFactory | None,
    ) -> None:
        super().__init__(name=name, workers=workers, clock=clock)
        self.api = api
        self._owns_factory = informers is None
        self.factory = informers or informer_mod.SharedInformerFactory(api, clock=clock)
        self.recorder = events_mod.EventRecorder(api, component=component, clock=clock)
        self.task_name = name

    async def _run(self) -> None:
        if self._owns_factory:
            self.factory.start()
        self.recorder.start()
        try:
            await controller_mod.Controller.run(self)
        finally:
            self.queue.shutdown()
            with contextlib.suppress(Exception):
                await self.recorder.stop()
            if self._owns_factory:
                await self.factory.stop()
