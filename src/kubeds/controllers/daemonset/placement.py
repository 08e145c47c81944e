"""Which nodes a DaemonSet runs on: upstream ``NodeShouldRunDaemonPod`` and its ``predicates``.

Mirrors ``pkg/controller/daemon/daemon_controller.go``: the controller builds the pod it would
create (the template, namespace of the DaemonSet, ``spec.nodeName`` = the node, plus the default
daemon tolerations of :mod:`.podtemplate`) and checks only

1. the template's ``spec.nodeName``, if set, names this node;
2. required node affinity: ``nodeSelector`` AND ``requiredDuringScheduling...`` terms
   (:class:`kubeds.models.affinity.RequiredNodeAffinity`; parse errors count as "no match");
3. the node's ``NoSchedule``/``NoExecute`` taints are all tolerated.

Resources, host ports, ``spec.unschedulable``, the Ready condition and pod (anti-)affinity are the
scheduler's business, not the controller's. The result is ``(should_run, should_continue_running)``:
an untolerated ``NoSchedule`` taint stops new pods but keeps running ones; an untolerated
``NoExecute`` taint removes them.

:class:`Placement` precomputes the DaemonSet side once, so checking thousands of nodes costs one
affinity and one taint pass per node. :class:`MemoPlacement` also remembers each node's answer by the
node's ``resourceVersion``, so the controller, which checks every node several times per sync and
syncs about twice per pod created, only re-evaluates nodes that changed (the answer depends on
nothing else of the node).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubeds.controllers.daemonset.podtemplate import add_or_update_daemon_pod_tolerations
from kubeds.models.affinity import RequiredNodeAffinity
from kubeds.models.taints import NO_EXECUTE, NO_SCHEDULE, find_matching_untolerated_taint

__all__ = ["MemoPlacement", "Placement", "new_simulated_pod", "node_should_run_daemon_pod", "placement_key"]

_SCHEDULE_EFFECTS = frozenset({NO_SCHEDULE, NO_EXECUTE})
_EXECUTE_EFFECTS = frozenset({NO_EXECUTE})


def new_simulated_pod(ds: Mapping[str, Any], node_name: str) -> dict[str, Any]:
    """Upstream ``NewPod(ds, nodeName)``: the template as a pod on ``node_name`` with default tolerations."""
    template = (ds.get("spec") or {}).get("template") or {}
    metadata = copy.deepcopy(dict(template.get("metadata") or {}))
    metadata["namespace"] = (ds.get("metadata") or {}).get("namespace")
    spec = copy.deepcopy(dict(template.get("spec") or {}))
    spec["nodeName"] = node_name
    add_or_update_daemon_pod_tolerations(spec)
    return {"metadata": metadata, "spec": spec}


class Placement:
    """The placement rules of one DaemonSet, evaluated against any number of nodes."""

    __slots__ = ("_affinity", "_template_node_name", "_tolerations")

    def __init__(self, ds: Mapping[str, Any]) -> None:
        pod = new_simulated_pod(ds, "")
        self._template_node_name = str(
            (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeName") or ""
        )
        self._affinity = RequiredNodeAffinity.from_pod(pod)
        self._tolerations: list[dict[str, Any]] = pod["spec"].get("tolerations") or []

    def should_run(self, node: Mapping[str, Any]) -> tuple[bool, bool]:
        """``(should_run, should_continue_running)`` for ``node``."""
        node_name = (node.get("metadata") or {}).get("name") or ""
        if self._template_node_name and self._template_node_name != node_name:
            return False, False
        if not self._affinity.matches(node):
            return False, False
        taints = (node.get("spec") or {}).get("taints") or []
        if find_matching_untolerated_taint(taints, self._tolerations, effects=_SCHEDULE_EFFECTS) is None:
            return True, True
        untolerated_no_execute = find_matching_untolerated_taint(
            taints, self._tolerations, effects=_EXECUTE_EFFECTS
        )
        return False, untolerated_no_execute is None


class MemoPlacement(Placement):
    """A :class:`Placement` remembering ``should_run`` per node name and ``resourceVersion``.

    Build one per DaemonSet template (see :func:`placement_key`); a node without a
    ``resourceVersion`` is never remembered.
    """

    __slots__ = ("_memo",)

    def __init__(self, ds: Mapping[str, Any]) -> None:
        super().__init__(ds)
        self._memo: dict[str, tuple[str, tuple[bool, bool]]] = {}

    def should_run(self, node: Mapping[str, Any]) -> tuple[bool, bool]:
        meta = node.get("metadata") or {}
        name = meta.get("name") or ""
        rv = meta.get("resourceVersion")
        hit = self._memo.get(name)
        if hit is not None and rv and hit[0] == rv:
            return hit[1]
        result = super().should_run(node)
        if rv:
            self._memo[name] = (rv, result)
        return result


def placement_key(ds: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """What a DaemonSet's placement depends on: UID, namespace and spec (by generation, else rv).

    None when the object carries neither (nothing safe to remember it by).
    """
    meta = ds.get("metadata") or {}
    generation = meta.get("generation")
    rv = meta.get("resourceVersion")
    if not generation and not rv:
        return None
    version = f"g{generation}" if generation else f"rv{rv}"
    return str(meta.get("uid") or ""), str(meta.get("namespace") or ""), version


def node_should_run_daemon_pod(node: Mapping[str, Any], ds: Mapping[str, Any]) -> tuple[bool, bool]:
    """``(should_run, should_continue_running)`` of ``ds`` on ``node`` (upstream ``NodeShouldRunDaemonPod``)."""
    return Placement(ds).should_run(node)
