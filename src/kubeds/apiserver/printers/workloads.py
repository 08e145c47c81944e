"""Rows for the workload kinds: DaemonSet, Deployment, ReplicaSet, ControllerRevision, PodDisruptionBudget.

Mirrors ``printDaemonSet``, ``printDeployment``, ``printReplicaSet``, ``printControllerRevision`` and
``printPodDisruptionBudget`` in ``pkg/printers/internalversion/printers.go``:

- counts are JSON integers read from ``status`` (0 when unset, as Go's zero values);
- DaemonSet ``NODE SELECTOR`` is ``labels.FormatLabels`` of the template's ``nodeSelector``;
  DaemonSet and ReplicaSet ``SELECTOR`` is ``metav1.FormatLabelSelector`` (``<none>`` when empty);
- Deployment ``READY`` is ``ready/desired`` and its ``SELECTOR`` is the raw selector string
  (``""`` when empty, ``<invalid>`` when it cannot be parsed), as upstream;
- ControllerRevision ``CONTROLLER`` is the controlling owner as ``daemonset.apps/<name>``;
- PDB ``MIN AVAILABLE`` / ``MAX UNAVAILABLE`` render the int-or-percent, ``N/A`` when unset.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubeds.apiserver.printers.duration import translate_timestamp_since
from kubeds.apiserver.printers.formatting import (
    InvalidSelectorError,
    controller_name,
    format_int_or_string,
    format_label_selector,
    format_labels,
    label_selector_string,
    layout_container_cells,
)

__all__ = [
    "controller_revision_cells",
    "daemonset_cells",
    "deployment_cells",
    "pdb_cells",
    "replicaset_cells",
]

NOT_APPLICABLE = "N/A"
INVALID_SELECTOR = "<invalid>"


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _age(obj: dict[str, Any], now: dt.datetime) -> str:
    return translate_timestamp_since((obj.get("metadata") or {}).get("creationTimestamp"), now=now)


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return spec


def daemonset_cells(ds: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Desired, Current, Ready, Up-to-date, Available, Node Selector, Age; wide: Containers,
    Images, Selector."""
    status = ds.get("status") or {}
    pod_spec = _pod_spec(ds)
    names, images = layout_container_cells(pod_spec.get("containers"))
    return [
        (ds.get("metadata") or {}).get("name", ""),
        _int(status.get("desiredNumberScheduled")),
        _int(status.get("currentNumberScheduled")),
        _int(status.get("numberReady")),
        _int(status.get("updatedNumberScheduled")),
        _int(status.get("numberAvailable")),
        format_labels(pod_spec.get("nodeSelector")),
        _age(ds, now),
        names,
        images,
        format_label_selector((ds.get("spec") or {}).get("selector")),
    ]


def deployment_cells(deploy: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Ready (``ready/desired``), Up-to-date, Available, Age, Containers, Images, Selector."""
    spec = deploy.get("spec") or {}
    status = deploy.get("status") or {}
    try:
        selector = label_selector_string(spec.get("selector"))
    except InvalidSelectorError:
        selector = INVALID_SELECTOR
    names, images = layout_container_cells(_pod_spec(deploy).get("containers"))
    return [
        (deploy.get("metadata") or {}).get("name", ""),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas'))}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        _age(deploy, now),
        names,
        images,
        selector,
    ]


def replicaset_cells(rs: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Desired, Current, Ready, Age, Containers, Images, Selector."""
    spec = rs.get("spec") or {}
    status = rs.get("status") or {}
    names, images = layout_container_cells(_pod_spec(rs).get("containers"))
    return [
        (rs.get("metadata") or {}).get("name", ""),
        _int(spec.get("replicas")),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _age(rs, now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


def controller_revision_cells(cr: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Controller (``daemonset.apps/<name>`` or ``<none>``), Revision, Age."""
    metadata = cr.get("metadata") or {}
    return [metadata.get("name", ""), controller_name(metadata), _int(cr.get("revision")), _age(cr, now)]


def pdb_cells(pdb: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """Name, Min Available, Max Unavailable, Allowed Disruptions, Age."""
    spec = pdb.get("spec") or {}
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    return [
        (pdb.get("metadata") or {}).get("name", ""),
        NOT_APPLICABLE if min_available is None else format_int_or_string(min_available),
        NOT_APPLICABLE if max_unavailable is None else format_int_or_string(max_unavailable),
        _int((pdb.get("status") or {}).get("disruptionsAllowed")),
        _age(pdb, now),
    ]
