"""Writing daemon pods: pod control with its events, and ``syncNodes`` (burst, slow start, expectations).

Mirrors upstream ``pkg/controller/controller_utils.go`` (``RealPodControl.CreatePods``/``DeletePod``:
the ``SuccessfulCreate``/``FailedCreate``/``SuccessfulDelete``/``FailedDelete`` events) and
``pkg/controller/daemon/daemon_controller.go`` ``syncNodes``:

* at most ``burst_replicas`` creates and ``burst_replicas`` deletes per call; the expectations are set
  to those numbers *before* any request, so the informer handlers can count them down;
* creates go in slow-start batches of 1, 2, 4, ... requests in parallel; after a batch with a new
  failure the rest are not attempted and the expectations are lowered by the skipped count (a later
  sync retries them). A failed create lowers the expectations by one, except when the namespace is
  terminating (no event, no error, the expectation is left to expire, as upstream);
* deletes all go in parallel; a pod already gone (404) lowers the expectations and is not an error;
* errors are returned as one :class:`AggregateError` (the work queue retries with backoff).

One addition to upstream (which lets the garbage collector clean up): between slow-start batches the
controller checks, through ``still_wanted``, that its cached DaemonSet still exists with the same UID
and is not being deleted, and stops creating pods for a DaemonSet deleted in the middle of a sync.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubeds.client import api as api_mod, errors
from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.decisions import slow_start_batches
from kubeds.controllers.daemonset.podtemplate import new_pod_base, pin_pod
from kubeds.machinery import events as events_mod, expectations as expectations_mod
from kubeds.machinery.cache import meta_namespace_key

__all__ = ["AggregateError", "PodControl", "aggregate", "sync_nodes"]

log = logging.getLogger(__name__)

NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"  # v1.NamespaceTerminatingCause


class AggregateError(Exception):
    """Several errors as one, rendered like ``utilerrors.NewAggregate``: ``[e1, e2]``."""

    def __init__(self, errs: Sequence[BaseException]) -> None:
        self.errors = list(errs)
        text = str(errs[0]) if len(errs) == 1 else "[" + ", ".join(str(e) for e in errs) + "]"
        super().__init__(text)


def aggregate(errs: Sequence[BaseException]) -> BaseException | None:
    """None for no error, the error itself for one, else an :class:`AggregateError`."""
    if not errs:
        return None
    if len(errs) == 1:
        return errs[0]
    return AggregateError(errs)


def has_status_cause(err: errors.ApiError, cause_type: str) -> bool:
    """Upstream ``apierrors.HasStatusCause``."""
    return any(cause.get("type") == cause_type for cause in err.details.get("causes") or [])


class PodControl:
    """Creates and deletes pods for a controller object, recording upstream's events about it."""

    def __init__(self, api: api_mod.ApiClient, *, recorder: events_mod.EventRecorder) -> None:
        self.pods = api.resource("v1", "pods")
        self.recorder = recorder

    async def create_pod(self, ds: Mapping[str, Any], pod: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``pod``; ``SuccessfulCreate`` or (unless the namespace is terminating) ``FailedCreate``."""
        try:
            created = await self.pods.create(pod)
        except errors.ApiError as err:
            if not has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                self.recorder.event(
                    ds, c.EVENT_WARNING, c.FAILED_CREATE_REASON, c.MSG_FAILED_CREATE.format(error=err)
                )
            raise
        except errors.TransportError as err:
            self.recorder.event(
                ds, c.EVENT_WARNING, c.FAILED_CREATE_REASON, c.MSG_FAILED_CREATE.format(error=err)
            )
            raise
        name = str((created.get("metadata") or {}).get("name") or "")
        self.recorder.event(
            ds, c.EVENT_NORMAL, c.SUCCESSFUL_CREATE_REASON, c.MSG_SUCCESSFUL_CREATE.format(pod=name)
        )
        return created

    async def delete_pod(self, ds: Mapping[str, Any], namespace: str, name: str) -> None:
        """DELETE the pod; NotFound is re-raised without an event, other errors emit ``FailedDelete``."""
        try:
            await self.pods.delete(name, namespace=namespace)
        except errors.NotFound:
            log.debug("pod %s/%s has already been deleted", namespace, name)
            raise
        except (errors.ApiError, errors.TransportError) as err:
            self.recorder.event(
                ds, c.EVENT_WARNING, c.FAILED_DELETE_REASON, c.MSG_FAILED_DELETE.format(error=err)
            )
            raise
        self.recorder.event(
            ds, c.EVENT_NORMAL, c.SUCCESSFUL_DELETE_REASON, c.MSG_SUCCESSFUL_DELETE.format(pod=name)
        )

    async def patch_pod(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Strategic-merge PATCH (adoption, release, relabelling)."""
        return await self.pods.patch(name, patch, namespace=namespace, patch_type="strategic")


async def sync_nodes(
    ds: Mapping[str, Any],
    pods_to_delete: Sequence[str],
    nodes_needing_pods: Sequence[str],
    hash_: str,
    *,
    pod_control: PodControl,
    expectations: expectations_mod.ControllerExpectations,
    burst_replicas: int = c.BURST_REPLICAS,
    still_wanted: Callable[[], bool] = lambda: True,
) -> None:
    """Create a pod on each node of ``nodes_needing_pods`` and delete ``pods_to_delete`` (by name).

    Raises the aggregate of every failure.
    """
    key = meta_namespace_key(ds)
    namespace = str((ds.get("metadata") or {}).get("namespace") or "")
    create_diff = min(len(nodes_needing_pods), burst_replicas)
    delete_diff = min(len(pods_to_delete), burst_replicas)
    # Expectations first: the informer may see the new pods before the requests return.
    expectations.set_expectations(key, create_diff, delete_diff)
    failures: list[BaseException] = []
    base = new_pod_base(ds, hash_) if create_diff else None

    async def create(node_name: str) -> None:
        assert base is not None
        try:
            await pod_control.create_pod(ds, pin_pod(base, node_name))
        except errors.ApiError as err:
            if has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                # The namespace is going away: no pod will ever be created, nor observed.
                return
            expectations.creation_observed(key)
            failures.append(err)
        except errors.TransportError as err:
            expectations.creation_observed(key)
            failures.append(err)

    pos = 0
    for batch in slow_start_batches(create_diff):
        if pos > 0 and not still_wanted():
            log.info("DaemonSet %s went away while creating pods; %d creates skipped", key, create_diff - pos)
            expectations.lower_expectations(key, create_diff - pos, 0)
            break
        before = len(failures)
        await asyncio.gather(*(create(node) for node in nodes_needing_pods[pos : pos + batch]))
        pos += batch
        skipped = create_diff - pos
        if len(failures) > before and skipped > 0:
            # The same error would most likely hit every other create: stop, retry on a later sync.
            log.info("DaemonSet %s: slow-start failure, skipping creation of %d pods", key, skipped)
            expectations.lower_expectations(key, skipped, 0)
            break

    async def delete(name: str) -> None:
        try:
            await pod_control.delete_pod(ds, namespace, name)
        except errors.NotFound:
            expectations.deletion_observed(key)
        except (errors.ApiError, errors.TransportError) as err:
            expectations.deletion_observed(key)
            failures.append(err)

    await asyncio.gather(*(delete(name) for name in pods_to_delete[:delete_diff]))
    err = aggregate(failures)
    if err is not None:
        raise err
