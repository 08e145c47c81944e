"""The ReplicaSet controller: keep ``spec.replicas`` active pods per ReplicaSet and report status.

Mirrors upstream ``pkg/controller/replicaset/replica_set.go`` and ``replica_set_utils.go``:

* event handlers only enqueue: a pod goes to its controller ReplicaSet (lowering the create or delete
  expectations it was counted in); an orphan pod goes to every ReplicaSet in its namespace whose
  non-empty selector matches, for adoption; a pod that becomes Ready re-enqueues its ReplicaSet after
  ``minReadySeconds`` so availability is re-counted;
* ``sync(key)``: read the ReplicaSet from the cache; claim the namespace's active pods (adopt
  orphans, release pods the selector no longer matches, :func:`kubeds.controllers.common.claim_objects`);
  when the expectations are satisfied and the ReplicaSet is not being deleted, ``manageReplicas``:
  too few pods are created in slow-start batches (1, 2, 4, ...) capped at ``burst_replicas`` with
  the create expectations set first and lowered for every create that was not made; too many pods are
  deleted in the upstream deletion order (unscheduled, pending, not ready, cheaper, doubled-up,
  recently ready, restarting, newest first), with the deleted pods' keys expected;
* status: ``replicas``, ``fullyLabeledReplicas`` (pods carrying all template labels),
  ``readyReplicas``, ``availableReplicas`` (ready for ``minReadySeconds``), ``observedGeneration``
  and a ``ReplicaFailure`` condition (``FailedCreate``/``FailedDelete``) while creating or deleting
  fails. The write is skipped when nothing changed and retried once after a fresh GET.

Events on the ReplicaSet (through :class:`kubeds.controllers.daemonset.podcontrol.PodControl`):
``SuccessfulCreate`` ``Created pod: x``, ``SuccessfulDelete`` ``Deleted pod: x`` and their failures.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.clock import format_time
from kubeds.controllers import common
from kubeds.controllers.daemonset import pods as pods_mod
from kubeds.controllers.daemonset.podcontrol import NAMESPACE_TERMINATING_CAUSE, PodControl, has_status_cause
from kubeds.machinery import cache, expectations as expectations_mod, informer as informer_mod
from kubeds.models.labels import SelectorError, selector_from_dict, selector_from_set

__all__ = ["ReplicaSetConfig", "ReplicaSetController", "calculate_status"]

log = logging.getLogger(__name__)

COMPONENT = "replicaset-controller"
API_VERSION = "apps/v1"
KIND = "ReplicaSet"
BURST_REPLICAS = 500
STATUS_UPDATE_RETRIES = 1
DEFAULT_WORKERS = 5
CONDITION_REPLICA_FAILURE = "ReplicaFailure"
REASON_FAILED_CREATE = "FailedCreate"
REASON_FAILED_DELETE = "FailedDelete"
_COUNTERS = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas")

Obj = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class ReplicaSetConfig:
    """``--concurrent-replicaset-syncs`` and the controller's burst."""

    workers: int = DEFAULT_WORKERS
    burst_replicas: int = BURST_REPLICAS

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.burst_replicas < 1:
            raise ValueError("burst_replicas must be at least 1")


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _status_int(obj: Obj, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def _set_condition(conditions: list[dict[str, Any]], cond: dict[str, Any]) -> list[dict[str, Any]]:
    """``SetCondition``: unchanged when status and reason already match, else replace by type."""
    for current in conditions:
        if current.get("type") == cond["type"]:
            if current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
                return conditions
    return [c for c in conditions if c.get("type") != cond["type"]] + [cond]


def calculate_status(
    rs: Obj, pods: Sequence[Obj], manage_error: BaseException | None, *, now: Any
) -> dict[str, Any]:
    """The ReplicaSet's new status from its claimed active ``pods`` (``calculateStatus``)."""
    status: dict[str, Any] = copy.deepcopy(dict(rs.get("status") or {}))
    spec = rs.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    template_selector = selector_from_set(template_labels)
    min_ready = int(spec.get("minReadySeconds") or 0)
    fully_labeled = ready = available = 0
    for pod in pods:
        if template_selector.matches(_meta(pod).get("labels") or {}):
            fully_labeled += 1
        if pods_mod.is_pod_ready(pod):
            ready += 1
            if pods_mod.is_pod_available(pod, min_ready, now):
                available += 1
    conditions: list[dict[str, Any]] = list(status.get("conditions") or [])
    failure = next((c for c in conditions if c.get("type") == CONDITION_REPLICA_FAILURE), None)
    if manage_error is not None and failure is None:
        diff = len(pods) - common.replicas_of(rs)
        reason = REASON_FAILED_CREATE if diff < 0 else REASON_FAILED_DELETE if diff > 0 else ""
        cond = {
            "type": CONDITION_REPLICA_FAILURE,
            "status": "True",
            "lastTransitionTime": format_time(now),
            "reason": reason,
            "message": str(manage_error),
        }
        conditions = _set_condition(conditions, cond)
    elif manage_error is None and failure is not None:
        conditions = [c for c in conditions if c.get("type") != CONDITION_REPLICA_FAILURE]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    status.update(
        replicas=len(pods),
        fullyLabeledReplicas=fully_labeled,
        readyReplicas=ready,
        availableReplicas=available,
    )
    return status


def _status_unchanged(rs: Obj, new_status: Mapping[str, Any]) -> bool:
    old = rs.get("status") or {}
    return (
        all(int(old.get(f) or 0) == int(new_status.get(f) or 0) for f in _COUNTERS)
        and int(_meta(rs).get("generation") or 0) == int(old.get("observedGeneration") or 0)
        and (old.get("conditions") or []) == (new_status.get("conditions") or [])
    )


class ReplicaSetController(common.ManagedController):
    """Reconciles every ReplicaSet's pods (see the module docstring)."""

    kind = KIND

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: ReplicaSetConfig,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informers: informer_mod.SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(
            api,
            name="replicaset",
            component=COMPONENT,
            workers=config.workers,
            clock=clock,
            informers=informers,
        )
        self.config = config
        self.rs_client = api.resource(API_VERSION, "replicasets")
        self.pod_client = api.resource("v1", "pods")
        self.rs_informer = self.factory.informer(API_VERSION, "replicasets")
        self.pod_informer = self.factory.informer("v1", "pods")
        for inf in (self.rs_informer, self.pod_informer):
            if cache.CONTROLLER_UID_INDEX not in inf.indexer.get_indexers():
                inf.indexer.add_indexers({cache.CONTROLLER_UID_INDEX: cache.index_by_controller_uid})
        self.informers.extend([self.rs_informer, self.pod_informer])
        self.expectations = expectations_mod.UIDTrackingControllerExpectations(clock=clock)
        self.pod_control = PodControl(api, recorder=self.recorder)
        self.rs_informer.add_event_handler(
            on_add=self._add_rs, on_update=self._update_rs, on_delete=self._delete_rs
        )
        self.pod_informer.add_event_handler(
            on_add=self._add_pod, on_update=self._update_pod, on_delete=self._delete_pod
        )

    # -- event handlers ---------------------------------------------------------------------------

    def _add_rs(self, rs: Obj) -> None:
        self.enqueue(cache.meta_namespace_key(rs))

    def _update_rs(self, old: Obj, cur: Obj) -> None:
        if _meta(old).get("uid") != _meta(cur).get("uid"):
            self._delete_rs(old)
        self.enqueue(cache.meta_namespace_key(cur))

    def _delete_rs(self, rs: Obj) -> None:
        key = cache.meta_namespace_key(rs)
        self.expectations.delete_expectations(key)
        self.enqueue(key)

    def _resolve(self, namespace: str, ref: Mapping[str, Any]) -> Obj | None:
        if ref.get("kind") != KIND:
            return None
        rs = self.rs_informer.indexer.get_by_key(f"{namespace}/{ref.get('name')}")
        if rs is None or _meta(rs).get("uid") != ref.get("uid"):
            return None
        return rs

    def _matching_replica_sets(self, pod: Obj) -> list[Obj]:
        """``GetPodReplicaSets``: ReplicaSets of the pod's namespace whose selector matches it."""
        labels = _meta(pod).get("labels") or {}
        found: list[Obj] = []
        for rs in self.rs_informer.indexer.by_index(
            cache.NAMESPACE_INDEX, str(_meta(pod).get("namespace") or "")
        ):
            try:
                selector = selector_from_dict((rs.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if not selector.empty and selector.matches(labels):
                found.append(rs)
        return found

    def _add_pod(self, pod: Obj) -> None:
        if pods_mod.is_being_deleted(pod):
            # A restarted controller can see a pod already being deleted: count it as a deletion.
            self._delete_pod(pod)
            return
        namespace = str(_meta(pod).get("namespace") or "")
        ref = common.controller_ref_of(pod)
        if ref is not None:
            rs = self._resolve(namespace, ref)
            if rs is not None:
                key = cache.meta_namespace_key(rs)
                self.expectations.creation_observed(key)
                self.enqueue(key)
            return
        for rs in self._matching_replica_sets(pod):
            self.enqueue(cache.meta_namespace_key(rs))

    def _update_pod(self, old: Obj, cur: Obj) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        label_changed = (_meta(old).get("labels") or {}) != (_meta(cur).get("labels") or {})
        if pods_mod.is_being_deleted(cur):
            self._delete_pod(cur)
            if label_changed:
                self._delete_pod(old)
            return
        namespace = str(_meta(cur).get("namespace") or "")
        cur_ref, old_ref = common.controller_ref_of(cur), common.controller_ref_of(old)
        ref_changed = (cur_ref or {}).get("uid") != (old_ref or {}).get("uid")
        if ref_changed and old_ref is not None:
            old_rs = self._resolve(namespace, old_ref)
            if old_rs is not None:
                self.enqueue(cache.meta_namespace_key(old_rs))
        if cur_ref is not None:
            rs = self._resolve(namespace, cur_ref)
            if rs is None:
                return
            key = cache.meta_namespace_key(rs)
            self.enqueue(key)
            min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
            if not pods_mod.is_pod_ready(old) and pods_mod.is_pod_ready(cur) and min_ready > 0:
                # Availability changes only after minReadySeconds: look again then.
                self.enqueue_after(key, float(min_ready))
            return
        if label_changed or ref_changed:
            for rs in self._matching_replica_sets(cur):
                self.enqueue(cache.meta_namespace_key(rs))

    def _delete_pod(self, pod: Obj) -> None:
        ref = common.controller_ref_of(pod)
        if ref is None:
            return
        rs = self._resolve(str(_meta(pod).get("namespace") or ""), ref)
        if rs is None:
            return
        key = cache.meta_namespace_key(rs)
        self.expectations.deletion_observed(key, cache.meta_namespace_key(pod))
        self.enqueue(key)

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, _ = cache.split_meta_namespace_key(key)
        rs = self.rs_informer.indexer.get_by_key(key)
        if rs is None:
            log.debug("ReplicaSet %s has been deleted", key)
            self.expectations.delete_expectations(key)
            return
        needs_sync = self.expectations.satisfied_expectations(key)
        try:
            selector_from_dict((rs.get("spec") or {}).get("selector"))
        except SelectorError as exc:
            log.error("error converting pod selector to selector for rs %s: %s", key, exc)
            return
        active = common.filter_active_pods(
            self.pod_informer.indexer.by_index(cache.NAMESPACE_INDEX, namespace)
        )
        pods = await common.claim_objects(
            rs,
            active,
            client=self.pod_client,
            owner_client=self.rs_client,
            api_version=API_VERSION,
            kind=KIND,
            obj_kind="Pod",
        )
        manage_error: Exception | None = None
        if needs_sync and not pods_mod.is_being_deleted(rs):
            try:
                await self.manage_replicas(pods, rs)
            except Exception as exc:
                manage_error = exc
        new_status = calculate_status(rs, pods, manage_error, now=self.clock.now())
        updated = await self.update_status(rs, new_status)
        spec = updated.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        replicas = common.replicas_of(updated)
        if (
            manage_error is None
            and min_ready > 0
            and _status_int(updated, "readyReplicas") == replicas
            and _status_int(updated, "availableReplicas") != replicas
        ):
            self.enqueue_after(key, float(min_ready))
        if manage_error is not None:
            raise manage_error

    async def manage_replicas(self, pods: Sequence[Obj], rs: Obj) -> None:
        """Create or delete pods so that ``len(pods)`` moves towards ``spec.replicas``."""
        key = cache.meta_namespace_key(rs)
        spec = rs.get("spec") or {}
        diff = len(pods) - common.replicas_of(rs)
        if diff < 0:
            count = min(-diff, self.config.burst_replicas)
            # Expectations first: the informer may see the new pods before the requests return.
            self.expectations.expect_creations(key, count)
            log.debug("too few replicas for ReplicaSet %s: creating %d", key, count)
            template = spec.get("template") or {}
            ref = common.new_controller_ref(rs, api_version=API_VERSION, kind=KIND)

            async def create() -> None:
                pod = common.pod_from_template(template, rs, controller_ref=ref)
                try:
                    await self.pod_control.create_pod(rs, pod)
                except errors.ApiError as err:
                    if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                        return
                    raise

            successes, err = await common.slow_start_batch(count, create)
            skipped = count - successes
            if skipped > 0:
                log.debug("slow-start failure for ReplicaSet %s: %d creates skipped", key, skipped)
                self.expectations.lower_expectations(key, skipped, 0)
            if err is not None:
                raise err
        elif diff > 0:
            count = min(diff, self.config.burst_replicas)
            log.debug("too many replicas for ReplicaSet %s: deleting %d", key, count)
            victims = list(pods)
            if count < len(pods):
                related = self._indirectly_related_pods(rs)
                victims = common.sort_pods_for_deletion(pods, related, now=self.clock.now())
            victims = victims[:count]
            self.expectations.expect_deletions(key, [cache.meta_namespace_key(p) for p in victims])
            namespace = str(_meta(rs).get("namespace") or "")

            async def delete(pod: Obj) -> BaseException | None:
                try:
                    await self.pod_control.delete_pod(rs, namespace, str(_meta(pod).get("name")))
                except (errors.ApiError, errors.TransportError) as err:
                    # The informer will never see this deletion.
                    self.expectations.deletion_observed(key, cache.meta_namespace_key(pod))
                    if not isinstance(err, errors.NotFound):
                        return err
                return None

            results = await asyncio.gather(*(delete(p) for p in victims))
            first = next((r for r in results if r is not None), None)
            if first is not None:
                raise first

    def _indirectly_related_pods(self, rs: Obj) -> list[Obj]:
        """Pods of every ReplicaSet that shares ``rs``'s controller (its Deployment's other revisions)."""
        ref = common.controller_ref_of(rs)
        if ref is None:
            return []
        seen: set[str] = set()
        related: list[Obj] = []
        for other in self.rs_informer.indexer.by_index(cache.CONTROLLER_UID_INDEX, str(ref.get("uid"))):
            try:
                selector = selector_from_dict((other.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            namespace = str(_meta(other).get("namespace") or "")
            for pod in self.pod_informer.indexer.by_index(cache.NAMESPACE_INDEX, namespace):
                uid = str(_meta(pod).get("uid") or "")
                if uid not in seen and selector.matches(_meta(pod).get("labels") or {}):
                    seen.add(uid)
                    related.append(pod)
        return related

    async def update_status(self, rs: Obj, new_status: dict[str, Any]) -> Obj:
        """Write ``new_status`` with ``observedGeneration`` unless nothing changed; retry once on failure."""
        if _status_unchanged(rs, new_status):
            return rs
        new_status = dict(new_status, observedGeneration=int(_meta(rs).get("generation") or 0))
        current: dict[str, Any] = copy.deepcopy(dict(rs))
        attempt = 0
        while True:
            current["status"] = new_status
            try:
                return await self.rs_client.update_status(current)
            except (errors.ApiError, errors.TransportError):
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
            attempt += 1
            meta = _meta(rs)
            current = await self.rs_client.get(str(meta.get("name")), namespace=meta.get("namespace"))
