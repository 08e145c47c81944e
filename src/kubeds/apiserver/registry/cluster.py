"""Strategies for the cluster-scoped core kinds: Node and Namespace.

Mirrors ``pkg/registry/core/node/strategy.go`` (a new node keeps the status the kubelet registers
with; main-resource updates keep the old status; ``/status`` keeps the old spec;
``NodeToSelectableFields`` adds ``spec.unschedulable``) and
``pkg/registry/core/namespace/strategy.go`` (a new namespace is ``Active`` and gets the
``kubernetes`` finalizer in ``spec.finalizers``; updates keep ``spec.finalizers`` and the status;
``NamespaceToSelectableFields`` adds ``status.phase``).
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.registry.base import Strategy

__all__ = ["NAMESPACE_FINALIZER", "NamespaceStrategy", "NodeStrategy"]

NAMESPACE_FINALIZER = "kubernetes"


class NodeStrategy(Strategy):
    kind = "Node"
    has_status = True
    extra_field_labels = ("spec.unschedulable",)

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        return None  # the kubelet registers with its status

    def extra_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        return {"spec.unschedulable": "true" if (obj.get("spec") or {}).get("unschedulable") else "false"}


class NamespaceStrategy(Strategy):
    kind = "Namespace"
    has_status = True
    return_deleted_object = True
    extra_field_labels = ("status.phase",)

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        return {"phase": "Active"}

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        spec = obj.setdefault("spec", {})
        finalizers = list(spec.get("finalizers") or [])
        if NAMESPACE_FINALIZER not in finalizers:
            finalizers.append(NAMESPACE_FINALIZER)
        spec["finalizers"] = finalizers

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_for_update(new, old)
        old_fin = (old.get("spec") or {}).get("finalizers")
        spec = new.setdefault("spec", {})
        if old_fin is None:
            spec.pop("finalizers", None)
        else:
            spec["finalizers"] = old_fin  # shared with the store's private old (see base.py)
