"""Strategies for apps/v1 workloads and the PodDisruptionBudget.

Mirrors ``pkg/registry/apps/daemonset/strategy.go``: a new DaemonSet gets the zero status (Go
serialises the four non-omitempty counters), generation 1 and template generation 1 (the apps/v1
annotation ``deprecated.daemonset.template.generation``); an update that changes
``spec.template`` bumps both, any other spec change bumps the generation only.
``pkg/registry/apps/deployment/strategy.go`` also bumps the generation when annotations change
(they are copied onto ReplicaSets); ReplicaSet and PodDisruptionBudget
(``pkg/registry/policy/poddisruptionbudget/strategy.go``) bump on any spec change.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.registry.base import Strategy

__all__ = [
    "TEMPLATE_GENERATION_ANNOTATION",
    "DaemonSetStrategy",
    "DeploymentStrategy",
    "PodDisruptionBudgetStrategy",
    "ReplicaSetStrategy",
]

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"


class DaemonSetStrategy(Strategy):
    kind = "DaemonSet"
    has_status = True
    tracks_generation = True

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        return {
            "currentNumberScheduled": 0,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 0,
            "numberReady": 0,
        }

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        super().prepare_for_create(obj)
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations[TEMPLATE_GENERATION_ANNOTATION] = "1"

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        super().prepare_for_update(new, old)
        old_tg = (old.get("metadata", {}).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION, "1")
        try:
            template_gen = int(old_tg)
        except ValueError:
            template_gen = 1
        if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
            template_gen += 1
        annotations = new["metadata"].get("annotations")
        if not isinstance(annotations, dict):
            annotations = new["metadata"]["annotations"] = {}
        annotations[TEMPLATE_GENERATION_ANNOTATION] = str(template_gen)


class DeploymentStrategy(Strategy):
    kind = "Deployment"
    has_status = True
    tracks_generation = True

    def spec_changed(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        new_ann = new.get("metadata", {}).get("annotations") or {}
        old_ann = old.get("metadata", {}).get("annotations") or {}
        return super().spec_changed(new, old) or new_ann != old_ann

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Upstream's deploymentStatusStrategy resets only spec and labels: annotations written
        through /status are kept (the controller records ``deployment.kubernetes.io/revision`` so)."""
        annotations = (new.get("metadata") or {}).get("annotations")
        super().prepare_for_status_update(new, old)
        if annotations is None:
            new["metadata"].pop("annotations", None)
        else:
            new["metadata"]["annotations"] = annotations


class ReplicaSetStrategy(Strategy):
    kind = "ReplicaSet"
    has_status = True
    tracks_generation = True

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        return {"replicas": 0}


class PodDisruptionBudgetStrategy(Strategy):
    kind = "PodDisruptionBudget"
    has_status = True
    tracks_generation = True

    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        return {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}
