"""Column definitions per kind and the shape of the Table response (includeObject, headers, metadata)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from kubeds.apiserver.printers import build_table, column_definitions
from kubeds.apiserver.resources import RESOURCES

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
Json = dict[str, Any]

# (name, priority) per kind, from AddHandlers in pkg/printers/internalversion/printers.go;
# the priority-0 names are exactly the headers `kubectl get` prints (docs/kubectl-wire.md §3.2).
COLUMNS = {
    "Pod": [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ],
    "Node": [
        ("Name", 0),
        ("Status", 0),
        ("Roles", 0),
        ("Age", 0),
        ("Version", 0),
        ("Internal-IP", 1),
        ("External-IP", 1),
        ("OS-Image", 1),
        ("Kernel-Version", 1),
        ("Container-Runtime", 1),
    ],
    "DaemonSet": [
        ("Name", 0),
        ("Desired", 0),
        ("Current", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Node Selector", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ],
    "Deployment": [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ],
    "ReplicaSet": [
        ("Name", 0),
        ("Desired", 0),
        ("Current", 0),
        ("Ready", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ],
    "ControllerRevision": [("Name", 0), ("Controller", 0), ("Revision", 0), ("Age", 0)],
    "Event": [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ],
    "Namespace": [("Name", 0), ("Status", 0), ("Age", 0)],
    "Lease": [("Name", 0), ("Holder", 0), ("Age", 0)],
    "PodDisruptionBudget": [
        ("Name", 0),
        ("Min Available", 0),
        ("Max Unavailable", 0),
        ("Allowed Disruptions", 0),
        ("Age", 0),
    ],
    "PriorityClass": [("Name", 0), ("Value", 0), ("Global-Default", 0), ("Age", 0), ("PreemptionPolicy", 0)],
    "ConfigMap": [("Name", 0), ("Data", 0), ("Age", 0)],
    "ServiceAccount": [("Name", 0), ("Secrets", 0), ("Age", 0)],
    "SomethingElse": [("Name", 0), ("Created At", 0)],
}


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_column_names_and_priorities(kind: str) -> None:
    assert [(c["name"], c["priority"]) for c in column_definitions(kind)] == COLUMNS[kind]


def test_every_served_kind_has_its_own_columns() -> None:
    default = column_definitions("SomethingElse")
    for resource in RESOURCES:
        assert column_definitions(resource.kind) != default, resource.kind


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_column_definitions_are_complete_and_name_formatted(kind: str) -> None:
    columns = column_definitions(kind)
    for c in columns:
        assert set(c) == {"name", "type", "format", "description", "priority"}
        assert c["type"] in {"string", "integer", "boolean", "date"}
        assert c["description"]
    assert [c["name"] for c in columns if c["format"] == "name"] == ["Name"]


@pytest.mark.parametrize(
    ("kind", "column", "type_"),
    [
        ("DaemonSet", "Desired", "integer"),
        ("Pod", "Restarts", "string"),
        ("PriorityClass", "Global-Default", "boolean"),
        ("PriorityClass", "Value", "integer"),
        ("PodDisruptionBudget", "Allowed Disruptions", "integer"),
        ("SomethingElse", "Created At", "date"),
    ],
)
def test_column_types(kind: str, column: str, type_: str) -> None:
    assert {c["name"]: c["type"] for c in column_definitions(kind)}[column] == type_


def test_column_definitions_are_fresh_copies() -> None:
    column_definitions("Pod")[0]["name"] = "mutated"
    assert column_definitions("Pod")[0]["name"] == "Name"


def ds(name: str, namespace: str = "kube-system") -> Json:
    return {
        "kind": "DaemonSet",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "resourceVersion": "1086",
            "creationTimestamp": "2026-03-01T11:59:55Z",
            "labels": {"k8s-app": name},
            "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update"}],
        },
        "spec": {"selector": {"matchLabels": {"k8s-app": name}}, "template": {"spec": {"containers": []}}},
        "status": {"desiredNumberScheduled": 2},
    }


def test_table_with_partial_object_metadata_by_default() -> None:
    table = build_table(
        "DaemonSet",
        [ds("kube-proxy"), ds("fluentd", "logging")],
        now=NOW,
        resource_version="1086",
        api_version="apps/v1",
    )
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "1086"}
    assert [c["name"] for c in table["columnDefinitions"]] == [n for n, _ in COLUMNS["DaemonSet"]]
    assert [r["cells"][0] for r in table["rows"]] == ["kube-proxy", "fluentd"]  # order as given
    assert table["rows"][0]["cells"][7] == "5s"
    obj = table["rows"][1]["object"]
    assert obj == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {k: v for k, v in ds("fluentd", "logging")["metadata"].items() if k != "managedFields"},
    }
    assert "conditions" not in table["rows"][0]
    json.dumps(table)  # a plain JSON document


def test_table_with_full_objects_for_sort_by() -> None:
    stored = ds("kube-proxy")
    del stored["kind"], stored["apiVersion"]
    table = build_table("DaemonSet", [stored], now=NOW, include_object="Object", api_version="apps/v1")
    obj = table["rows"][0]["object"]
    assert obj["kind"] == "DaemonSet"
    assert obj["apiVersion"] == "apps/v1"
    assert obj["status"] == {"desiredNumberScheduled": 2}
    assert obj["metadata"]["managedFields"]  # the full object is untouched
    assert "kind" not in stored


def test_table_without_objects() -> None:
    table = build_table(
        "DaemonSet", [ds("kube-proxy")], now=NOW, include_object="None", api_version="apps/v1"
    )
    assert table["rows"][0]["object"] is None


def test_watch_event_table_without_headers_and_continue_token() -> None:
    table = build_table(
        "DaemonSet",
        [ds("kube-proxy")],
        now=NOW,
        api_version="apps/v1",
        include_headers=False,
        resource_version="7",
        continue_token="abc",
    )
    assert table["columnDefinitions"] == []
    assert table["metadata"] == {"resourceVersion": "7", "continue": "abc"}
    assert len(table["rows"]) == 1


def test_empty_table_keeps_headers() -> None:
    table = build_table("Pod", [], now=NOW, api_version="v1")
    assert table["rows"] == []
    assert table["metadata"] == {}
    assert len(table["columnDefinitions"]) == 9


def test_completed_pod_row_carries_its_condition() -> None:
    pod = {
        "metadata": {"name": "job-x"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Succeeded"},
    }
    row = build_table("Pod", [pod], now=NOW, api_version="v1")["rows"][0]
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert row["cells"][:3] == ["job-x", "0/1", "Succeeded"]


def test_unknown_kind_uses_the_default_columns() -> None:
    table = build_table(
        "Widget",
        [{"metadata": {"name": "w", "creationTimestamp": "2026-01-02T03:04:05Z"}}],
        now=NOW,
        api_version="example.com/v1",
    )
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert table["rows"][0]["cells"] == ["w", "2026-01-02T03:04:05Z"]
