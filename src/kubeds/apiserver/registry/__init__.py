"""Per-kind registry strategies; :func:`strategy_for` picks one by Kind (default: :class:`Strategy`)."""

from __future__ import annotations

from kubeds.apiserver.registry.apps import (
    DaemonSetStrategy,
    DeploymentStrategy,
    PodDisruptionBudgetStrategy,
    ReplicaSetStrategy,
)
from kubeds.apiserver.registry.base import Strategy
from kubeds.apiserver.registry.cluster import NamespaceStrategy, NodeStrategy
from kubeds.apiserver.registry.events import EventStrategy
from kubeds.apiserver.registry.pods import PodStrategy

__all__ = ["Strategy", "strategy_for"]

_STRATEGIES: dict[str, Strategy] = {
    s.kind: s
    for s in (
        DaemonSetStrategy(),
        DeploymentStrategy(),
        ReplicaSetStrategy(),
        PodDisruptionBudgetStrategy(),
        NamespaceStrategy(),
        NodeStrategy(),
        EventStrategy(),
        PodStrategy(),
    )
}
_DEFAULT = Strategy()


def strategy_for(kind: str) -> Strategy:
    return _STRATEGIES.get(kind, _DEFAULT)
