"""``meta.k8s.io/v1`` Table responses: what the API server returns for ``kubectl get``.

Mirrors the Table conversion of the API server: ``TableConvertor.ConvertToTable`` (per-kind printers
registered by ``pkg/printers/internalversion/printers.go``, with ``defaultTableConvertor`` from
``staging/src/k8s.io/apiserver/pkg/registry/rest/table.go`` for anything else), then
``transformObject``/``asTable`` in ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go``,
which replaces each row's object according to ``includeObject``:

- ``Metadata`` (the default, what kubectl gets without ``--sort-by``): a ``PartialObjectMetadata``
  carrying the object's ``metadata`` without ``managedFields``; kubectl reads ``namespace`` (for
  ``-A``) and ``labels`` (for ``--show-labels``/``-L``) from it;
- ``Object`` (``--sort-by``): the full object, with ``kind``/``apiVersion`` stamped if storage left
  them out;
- ``None``: ``"object": null``.

A watch on Tables sends one single-row Table per event; upstream sends the column definitions only
with the first, hence ``include_headers`` (``TableOptions.NoHeaders``). Rows keep the order given:
sorting (namespace, then name) is the caller's, as it is storage's upstream.

Cells are JSON values (strings, ints, bools); AGE is pre-rendered by :func:`human_duration`.
Rows returned share nested values with the input objects: serialise before mutating them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from kubeds.apiserver.printers import cluster, pods, workloads
from kubeds.apiserver.printers.columns import COLUMNS, DEFAULT_COLUMNS

__all__ = [
    "INCLUDE_METADATA",
    "INCLUDE_NONE",
    "INCLUDE_OBJECT",
    "build_table",
    "column_definitions",
    "row_cells",
    "row_conditions",
]

TABLE_API_VERSION = "meta.k8s.io/v1"
PARTIAL_OBJECT_METADATA = "PartialObjectMetadata"
INCLUDE_METADATA = "Metadata"
INCLUDE_OBJECT = "Object"
INCLUDE_NONE = "None"


class CellFunc(Protocol):
    def __call__(self, obj: dict[str, Any], /, *, now: dt.datetime) -> list[Any]: ...


_CELLS: dict[str, CellFunc] = {
    "Pod": pods.pod_cells,
    "Node": cluster.node_cells,
    "DaemonSet": workloads.daemonset_cells,
    "Deployment": workloads.deployment_cells,
    "ReplicaSet": workloads.replicaset_cells,
    "ControllerRevision": workloads.controller_revision_cells,
    "Event": cluster.event_cells,
    "Namespace": cluster.namespace_cells,
    "Lease": cluster.lease_cells,
    "PodDisruptionBudget": workloads.pdb_cells,
    "PriorityClass": cluster.priority_class_cells,
    "ConfigMap": cluster.configmap_cells,
    "ServiceAccount": cluster.service_account_cells,
}


def column_definitions(kind: str) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` for ``kind`` (``Pod``, ``DaemonSet``...), ``Name``/``Created At`` if unknown.

    Returns fresh dicts, so callers may modify them.
    """
    return [dict(c) for c in COLUMNS.get(kind, DEFAULT_COLUMNS)]


def row_cells(kind: str, obj: dict[str, Any], *, now: dt.datetime) -> list[Any]:
    """The cells of ``obj``'s row, one per column of :func:`column_definitions` (``kind``)."""
    cells = _CELLS.get(kind, cluster.default_cells)
    return cells(obj, now=now)


def row_conditions(kind: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
    """``TableRowCondition`` entries of the row: only pods carry one (``Completed``), when terminal."""
    if kind == "Pod":
        return pods.pod_conditions(obj)
    return []


def _partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {"kind": PARTIAL_OBJECT_METADATA, "apiVersion": TABLE_API_VERSION, "metadata": metadata}


def _full_object(kind: str, obj: dict[str, Any], *, api_version: str) -> dict[str, Any]:
    if obj.get("kind") and obj.get("apiVersion"):
        return obj
    return {"kind": obj.get("kind") or kind, "apiVersion": obj.get("apiVersion") or api_version, **obj}


def _row_object(
    kind: str, obj: dict[str, Any], include_object: str, api_version: str
) -> dict[str, Any] | None:
    if include_object == INCLUDE_OBJECT:
        return _full_object(kind, obj, api_version=api_version)
    if include_object == INCLUDE_NONE:
        return None
    return _partial_metadata(obj)


def build_table(
    kind: str,
    objs: list[dict[str, Any]],
    *,
    now: dt.datetime,
    include_object: str = INCLUDE_METADATA,
    resource_version: str = "",
    continue_token: str = "",
    api_version: str,
    include_headers: bool = True,
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objs`` (all of ``kind``, served as ``api_version``, e.g. ``apps/v1``).

    ``include_object`` is the request's ``includeObject`` (``Metadata`` when empty or unrecognised;
    validating the parameter is the caller's job). ``resource_version`` and ``continue_token`` fill
    the Table's list metadata; ``include_headers=False`` leaves ``columnDefinitions`` empty, for the
    watch events after the first.
    """
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    rows: list[dict[str, Any]] = []
    for obj in objs:
        row: dict[str, Any] = {"cells": row_cells(kind, obj, now=now)}
        conditions = row_conditions(kind, obj)
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(kind, obj, include_object=include_object, api_version=api_version)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": metadata,
        "columnDefinitions": column_definitions(kind) if include_headers else [],
        "rows": rows,
    }
