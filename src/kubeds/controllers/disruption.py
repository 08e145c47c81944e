"""The disruption controller: keep every PodDisruptionBudget's status current.

Mirrors upstream ``pkg/controller/disruption/disruption.go`` and
``k8s.io/component-helpers/apps/poddisruptionbudget`` (the ``DisruptionAllowed`` condition):

* handlers only enqueue: a PDB on any change; a pod goes to the first PDB of its namespace whose
  selector matches it (``getPdbForPod`` over client-go's ``GetPodPodDisruptionBudgets``, policy/v1:
  an empty selector matches every pod, labelled or not; with more than one, the pod gets a Warning
  ``MultiplePodDisruptionBudgets``). A pod event costs O(PDBs of its namespace), never O(pods): the
  PDBs come from the namespace index and their selectors are compiled once per resourceVersion, so
  with no PDB in the namespace a pod event is one dict lookup;
* ``sync(key)`` (``trySync``): the pods the selector matches (``{}`` matches every pod of the
  namespace); ``expectedPods`` and ``desiredHealthy`` from the spec:

  - ``maxUnavailable`` (int or percent, rounded up) against the summed scale of the pods' controllers:
    ``desiredHealthy = max(0, expected - maxUnavailable)``;
  - ``minAvailable`` as an int: ``desiredHealthy = minAvailable``, ``expectedPods = len(pods)``;
  - ``minAvailable`` as a percent (rounded up) of the controllers' summed scale.

  A controller's scale is a ReplicaSet's ``spec.replicas`` (or its Deployment's when a Deployment
  controls it), else ``spec.replicas`` of the controller's ``scale`` subresource. Unmanaged pods get a
  Warning ``UnmanagedPods``; a pod whose controller cannot be found fails the sync
  (``found no controllers for pod "x"``), and a controller without a scale subresource (a DaemonSet)
  fails it with ``daemonsets.apps does not implement the scale subresource``.
  ``currentHealthy`` counts Ready pods that are neither being deleted nor recorded in
  ``disruptedPods`` within the last 2 minutes (``DeletionTimeout``); entries older than that are
  dropped with a Warning ``NotDeleted`` on the pod, and the PDB is rechecked when the next one expires.
  ``disruptionsAllowed = currentHealthy - desiredHealthy`` (0 when negative or when no pod is
  expected); ``observedGeneration`` and the ``DisruptionAllowed`` condition (``SufficientPods`` /
  ``InsufficientPods``) are set; the write is skipped when nothing changed;
* when the sync fails for any reason but a conflict, ``failSafe`` writes ``disruptionsAllowed: 0``
  and ``DisruptionAllowed=False`` ``SyncFailed`` with the error as message, so evictions stop.

The eviction subresource (``kubeds.apiserver.subresources``) reads this status.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.clock import format_time
from kubeds.controllers import common
from kubeds.controllers.daemonset import pods as pods_mod
from kubeds.machinery import cache, events as events_mod, informer as informer_mod
from kubeds.models import intstr
from kubeds.models.labels import LabelSelector, SelectorError, format_selector_dict, selector_from_dict

__all__ = ["DisruptionConfig", "DisruptionController", "expected_and_desired", "updated_status"]

log = logging.getLogger(__name__)

COMPONENT = "controllermanager"
DEFAULT_WORKERS = 1
DELETION_TIMEOUT_SECONDS = 120.0
CONDITION_DISRUPTION_ALLOWED = "DisruptionAllowed"
REASON_SUFFICIENT_PODS = "SufficientPods"
REASON_INSUFFICIENT_PODS = "InsufficientPods"
REASON_SYNC_FAILED = "SyncFailed"
NO_PODS_REASON = "NoPods"
MSG_NO_PODS = "No matching pods found"
CALCULATE_FAILED_REASON = "CalculateExpectedPodCountFailed"
MSG_CALCULATE_FAILED = "Failed to calculate the number of expected pods: {error}"
UNMANAGED_PODS_REASON = "UnmanagedPods"
MSG_UNMANAGED_PODS = (
    "Pods selected by this PodDisruptionBudget (selector: {selector}) were found to be unmanaged. "
    "As a result, the status of the PDB cannot be calculated correctly, which may result in undefined "
    'behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.'
)
NOT_DELETED_REASON = "NotDeleted"
MSG_NOT_DELETED = "Pod was expected by PDB {namespace}/{name} to be deleted but it wasn't"
MULTIPLE_PDBS_REASON = "MultiplePodDisruptionBudgets"
# Go's %q quoting of namespace, name and the chosen PDB (upstream getPdbForPod).
MSG_MULTIPLE_PDBS = (
    'Pod "{namespace}"/"{name}" matches multiple PodDisruptionBudgets.  Chose "{pdb}" arbitrarily.'
)
MSG_NO_CONTROLLERS = 'found no controllers for pod "{pod}"'
MSG_NO_SCALE = "{resource} does not implement the scale subresource"

# Controllers whose scale the controller reads through the scale subresource: kind -> (apiVersion, plural).
SCALE_RESOURCES: dict[str, tuple[str, str]] = {
    "StatefulSet": ("apps/v1", "statefulsets"),
    "ReplicationController": ("v1", "replicationcontrollers"),
}
# Controllers known not to have one (upstream's discovery check): kind -> group-qualified resource.
NO_SCALE_RESOURCES: dict[str, str] = {"DaemonSet": "daemonsets.apps", "Job": "jobs.batch"}

Obj = Mapping[str, Any]


class CountError(Exception):
    """The expected pod count cannot be computed (message as upstream's)."""


@dataclasses.dataclass(frozen=True)
class DisruptionConfig:
    """Worker count of the PDB queue (upstream runs one worker)."""

    workers: int = DEFAULT_WORKERS

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def expected_and_desired(pdb: Obj, pods: Sequence[Obj], controllers_scale: int) -> tuple[int, int]:
    """``(expectedPods, desiredHealthy)`` (``getExpectedPodCount``).

    ``controllers_scale`` is the summed scale of the pods' controllers, used by ``maxUnavailable`` and a
    percentage ``minAvailable``; an integer ``minAvailable`` expects the matching pods themselves.
    """
    spec = pdb.get("spec") or {}
    try:
        if spec.get("maxUnavailable") is not None:
            max_unavailable = intstr.scaled_value(spec["maxUnavailable"], controllers_scale, round_up=True)
            return controllers_scale, max(0, controllers_scale - max_unavailable)
        min_available = spec.get("minAvailable")
        if isinstance(min_available, int) and not isinstance(min_available, bool):
            return len(pods), min_available
        if isinstance(min_available, str):
            return controllers_scale, intstr.scaled_value(min_available, controllers_scale, round_up=True)
    except intstr.IntStrError as exc:
        raise CountError(str(exc)) from exc
    return 0, 0


def build_disrupted_pod_map(
    pdb: Obj, pods: Sequence[Obj], *, now: dt.datetime
) -> tuple[dict[str, str], list[Obj], dt.datetime | None]:
    """``(still-expected disruptions, pods that were not deleted in time, next expiry)``."""
    recorded: Mapping[str, str] = (pdb.get("status") or {}).get("disruptedPods") or {}
    result: dict[str, str] = {}
    late: list[Obj] = []
    recheck: dt.datetime | None = None
    if not recorded:
        return result, late, recheck
    for pod in pods:
        if pods_mod.is_being_deleted(pod):
            continue
        name = str(_meta(pod).get("name") or "")
        stamp = recorded.get(name)
        when = pods_mod.parse_time(stamp)
        if stamp is None or when is None:
            continue
        expected_deletion = when + dt.timedelta(seconds=DELETION_TIMEOUT_SECONDS)
        if expected_deletion < now:
            late.append(pod)
        else:
            if recheck is None or expected_deletion < recheck:
                recheck = expected_deletion
            result[name] = stamp
    return result, late, recheck


def count_healthy_pods(pods: Sequence[Obj], disrupted: Mapping[str, str], *, now: dt.datetime) -> int:
    healthy = 0
    for pod in pods:
        if pods_mod.is_being_deleted(pod):
            continue
        when = pods_mod.parse_time(disrupted.get(str(_meta(pod).get("name") or "")))
        if when is not None and when + dt.timedelta(seconds=DELETION_TIMEOUT_SECONDS) > now:
            continue
        if pods_mod.is_pod_ready(pod):
            healthy += 1
    return healthy


def _set_status_condition(
    conditions: list[dict[str, Any]], cond: dict[str, Any], *, now: dt.datetime
) -> list[dict[str, Any]]:
    """``meta.SetStatusCondition``: keep lastTransitionTime unless the status changes."""
    out = [dict(c) for c in conditions]
    for existing in out:
        if existing.get("type") == cond["type"]:
            if existing.get("status") != cond["status"]:
                existing["status"] = cond["status"]
                existing["lastTransitionTime"] = format_time(now)
            existing["reason"] = cond["reason"]
            existing["message"] = cond["message"]
            existing["observedGeneration"] = cond["observedGeneration"]
            return out
    return [*out, dict(cond, lastTransitionTime=format_time(now))]


def _allowed_condition(allowed: int, observed_generation: int) -> dict[str, Any]:
    sufficient = allowed > 0
    return {
        "type": CONDITION_DISRUPTION_ALLOWED,
        "status": "True" if sufficient else "False",
        "reason": REASON_SUFFICIENT_PODS if sufficient else REASON_INSUFFICIENT_PODS,
        "message": "",
        "observedGeneration": observed_generation,
    }


def _conditions_up_to_date(pdb: Obj) -> bool:
    status = pdb.get("status") or {}
    cond = next(
        (c for c in status.get("conditions") or [] if c.get("type") == CONDITION_DISRUPTION_ALLOWED), None
    )
    if cond is None or int(status.get("observedGeneration") or 0) != int(_meta(pdb).get("generation") or 0):
        return False
    if int(status.get("disruptionsAllowed") or 0) > 0:
        return bool(cond.get("status") == "True" and cond.get("reason") == REASON_SUFFICIENT_PODS)
    return bool(cond.get("status") == "False" and cond.get("reason") == REASON_INSUFFICIENT_PODS)


def updated_status(
    pdb: Obj, *, current: int, desired: int, expected: int, disrupted: Mapping[str, str], now: dt.datetime
) -> dict[str, Any] | None:
    """The PDB's new status, or None when it is already current (``updatePdbStatus``)."""
    allowed = current - desired
    if expected <= 0 or allowed <= 0:
        allowed = 0
    status = pdb.get("status") or {}
    generation = int(_meta(pdb).get("generation") or 0)
    if (
        int(status.get("currentHealthy") or 0) == current
        and int(status.get("desiredHealthy") or 0) == desired
        and int(status.get("expectedPods") or 0) == expected
        and int(status.get("disruptionsAllowed") or 0) == allowed
        and dict(status.get("disruptedPods") or {}) == dict(disrupted)
        and int(status.get("observedGeneration") or 0) == generation
        and _conditions_up_to_date(pdb)
    ):
        return None
    new: dict[str, Any] = {
        "currentHealthy": current,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "disruptionsAllowed": allowed,
        "observedGeneration": generation,
    }
    if disrupted:
        new["disruptedPods"] = dict(disrupted)
    new["conditions"] = _set_status_condition(
        list(status.get("conditions") or []), _allowed_condition(allowed, generation), now=now
    )
    return new


class DisruptionController(common.ManagedController):
    """Computes PodDisruptionBudget status (see the module docstring)."""

    kind = "PodDisruptionBudget"

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: DisruptionConfig,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informers: informer_mod.SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(
            api,
            name="disruption",
            component=COMPONENT,
            workers=config.workers,
            clock=clock,
            informers=informers,
        )
        self.config = config
        self.pdb_client = api.resource("policy/v1", "poddisruptionbudgets")
        self.pdb_informer = self.factory.informer("policy/v1", "poddisruptionbudgets")
        # PDB key -> (resourceVersion, compiled selector or None when invalid).
        self._selectors: dict[str, tuple[str, LabelSelector | None]] = {}
        self.pod_informer = self.factory.informer("v1", "pods")
        self.rs_informer = self.factory.informer("apps/v1", "replicasets")
        self.d_informer = self.factory.informer("apps/v1", "deployments")
        self.informers.extend([self.pdb_informer, self.pod_informer, self.rs_informer, self.d_informer])
        self.pdb_informer.add_event_handler(
            on_add=self._enqueue_pdb,
            on_update=lambda old, cur: self._enqueue_pdb(cur),
            on_delete=self._pdb_deleted,
        )
        self.pod_informer.add_event_handler(
            on_add=self._pod_changed,
            on_update=lambda old, cur: self._pod_changed(cur),
            on_delete=self._pod_changed,
        )

    # -- handlers ---------------------------------------------------------------------------------

    def _enqueue_pdb(self, pdb: Obj) -> None:
        self.enqueue(cache.meta_namespace_key(pdb))

    def _pdb_deleted(self, pdb: Obj) -> None:
        self._selectors.pop(cache.meta_namespace_key(pdb), None)
        self._enqueue_pdb(pdb)

    def _pod_changed(self, pod: Obj) -> None:
        pdb = self.pdb_for_pod(pod)
        if pdb is not None:
            self._enqueue_pdb(pdb)

    def _selector_of(self, pdb: Obj) -> LabelSelector | None:
        """The PDB's compiled selector (None when invalid), cached per resourceVersion."""
        key = cache.meta_namespace_key(pdb)
        version = str(_meta(pdb).get("resourceVersion") or "")
        cached = self._selectors.get(key)
        if cached is not None and cached[0] == version and version:
            return cached[1]
        try:
            selector: LabelSelector | None = selector_from_dict((pdb.get("spec") or {}).get("selector"))
        except SelectorError as exc:
            log.warning("invalid selector: %s", exc)
            selector = None
        self._selectors[key] = (version, selector)
        return selector

    def pdbs_for_pod(self, pod: Obj) -> list[Obj]:
        """Every PDB (by name) of the pod's namespace whose selector matches the pod's labels.

        ``GetPodPodDisruptionBudgets``: PDBs with an invalid selector are skipped; an empty selector
        matches every pod. Costs O(PDBs in the namespace), not O(pods).
        """
        namespace = str(_meta(pod).get("namespace") or "")
        keys = self.pdb_informer.indexer.index_keys(cache.NAMESPACE_INDEX, namespace)
        if not keys:
            return []
        labels = _meta(pod).get("labels") or {}
        matching: list[Obj] = []
        for key in keys:
            pdb = self.pdb_informer.indexer.get_by_key(key)
            if pdb is None:
                continue
            selector = self._selector_of(pdb)
            if selector is not None and selector.matches(labels):
                matching.append(pdb)
        return matching

    def pdb_for_pod(self, pod: Obj) -> Obj | None:
        """The first PDB (by name) of the pod's namespace selecting it; Warning when several do."""
        matching = self.pdbs_for_pod(pod)
        if not matching:
            return None
        namespace = str(_meta(pod).get("namespace") or "")
        if len(matching) > 1:
            msg = MSG_MULTIPLE_PDBS.format(
                namespace=namespace, name=_meta(pod).get("name"), pdb=_meta(matching[0]).get("name")
            )
            self.recorder.event(pod, events_mod.EVENT_TYPE_WARNING, MULTIPLE_PDBS_REASON, msg)
        return matching[0]

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        pdb = self.pdb_informer.indexer.get_by_key(key)
        if pdb is None:
            log.debug("PodDisruptionBudget %s has been deleted", key)
            return
        try:
            await self.try_sync(pdb)
        except errors.Conflict:
            raise
        except Exception as exc:
            log.error("failed to sync PodDisruptionBudget %s: %s", key, exc)
            await self.fail_safe(pdb, exc)
            raise

    async def try_sync(self, pdb: Obj) -> None:
        pods = self.pods_for_pdb(pdb)
        if not pods:
            self.recorder.event(pdb, events_mod.EVENT_TYPE_NORMAL, NO_PODS_REASON, MSG_NO_PODS)
        try:
            total, unmanaged = await self.controller_scales(pdb, pods)
            expected, desired = expected_and_desired(pdb, pods, total)
        except Exception as exc:
            msg = MSG_CALCULATE_FAILED.format(error=exc)
            self.recorder.event(pdb, events_mod.EVENT_TYPE_WARNING, CALCULATE_FAILED_REASON, msg)
            raise
        if unmanaged:
            log.debug("found unmanaged pods for PDB %s: %s", cache.meta_namespace_key(pdb), unmanaged)
            selector = format_selector_dict((pdb.get("spec") or {}).get("selector"))
            msg = MSG_UNMANAGED_PODS.format(selector=selector)
            self.recorder.event(pdb, events_mod.EVENT_TYPE_WARNING, UNMANAGED_PODS_REASON, msg)
        now = self.clock.now()
        disrupted, late, recheck = build_disrupted_pod_map(pdb, pods, now=now)
        for pod in late:
            msg = MSG_NOT_DELETED.format(namespace=_meta(pdb).get("namespace"), name=_meta(pdb).get("name"))
            self.recorder.event(pod, events_mod.EVENT_TYPE_WARNING, NOT_DELETED_REASON, msg)
        current = count_healthy_pods(pods, disrupted, now=now)
        new_status = updated_status(
            pdb, current=current, desired=desired, expected=expected, disrupted=disrupted, now=now
        )
        if new_status is not None:
            updated: dict[str, Any] = copy.deepcopy(dict(pdb))
            updated["status"] = new_status
            await self.pdb_client.update_status(updated)
        if recheck is not None:
            self.enqueue_after(cache.meta_namespace_key(pdb), (recheck - now).total_seconds())

    async def fail_safe(self, pdb: Obj, error: BaseException) -> None:
        """Write ``disruptionsAllowed: 0`` with a ``SyncFailed`` condition (failures are logged)."""
        updated: dict[str, Any] = copy.deepcopy(dict(pdb))
        status = updated.setdefault("status", {})
        status["disruptionsAllowed"] = 0
        cond = {
            "type": CONDITION_DISRUPTION_ALLOWED,
            "status": "False",
            "reason": REASON_SYNC_FAILED,
            "message": str(error),
            "observedGeneration": int(status.get("observedGeneration") or 0),
        }
        status["conditions"] = _set_status_condition(
            list(status.get("conditions") or []), cond, now=self.clock.now()
        )
        try:
            await self.pdb_client.update_status(updated)
        except (errors.ApiError, errors.TransportError) as exc:
            log.error("failSafe of PodDisruptionBudget %s failed: %s", cache.meta_namespace_key(pdb), exc)

    def pods_for_pdb(self, pdb: Obj) -> list[Obj]:
        """The pods of the PDB's namespace its selector matches (a status sync, not a pod event)."""
        selector = selector_from_dict((pdb.get("spec") or {}).get("selector"))
        namespace = str(_meta(pdb).get("namespace") or "")
        pods = self.pod_informer.indexer.by_index(cache.NAMESPACE_INDEX, namespace)
        return [p for p in pods if selector.matches(_meta(p).get("labels") or {})]

    async def controller_scales(self, pdb: Obj, pods: Sequence[Obj]) -> tuple[int, list[str]]:
        """``(summed scale of the pods' controllers, unmanaged pod names)`` (``getExpectedScale``).

        Only resolved when the spec needs it; each controller counts once (pods of a Deployment's
        ReplicaSets count the Deployment once).
        """
        spec = pdb.get("spec") or {}
        if spec.get("maxUnavailable") is None and not isinstance(spec.get("minAvailable"), str):
            return 0, []
        resolved: set[str] = set()
        scales: dict[str, int] = {}
        unmanaged: list[str] = []
        for pod in pods:
            ref = common.controller_ref_of(pod)
            if ref is None:
                unmanaged.append(str(_meta(pod).get("name") or ""))
                continue
            if str(ref.get("uid")) in resolved:
                continue
            found = await self._find_scale(ref, str(_meta(pod).get("namespace") or ""))
            if found is None:
                raise CountError(MSG_NO_CONTROLLERS.format(pod=_meta(pod).get("name")))
            resolved.add(str(ref.get("uid")))
            uid, scale = found
            scales[uid] = scale
        return sum(scales.values()), unmanaged

    async def _find_scale(self, ref: Mapping[str, Any], namespace: str) -> tuple[str, int] | None:
        kind, name, uid = ref.get("kind"), str(ref.get("name") or ""), str(ref.get("uid") or "")
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        if kind == "ReplicaSet" and group in ("apps", "extensions"):
            rs = self.rs_informer.indexer.get_by_key(f"{namespace}/{name}")
            if rs is None or _meta(rs).get("uid") != uid:
                return None
            rs_ref = common.controller_ref_of(rs)
            if rs_ref is not None and rs_ref.get("kind") == "Deployment":
                d = self.d_informer.indexer.get_by_key(f"{namespace}/{rs_ref.get('name')}")
                if d is None or _meta(d).get("uid") != rs_ref.get("uid"):
                    return None
                return str(_meta(d).get("uid")), common.replicas_of(d)
            return uid, common.replicas_of(rs)
        if kind in NO_SCALE_RESOURCES:
            raise CountError(MSG_NO_SCALE.format(resource=NO_SCALE_RESOURCES[str(kind)]))
        target = SCALE_RESOURCES.get(str(kind))
        if target is None:
            return None
        try:
            scale = await self.api.resource(*target).get(name, namespace=namespace, subresource="scale")
        except errors.NotFound:
            return None
        if _meta(scale).get("uid") != uid:
            return None
        return uid, int((scale.get("spec") or {}).get("replicas") or 0)
