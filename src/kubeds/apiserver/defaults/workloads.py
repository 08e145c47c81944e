"""Defaulting of the apps/v1 workloads: DaemonSet, Deployment, ReplicaSet, ControllerRevision.

Mirrors ``pkg/apis/apps/v1/defaults.go`` (``SetDefaults_DaemonSet``, ``SetDefaults_Deployment``,
``SetDefaults_ReplicaSet``); the embedded pod template gets the core/v1 pod-spec defaults of
:mod:`kubeds.apiserver.defaults.pod`. Like upstream's JSON encoding of Go structs, a template's
``metadata`` always carries ``creationTimestamp: null`` (a zero ``metav1.Time`` is not omitted), and
status structs carry their non-``omitempty`` counters as 0.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.defaults import pod

__all__ = ["default_controller_revision", "default_daemonset", "default_deployment", "default_replicaset"]

DEFAULT_REVISION_HISTORY_LIMIT = 10
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
DEFAULT_DEPLOYMENT_MAX_SURGE = "25%"
DEFAULT_DEPLOYMENT_MAX_UNAVAILABLE = "25%"
# DaemonSetStatus fields serialised without omitempty (staging/src/k8s.io/api/apps/v1/types.go).
_DAEMONSET_STATUS_COUNTERS = (
    "currentNumberScheduled",
    "numberMisscheduled",
    "desiredNumberScheduled",
    "numberReady",
)


def _sub(obj: dict[str, Any], name: str) -> dict[str, Any]:
    value = obj.get(name)
    if not isinstance(value, dict):
        value = obj[name] = {}
    return value


def default_pod_template(template: dict[str, Any]) -> None:
    """A ``PodTemplateSpec``: ``metadata.creationTimestamp: null`` and the pod-spec defaults."""
    metadata = _sub(template, "metadata")
    metadata.setdefault("creationTimestamp", None)
    pod.default_pod_spec(_sub(template, "spec"))


def default_daemonset(ds: dict[str, Any]) -> None:
    spec = _sub(ds, "spec")
    strategy = _sub(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = 1
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = 0
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT
    default_pod_template(_sub(spec, "template"))
    status = _sub(ds, "status")
    for name in _DAEMONSET_STATUS_COUNTERS:
        status.setdefault(name, 0)


def default_deployment(deployment: dict[str, Any]) -> None:
    spec = _sub(deployment, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = _sub(spec, "strategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _sub(strategy, "rollingUpdate")
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = DEFAULT_DEPLOYMENT_MAX_UNAVAILABLE
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = DEFAULT_DEPLOYMENT_MAX_SURGE
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = DEFAULT_REVISION_HISTORY_LIMIT
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = DEFAULT_PROGRESS_DEADLINE_SECONDS
    default_pod_template(_sub(spec, "template"))
    _sub(deployment, "status")


def default_replicaset(rs: dict[str, Any]) -> None:
    spec = _sub(rs, "spec")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    default_pod_template(_sub(spec, "template"))
    _sub(rs, "status").setdefault("replicas", 0)


def default_controller_revision(revision: dict[str, Any]) -> None:
    revision.setdefault("revision", 0)
