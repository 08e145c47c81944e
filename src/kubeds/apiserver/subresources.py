"""The action subresources: pods/binding, pods/eviction and <workload>/scale.

* ``pods/binding`` mirrors ``pkg/registry/core/pod/storage/storage.go`` (``BindingREST``,
  ``setPodHostAndAnnotations``): the Binding's name must be the pod's; the target must be a Node;
  a pod is bound once (409 ``pod x is already assigned to node "n"``), never while being deleted;
  binding sets ``spec.nodeName``, merges the Binding's annotations and sets ``PodScheduled=True``.
  The answer is 201 ``Status`` Success.
* ``pods/eviction`` mirrors ``pkg/registry/core/pod/storage/eviction.go``: the Eviction's name must
  match (400); a pod that is terminal, Pending or already terminating is deleted without looking at
  budgets; otherwise the PodDisruptionBudgets of the namespace that select the pod are checked
  (more than one is 500; a budget not yet observed or with ``disruptionsAllowed`` 0 is 429
  ``Cannot evict pod as it would violate the pod's disruption budget.`` with a
  ``DisruptionBudget`` cause), the budget's ``disruptionsAllowed`` is decremented and the pod
  recorded in ``disruptedPods``, then the pod is deleted with the Eviction's ``deleteOptions``.
  The answer is 201 ``Status`` Success.
* ``<deployments|replicasets>/scale`` mirrors ``pkg/registry/apps/deployment/storage/storage.go``
  (``ScaleREST``): an ``autoscaling/v1`` ``Scale`` view of ``spec.replicas``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeds.apiserver import codec, errors, listing, options
from kubeds.apiserver.resources import Resource, lookup
from kubeds.apiserver.store import DeleteOptions, WriteContext
from kubeds.apiserver.verbs import Call, apply_patch, json_response
from kubeds.clock import format_time
from kubeds.models.fielderrors import FieldError
from kubeds.models.labels import SelectorError, selector_from_dict
from kubeds.wire import Response

__all__ = ["bind", "evict", "scale"]

MSG_BINDING_NAME = "name in URL does not match name in Binding object"
MSG_EVICTION_NAME = "name in URL does not match name in Eviction object"
MSG_ALREADY_ASSIGNED = 'pod {pod} is already assigned to node "{node}"'
MSG_BEING_DELETED = "pod {pod} is being deleted, cannot be assigned to a host"
MSG_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget."
MSG_BUDGET_CAUSE = "The disruption budget {pdb} needs {desired} healthy pods and has {current} currently"
MSG_BUDGET_PROCESSING = "The disruption budget {pdb} is still being processed by the server."
MSG_MULTIPLE_PDBS = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
)
MSG_NEGATIVE = "pdb disruptions allowed is negative"
MAX_DISRUPTED_PODS = 2000
PDBS = lookup("policy", "v1", "poddisruptionbudgets")


def _created() -> Response:
    return json_response(201, errors.status_success(201), private=True)


async def bind(call: Call) -> Response:
    params = options.write_params(call.req, kind="CreateOptions")
    binding = codec.decode_object(call.req.body, call.req.headers.get("content-type", ""))
    call._check_type(binding, kind="Binding", api_version="v1")
    meta = binding.get("metadata") or {}
    if meta.get("name") != call.name:
        raise errors.bad_request(MSG_BINDING_NAME)
    target = binding.get("target") or {}
    errs: list[FieldError] = []
    if not target.get("name"):
        errs.append(FieldError.required("target.name"))
    if target.get("kind") not in (None, "", "Node"):
        errs.append(FieldError.not_supported("target.kind", target.get("kind"), ["Node", "<empty>"]))
    if errs:
        raise errors.invalid("", "Binding", call.name, errs)
    node = str(target["name"])
    uid = str(meta.get("uid") or "")
    annotations = meta.get("annotations") or {}
    now = format_time(call.api.clock.now())

    def assign(pod: dict[str, Any]) -> dict[str, Any]:
        pmeta = pod.setdefault("metadata", {})
        if uid and pmeta.get("uid") != uid:
            raise errors.conflict(
                "",
                "pods/binding",
                call.name,
                f"Precondition failed: UID in precondition: {uid}, UID in object meta: {pmeta.get('uid')}",
            )
        if pmeta.get("deletionTimestamp"):
            raise errors.conflict("", "pods/binding", call.name, MSG_BEING_DELETED.format(pod=call.name))
        spec = pod.setdefault("spec", {})
        if spec.get("nodeName"):
            raise errors.conflict(
                "",
                "pods/binding",
                call.name,
                MSG_ALREADY_ASSIGNED.format(pod=call.name, node=spec["nodeName"]),
            )
        spec["nodeName"] = node
        if annotations:
            pmeta.setdefault("annotations", {}).update(annotations)
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append(
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        )
        status["conditions"] = conditions
        return pod

    ctx = WriteContext(dry_run=params.dry_run, field_manager=params.field_manager)
    await _update_bypassing_status_rules(call, assign, ctx)
    return _created()


async def _update_bypassing_status_rules(
    call: Call, mutate: Callable[[dict[str, Any]], dict[str, Any]], ctx: WriteContext
) -> dict[str, Any]:
    """Binding writes both spec.nodeName and a status condition, as the registry does directly."""
    store = call.store
    for _ in range(16):
        current, kv = await store.read(call.resource, call.namespace, call.name)
        new = mutate(current)  # freshly decoded: nothing else holds it
        if ctx.dry_run:
            return new
        try:
            stored, written = await store.cas_update(call.resource, kv, new)
        except Exception as exc:
            from kubeds.storage import errors as serr

            if isinstance(exc, serr.Conflict):
                continue
            if isinstance(exc, serr.StorageError):
                raise errors.from_storage(exc, group="", resource="pods", name=call.name) from None
            raise
        return store.written_form(stored, written)
    raise errors.conflict("", "pods", call.name)


def _can_ignore_pdb(pod: dict[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(
        (pod.get("metadata") or {}).get("deletionTimestamp")
    )


async def evict(call: Call) -> Response:
    eviction = codec.decode_object(call.req.body, call.req.headers.get("content-type", ""))
    kind = eviction.get("kind")
    if kind and kind != "Eviction":
        raise errors.bad_request(
            f'the object provided is unrecognized (must be of type Eviction): kind "{kind}"'
        )
    if (eviction.get("metadata") or {}).get("name") != call.name:
        raise errors.bad_request(MSG_EVICTION_NAME)
    raw_opts = eviction.get("deleteOptions") or {}
    dry_run = "All" in (raw_opts.get("dryRun") or []) or "All" in call.req.query.get("dryRun", [])
    pre = raw_opts.get("preconditions") or {}
    grace = raw_opts.get("gracePeriodSeconds")
    delete_opts = DeleteOptions(
        grace_period_seconds=int(grace) if isinstance(grace, int) else None,
        propagation_policy=str(raw_opts.get("propagationPolicy") or ""),
        precondition_uid=str(pre.get("uid") or ""),
        precondition_rv=str(pre.get("resourceVersion") or ""),
    )
    ctx = WriteContext(dry_run=dry_run, field_manager="eviction")
    pod = await call.store.get(call.resource, call.namespace, call.name)
    if not _can_ignore_pdb(pod):
        await _check_and_decrement(call, pod, ctx)
    await call.store.delete(call.resource, call.namespace, call.name, ctx=ctx, options=delete_opts)
    return _created()


async def _check_and_decrement(call: Call, pod: dict[str, Any], ctx: WriteContext) -> None:
    assert PDBS is not None
    page = await listing.list_objects(call.store, PDBS, call.namespace, flt=listing.build_filter(PDBS))
    labels = (pod.get("metadata") or {}).get("labels") or {}
    matching = []
    for pdb in page.items:
        try:
            selector = selector_from_dict((pdb.get("spec") or {}).get("selector"))
        except SelectorError:
            continue
        if selector.empty or not selector.matches(labels):
            continue
        matching.append(pdb)
    if not matching:
        return
    if len(matching) > 1:
        raise errors.internal(MSG_MULTIPLE_PDBS)
    name = matching[0]["metadata"]["name"]
    now = format_time(call.api.clock.now())

    def decrement(pdb: dict[str, Any]) -> dict[str, Any]:
        status = pdb.setdefault("status", {})
        generation = int(pdb.get("metadata", {}).get("generation") or 0)
        if int(status.get("observedGeneration") or 0) < generation:
            cause = {"reason": "DisruptionBudget", "message": MSG_BUDGET_PROCESSING.format(pdb=name)}
            raise errors.too_many_requests(MSG_BUDGET, causes=[cause])
        allowed = int(status.get("disruptionsAllowed") or 0)
        if allowed < 0:
            raise errors.forbidden("", "pods", call.name, MSG_NEGATIVE)
        disrupted = dict(status.get("disruptedPods") or {})
        if len(disrupted) > MAX_DISRUPTED_PODS:
            raise errors.forbidden(
                "",
                "pods",
                call.name,
                "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
            )
        if allowed == 0:
            cause = {
                "reason": "DisruptionBudget",
                "message": MSG_BUDGET_CAUSE.format(
                    pdb=name,
                    desired=int(status.get("desiredHealthy") or 0),
                    current=int(status.get("currentHealthy") or 0),
                ),
            }
            raise errors.too_many_requests(MSG_BUDGET, causes=[cause])
        status["disruptionsAllowed"] = allowed - 1
        disrupted[call.name] = now
        status["disruptedPods"] = disrupted
        return pdb

    await call.store.guaranteed_update(PDBS, call.namespace, name, decrement, ctx=ctx, subresource="status")


# ---- scale ---------------------------------------------------------------------------------------
def _scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = ""
    try:
        selector = str(selector_from_dict(spec.get("selector")))
    except SelectorError:
        selector = ""
    scale_meta = {
        k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
    }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": int(spec.get("replicas", 1) or 0)},
        "status": {"replicas": int(status.get("replicas") or 0), "selector": selector},
    }


async def scale(call: Call, resource: Resource) -> Response:
    verb = call.info.verb
    if verb == "get":
        obj = await call.store.get(resource, call.namespace, call.name)
        return json_response(200, _scale_of(obj), private=True)
    if verb not in ("update", "patch"):
        raise errors.method_not_supported(resource.group, f"{resource.plural}/scale", verb)
    kind = "UpdateOptions" if verb == "update" else "PatchOptions"
    content_type = codec.media_type(call.req.headers.get("content-type", ""))
    params = options.write_params(call.req, kind=kind, patch_type=content_type if verb == "patch" else "")
    ctx = WriteContext(dry_run=params.dry_run, field_manager=params.field_manager)
    if verb == "update":
        body = codec.decode_object(call.req.body, content_type)
    else:
        if content_type not in codec.PATCH_TYPES or content_type == codec.APPLY:
            raise errors.unsupported_media_type(content_type)
        body = codec.decode_body(call.req.body, content_type, allowed=codec.PATCH_TYPES)

    def rescale(obj: dict[str, Any]) -> dict[str, Any]:
        current = _scale_of(obj)
        wanted = body if verb == "update" else apply_patch("Scale", content_type, current, body)
        # ScaleSpec.replicas is omitempty upstream: "scale to 0" from a Go client arrives as spec: {}.
        replicas = (wanted.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(
                "autoscaling",
                "Scale",
                call.name,
                [FieldError.invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
            )
        want_rv = (wanted.get("metadata") or {}).get("resourceVersion")
        obj.setdefault("spec", {})["replicas"] = replicas
        if want_rv:
            obj["metadata"]["resourceVersion"] = want_rv
        return obj

    updated = await call.store.guaranteed_update(resource, call.namespace, call.name, rescale, ctx=ctx)
    return json_response(200, _scale_of(updated), private=True)
