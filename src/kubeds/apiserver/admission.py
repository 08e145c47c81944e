"""The built-in admission plugins the served kinds need.

* NamespaceLifecycle (``plugin/pkg/admission/namespace/lifecycle``): creating a namespaced
  object in a namespace that does not exist is 404 ``namespaces "x" not found``; in a namespace
  that is ``Terminating`` it is 403 with the ``NamespaceTerminating`` cause; the immortal
  namespaces (default, kube-system, kube-public) may not be deleted.
* Priority (``plugin/pkg/admission/priority/admission.go``): a pod's ``priorityClassName`` is
  resolved to ``spec.priority`` (and ``preemptionPolicy``) from the PriorityClass objects and the
  two built-in system classes; an unknown class is 403 ``no PriorityClass with name x was
  found``; a pod without a class gets the global default class or priority 0.
* DefaultTolerationSeconds (``plugin/pkg/admission/defaulttolerationseconds``): pods get
  ``not-ready`` and ``unreachable`` ``NoExecute`` tolerations with ``tolerationSeconds: 300``
  unless they already tolerate those taints.

The global default PriorityClass is looked up for every pod created without a class. The lookup
lists the PriorityClass keys (the storage's raw list, no decoding) and decodes them only when a
key or its modification revision differs from the previous lookup's: a value at a key with the
same revision is the same bytes, so the memo holds across API servers sharing one store. The
namespace of every namespaced create is looked up the same way: its stored phase is memoised on
the namespace's modification revision, so a create reads the key but decodes nothing.

Upstream's plugin reads PriorityClasses from an informer, not from etcd: here the default class is
trusted without listing again for :data:`LOOKUP_TTL` seconds, unless this server has written or
deleted a PriorityClass since (:attr:`kubeds.apiserver.store.Store.changes`). On one server nothing
is stale; another server's change is seen within the TTL, as an informer's lag. On etcd the list
was one call per pod created (it cannot join the batched reads of ``storage/etcdreads.py``).
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver import errors
from kubeds.apiserver.resources import Resource, lookup, storage_prefix
from kubeds.apiserver.store import Store

__all__ = ["BUILTIN_PRIORITY_CLASSES", "IMMORTAL_NAMESPACES", "DefaultAdmission"]

IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
BUILTIN_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
DEFAULT_PREEMPTION = "PreemptLowerPriority"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION_SECONDS = 300
LOOKUP_TTL = 1.0
MSG_NS_TERMINATING = "unable to create new content in namespace {ns} because it is being terminated"
MSG_NS_IMMORTAL = "this namespace may not be deleted"
MSG_NO_PRIORITY_CLASS = "no PriorityClass with name {name} was found"
MSG_PRIORITY_SET = (
    "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller "
    "computed {computed} from the given PriorityClass name"
)

NAMESPACES = lookup("", "v1", "namespaces")
PRIORITY_CLASSES = lookup("scheduling.k8s.io", "v1", "priorityclasses")


class DefaultAdmission:
    """The admission chain of the served API (mutating then validating, create and delete)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # (key, mod_revision) of every PriorityClass at the last lookup, and its global default.
        self._default_seen: tuple[tuple[str, int], ...] | None = None
        self._default_class: dict[str, Any] | None = None
        self._default_checked: tuple[float, int] | None = None  # (when, Store.changes) of that lookup
        # namespace name -> (mod_revision, status.phase) of its stored version at the last lookup.
        self._namespace_phase: dict[str, tuple[int, Any]] = {}

    async def admit_create(self, resource: Resource, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        if resource.namespaced:
            await self._namespace_lifecycle(resource, str(meta.get("namespace") or ""), name)
        if resource.kind == "Pod" and resource.group == "":
            await self._priority(obj, name)
            _default_toleration_seconds(obj)

    async def admit_delete(self, resource: Resource, obj: dict[str, Any]) -> None:
        if resource.kind == "Namespace" and resource.group == "":
            name = str((obj.get("metadata") or {}).get("name") or "")
            if name in IMMORTAL_NAMESPACES:
                raise errors.forbidden("", "namespaces", name, MSG_NS_IMMORTAL)

    async def _namespace_lifecycle(self, resource: Resource, namespace: str, name: str) -> None:
        assert NAMESPACES is not None
        key = self.store.key(NAMESPACES, "", namespace)
        kv = await self.store.storage_call(self.store.backend.get(key), NAMESPACES, namespace)
        if kv is None:
            self._namespace_phase.pop(namespace, None)
            raise errors.not_found("", "namespaces", namespace)
        known = self._namespace_phase.get(namespace)
        if known is None or known[0] != kv.mod_revision:
            known = (kv.mod_revision, (self.store.decode(kv).get("status") or {}).get("phase"))
            self._namespace_phase[namespace] = known
        if known[1] == "Terminating":
            message = MSG_NS_TERMINATING.format(ns=namespace)
            cause = {"reason": "NamespaceTerminating", "message": message, "field": "metadata.namespace"}
            raise errors.forbidden(resource.group, resource.plural, name, message, causes=[cause])

    async def _priority(self, pod: dict[str, Any], name: str) -> None:
        spec = pod.setdefault("spec", {})
        class_name = str(spec.get("priorityClassName") or "")
        value: int | None = None
        policy = DEFAULT_PREEMPTION
        if class_name:
            pc = await self._priority_class(class_name)
            if pc is not None:
                value = int(pc.get("value") or 0)
                policy = str(pc.get("preemptionPolicy") or DEFAULT_PREEMPTION)
            elif class_name in BUILTIN_PRIORITY_CLASSES:
                value = BUILTIN_PRIORITY_CLASSES[class_name]
            else:
                raise errors.forbidden("", "pods", name, MSG_NO_PRIORITY_CLASS.format(name=class_name))
        else:
            default = await self._global_default()
            if default is not None:
                value = int(default.get("value") or 0)
                policy = str(default.get("preemptionPolicy") or DEFAULT_PREEMPTION)
                spec["priorityClassName"] = default["metadata"]["name"]
            else:
                value = 0
        given = spec.get("priority")
        if given is not None and given != value:
            raise errors.forbidden("", "pods", name, MSG_PRIORITY_SET.format(given=given, computed=value))
        spec["priority"] = value
        spec.setdefault("preemptionPolicy", policy)

    async def _priority_class(self, name: str) -> dict[str, Any] | None:
        assert PRIORITY_CLASSES is not None
        try:
            return await self.store.get(PRIORITY_CLASSES, "", name)
        except errors.StatusError as exc:
            if exc.code == 404:
                return None
            raise

    async def _global_default(self) -> dict[str, Any] | None:
        """The global default class (lowest value among ``globalDefault`` ones), memoised on the
        keys and modification revisions of the stored PriorityClasses."""
        assert PRIORITY_CLASSES is not None
        store = self.store
        checked = self._default_checked
        if (
            checked is not None
            and store.changes["PriorityClass"] == checked[1]
            and store.clock.monotonic() - checked[0] < LOOKUP_TTL
        ):
            return self._default_class
        checked = (store.clock.monotonic(), store.changes["PriorityClass"])
        prefix = storage_prefix(PRIORITY_CLASSES, None)
        listed = await store.storage_call(store.backend.list(prefix), PRIORITY_CLASSES, "")
        self._default_checked = checked
        seen = tuple((kv.key, kv.mod_revision) for kv in listed.kvs)
        if seen != self._default_seen:
            self._default_class = global_default([self.store.decode(kv) for kv in listed.kvs])
            self._default_seen = seen
        return self._default_class


def global_default(classes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``getDefaultPriorityClass``: the ``globalDefault`` class with the lowest value, or None."""
    defaults = [pc for pc in classes if pc.get("globalDefault")]
    if not defaults:
        return None
    return min(defaults, key=lambda pc: int(pc.get("value") or 0))


def _tolerates(tolerations: list[Any], key: str) -> bool:
    for t in tolerations:
        if not isinstance(t, dict):
            continue
        if (t.get("key") in (key, "", None)) and t.get("effect") in ("NoExecute", "", None):
            return True
    return False


def _default_toleration_seconds(pod: dict[str, Any]) -> None:
    spec = pod.setdefault("spec", {})
    tolerations = list(spec.get("tolerations") or [])
    added = False
    for key in (TAINT_NOT_READY, TAINT_UNREACHABLE):
        if not _tolerates(tolerations, key):
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
            added = True
    if added:
        spec["tolerations"] = tolerations
