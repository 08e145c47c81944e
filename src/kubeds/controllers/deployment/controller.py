"""The Deployment controller: informers, event handlers and the per-Deployment sync.

Mirrors upstream ``pkg/controller/deployment/deployment_controller.go``:

* handlers only enqueue: Deployments on any change; a ReplicaSet goes to its controller Deployment
  (and to the previous one when its controllerRef changed); an orphan ReplicaSet goes to every
  Deployment of its namespace whose selector matches, for adoption; a deleted pod wakes its
  Recreate Deployment, which waits for old pods to be gone;
* ``sync(key)``: a Deployment selecting everything only gets a Warning ``SelectingAll``; otherwise its
  ReplicaSets are claimed (adopting orphans, releasing mismatches, as for a ReplicaSet's pods), its pods
  mapped to their ReplicaSets, and then, as upstream: status only while being deleted; the paused
  condition; a paused Deployment or a scaling event (an active ReplicaSet annotated for another
  ``spec.replicas``) is only scaled (:meth:`.sync.DeploymentSync.sync`); otherwise the strategy's
  rollout runs (:mod:`.rollout`).

``spec.rollbackTo`` (extensions/v1beta1 only) does not exist in apps/v1, so ``rollback.go`` has no
counterpart: ``kubectl rollout undo`` patches the template itself.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod
from kubeds.controllers import common
from kubeds.controllers.daemonset import pods as pods_mod
from kubeds.controllers.deployment import rollout, util
from kubeds.controllers.deployment.sync import API_VERSION, KIND, DeploymentSync
from kubeds.machinery import cache, events as events_mod, informer as informer_mod
from kubeds.models.labels import SelectorError, selector_from_dict

__all__ = ["DeploymentConfig", "DeploymentController"]

log = logging.getLogger(__name__)

COMPONENT = "deployment-controller"
DEFAULT_WORKERS = 5
SELECTING_ALL_REASON = "SelectingAll"
MSG_SELECTING_ALL = "This deployment is selecting all pods. A non-empty selector is required."
MSG_INVALID_SELECTOR = "deployment {namespace}/{name} has invalid label selector: {error}"
MSG_UNEXPECTED_STRATEGY = "unexpected deployment strategy type: {type}"

Obj = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class DeploymentConfig:
    """``--concurrent-deployment-syncs``."""

    workers: int = DEFAULT_WORKERS

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _ns(obj: Obj) -> str:
    return str(_meta(obj).get("namespace") or "")


class DeploymentController(common.ManagedController):
    """Rolls Deployments out through their ReplicaSets (see the module docstring)."""

    kind = KIND

    def __init__(
        self,
        api: api_mod.ApiClient,
        config: DeploymentConfig,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        informers: informer_mod.SharedInformerFactory | None = None,
    ) -> None:
        super().__init__(
            api,
            name="deployment",
            component=COMPONENT,
            workers=config.workers,
            clock=clock,
            informers=informers,
        )
        self.config = config
        self.d_client = api.resource(API_VERSION, "deployments")
        self.rs_client = api.resource(API_VERSION, "replicasets")
        self.d_informer = self.factory.informer(API_VERSION, "deployments")
        self.rs_informer = self.factory.informer(API_VERSION, "replicasets")
        self.pod_informer = self.factory.informer("v1", "pods")
        self.informers.extend([self.d_informer, self.rs_informer, self.pod_informer])
        self.ops = DeploymentSync(
            api,
            recorder=self.recorder,
            rs_indexer=self.rs_informer.indexer,
            clock=clock,
            requeue_after=lambda d, seconds: self.enqueue_after(cache.meta_namespace_key(d), seconds),
            requeue_rate_limited=lambda d: self.queue.add_rate_limited(cache.meta_namespace_key(d)),
        )
        self.d_informer.add_event_handler(
            on_add=self._enqueue_obj,
            on_update=lambda old, cur: self._enqueue_obj(cur),
            on_delete=self._enqueue_obj,
        )
        self.rs_informer.add_event_handler(
            on_add=self._add_rs, on_update=self._update_rs, on_delete=self._delete_rs
        )
        self.pod_informer.add_event_handler(on_delete=self._delete_pod)

    # -- event handlers ---------------------------------------------------------------------------

    def _enqueue_obj(self, d: Obj) -> None:
        self.enqueue(cache.meta_namespace_key(d))

    def _resolve(self, namespace: str, ref: Mapping[str, Any]) -> Obj | None:
        if ref.get("kind") != KIND:
            return None
        d = self.d_informer.indexer.get_by_key(f"{namespace}/{ref.get('name')}")
        if d is None or _meta(d).get("uid") != ref.get("uid"):
            return None
        return d

    def _deployments_for_replica_set(self, rs: Obj) -> list[Obj]:
        labels = _meta(rs).get("labels") or {}
        found: list[Obj] = []
        for d in self.d_informer.indexer.by_index(cache.NAMESPACE_INDEX, _ns(rs)):
            try:
                selector = selector_from_dict((d.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if not selector.empty and selector.matches(labels):
                found.append(d)
        if len(found) > 1:
            log.info("more than one deployment is selecting replica set %s", cache.meta_namespace_key(rs))
        return found

    def _add_rs(self, rs: Obj) -> None:
        if pods_mod.is_being_deleted(rs):
            self._delete_rs(rs)
            return
        ref = common.controller_ref_of(rs)
        if ref is not None:
            d = self._resolve(_ns(rs), ref)
            if d is not None:
                self._enqueue_obj(d)
            return
        for d in self._deployments_for_replica_set(rs):
            self._enqueue_obj(d)

    def _update_rs(self, old: Obj, cur: Obj) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        cur_ref, old_ref = common.controller_ref_of(cur), common.controller_ref_of(old)
        ref_changed = (cur_ref or {}).get("uid") != (old_ref or {}).get("uid")
        if ref_changed and old_ref is not None:
            d = self._resolve(_ns(old), old_ref)
            if d is not None:
                self._enqueue_obj(d)
        if cur_ref is not None:
            d = self._resolve(_ns(cur), cur_ref)
            if d is not None:
                self._enqueue_obj(d)
            return
        label_changed = (_meta(old).get("labels") or {}) != (_meta(cur).get("labels") or {})
        if label_changed or ref_changed:
            for d in self._deployments_for_replica_set(cur):
                self._enqueue_obj(d)

    def _delete_rs(self, rs: Obj) -> None:
        ref = common.controller_ref_of(rs)
        if ref is None:
            return
        d = self._resolve(_ns(rs), ref)
        if d is not None:
            self._enqueue_obj(d)

    def _delete_pod(self, pod: Obj) -> None:
        ref = common.controller_ref_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.rs_informer.indexer.get_by_key(f"{_ns(pod)}/{ref.get('name')}")
        if rs is None or _meta(rs).get("uid") != ref.get("uid"):
            return
        rs_ref = common.controller_ref_of(rs)
        d = self._resolve(_ns(rs), rs_ref) if rs_ref is not None else None
        if d is not None and ((d.get("spec") or {}).get("strategy") or {}).get("type") == util.RECREATE:
            # A Recreate rollout waits for the old pods to be gone.
            self._enqueue_obj(d)

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.d_informer.indexer.get_by_key(key)
        if cached is None:
            log.debug("deployment %s has been deleted", key)
            return
        d: dict[str, Any] = copy.deepcopy(dict(cached))
        spec = d.get("spec") or {}
        selector_spec = spec.get("selector")
        if (
            selector_spec is not None
            and not selector_spec.get("matchLabels")
            and not selector_spec.get("matchExpressions")
        ):
            self.recorder.event(d, events_mod.EVENT_TYPE_WARNING, SELECTING_ALL_REASON, MSG_SELECTING_ALL)
            status = d.setdefault("status", {})
            generation = int(_meta(d).get("generation") or 0)
            if int(status.get("observedGeneration") or 0) < generation:
                status["observedGeneration"] = generation
                await self.ops.update_status(d)
            return
        rss = await self.get_replica_sets_for_deployment(d)
        pod_map = self.get_pod_map_for_deployment(d, rss)
        if pods_mod.is_being_deleted(d):
            await self.ops.sync_status_only(d, rss)
            return
        await self.ops.check_paused_conditions(d)
        if spec.get("paused"):
            await self.ops.sync(d, rss)
            return
        if await self.ops.is_scaling_event(d, rss):
            await self.ops.sync(d, rss)
            return
        strategy = (spec.get("strategy") or {}).get("type", util.ROLLING_UPDATE)
        if strategy == util.RECREATE:
            await rollout.rollout_recreate(self.ops, d, rss, pod_map)
        elif strategy == util.ROLLING_UPDATE:
            await rollout.rollout_rolling(self.ops, d, rss)
        else:
            raise ValueError(MSG_UNEXPECTED_STRATEGY.format(type=strategy))

    async def get_replica_sets_for_deployment(self, d: Obj) -> list[Obj]:
        """The namespace's ReplicaSets claimed by ``d`` (adopting orphans, releasing mismatches)."""
        try:
            selector_from_dict((d.get("spec") or {}).get("selector"))
        except SelectorError as exc:
            meta = _meta(d)
            raise ValueError(
                MSG_INVALID_SELECTOR.format(namespace=meta.get("namespace"), name=meta.get("name"), error=exc)
            ) from exc
        candidates = self.rs_informer.indexer.by_index(cache.NAMESPACE_INDEX, _ns(d))
        return await common.claim_objects(
            d,
            candidates,
            client=self.rs_client,
            owner_client=self.d_client,
            api_version=API_VERSION,
            kind=KIND,
            obj_kind="ReplicaSet",
        )

    def get_pod_map_for_deployment(self, d: Obj, rss: Sequence[Obj]) -> dict[str, list[Obj]]:
        """The Deployment's pods grouped by the uid of the claimed ReplicaSet controlling them."""
        selector = selector_from_dict((d.get("spec") or {}).get("selector"))
        pod_map: dict[str, list[Obj]] = {str(_meta(rs).get("uid")): [] for rs in rss}
        for pod in self.pod_informer.indexer.by_index(cache.NAMESPACE_INDEX, _ns(d)):
            if not selector.matches(_meta(pod).get("labels") or {}):
                continue
            ref = common.controller_ref_of(pod)
            if ref is not None and str(ref.get("uid")) in pod_map:
                pod_map[str(ref.get("uid"))].append(pod)
        return pod_map
