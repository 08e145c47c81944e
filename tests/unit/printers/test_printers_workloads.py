"""Rows of DaemonSet, Deployment, ReplicaSet, ControllerRevision and PodDisruptionBudget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeds.apiserver.printers import row_cells
from kubeds.apiserver.printers.formatting import format_label_selector, format_labels, label_selector_string

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
SEED_DAEMONSET = Path("/work/shared/fixtures/kube-proxy-daemonset.yaml")
Json = dict[str, Any]


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def kube_proxy() -> Json:
    """The seed's kube-proxy DaemonSet (as stored: created 5 days ago) with a two-node status."""
    if SEED_DAEMONSET.exists():
        ds: Json = yaml.safe_load(SEED_DAEMONSET.read_text())
    else:  # the same fields, for checkouts without the shared fixtures
        ds = {
            "metadata": {
                "name": "kube-proxy",
                "namespace": "kube-system",
                "labels": {"k8s-app": "kube-proxy"},
            },
            "spec": {
                "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "kube-proxy",
                                "image": "registry.aliyuncs.com/google_containers/kube-proxy:v1.17.0",
                            }
                        ],
                        "nodeSelector": {"beta.kubernetes.io/os": "linux"},
                    }
                },
            },
        }
    ds["metadata"]["creationTimestamp"] = ago(5 * 86400 + 3600)
    ds["status"] = {
        "currentNumberScheduled": 2,
        "desiredNumberScheduled": 2,
        "numberAvailable": 2,
        "numberMisscheduled": 0,
        "numberReady": 2,
        "observedGeneration": 1,
        "updatedNumberScheduled": 2,
    }
    return ds


def test_seed_kube_proxy_daemonset_row() -> None:
    assert row_cells("DaemonSet", kube_proxy(), now=NOW) == [
        "kube-proxy",
        *[2, 2, 2, 2, 2],
        "beta.kubernetes.io/os=linux",
        "5d1h",
        "kube-proxy",
        "registry.aliyuncs.com/google_containers/kube-proxy:v1.17.0",
        "k8s-app=kube-proxy",
    ]


def test_daemonset_before_its_first_status_and_without_node_selector() -> None:
    ds = kube_proxy()
    del ds["status"], ds["spec"]["template"]["spec"]["nodeSelector"]
    ds["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    cells = row_cells("DaemonSet", ds, now=NOW)
    assert cells[1:7] == [0, 0, 0, 0, 0, "<none>"]
    assert cells[8:10] == [
        "kube-proxy,sidecar",
        "registry.aliyuncs.com/google_containers/kube-proxy:v1.17.0,busybox",
    ]


# Ported from TestPrintDeployment in pkg/printers/internalversion/printers_test.go.
def test_deployment_row() -> None:
    deploy = {
        "metadata": {"name": "test1", "creationTimestamp": ago(10)},
        "spec": {
            "replicas": 5,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "fake-container1", "image": "fake-image1"},
                        {"name": "fake-container2", "image": "fake-image2"},
                    ]
                }
            },
            "selector": {"matchLabels": {"foo": "bar"}},
        },
        "status": {"replicas": 10, "updatedReplicas": 2, "availableReplicas": 1, "unavailableReplicas": 4},
    }
    assert row_cells("Deployment", deploy, now=NOW) == [
        "test1",
        "0/5",
        2,
        1,
        "10s",
        "fake-container1,fake-container2",
        "fake-image1,fake-image2",
        "foo=bar",
    ]


def test_deployment_selector_renders_raw_string() -> None:
    base: Json = {"metadata": {"name": "d"}, "spec": {"replicas": 1}}
    assert row_cells("Deployment", base, now=NOW)[7] == ""
    bad = {**base, "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}}}
    assert row_cells("Deployment", bad, now=NOW)[7] == "<invalid>"


# Ported from TestPrintReplicaSet (same file).
def test_replicaset_row() -> None:
    rs = {
        "metadata": {"name": "test1", "creationTimestamp": ago(10)},
        "spec": {
            "replicas": 5,
            "template": {"spec": {"containers": [{"name": "fake-container", "image": "fake-image"}]}},
            "selector": {"matchLabels": {"foo": "bar"}},
        },
        "status": {"replicas": 5, "readyReplicas": 2},
    }
    assert row_cells("ReplicaSet", rs, now=NOW) == [
        "test1",
        5,
        5,
        2,
        "10s",
        "fake-container",
        "fake-image",
        "foo=bar",
    ]


# Ported from TestPrintControllerRevision (same file).
@pytest.mark.parametrize(
    ("owners", "want"),
    [
        (
            [{"controller": True, "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "foo"}],
            "daemonset.apps/foo",
        ),
        ([{"controller": False, "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "foo"}], "<none>"),
        ([], "<none>"),
        ([{"controller": True, "apiVersion": "v1", "kind": "Pod", "name": "bar"}], "pod/bar"),
    ],
)
def test_controller_revision_row(owners: list[Json], want: str) -> None:
    cr = {
        "metadata": {"name": "test1", "ownerReferences": owners, "creationTimestamp": ago(30)},
        "revision": 1,
    }
    assert row_cells("ControllerRevision", cr, now=NOW) == ["test1", want, 1, "30s"]


# Ported from TestPrintPodDisruptionBudget (same file).
@pytest.mark.parametrize(
    ("spec", "allowed", "want"),
    [
        ({"minAvailable": 22}, 5, ["pdb1", "22", "N/A", 5]),
        ({"maxUnavailable": 11}, 5, ["pdb2", "N/A", "11", 5]),
        ({"minAvailable": "50%"}, 0, ["pdb3", "50%", "N/A", 0]),
    ],
)
def test_pdb_row(spec: Json, allowed: int, want: list[Any]) -> None:
    pdb = {
        "metadata": {"name": want[0], "creationTimestamp": ago(-1.9)},
        "spec": spec,
        "status": {"disruptionsAllowed": allowed},
    }
    assert row_cells("PodDisruptionBudget", pdb, now=NOW) == [*want, "0s"]


@pytest.mark.parametrize(
    ("selector", "want"),
    [
        (None, "<none>"),
        ({}, "<none>"),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        (
            {
                "matchLabels": {"k8s-app": "kube-proxy"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["node", "infra", "node"]},
                    {"key": "env", "operator": "NotIn", "values": ["prod"]},
                    {"key": "zone", "operator": "Exists"},
                    {"key": "canary", "operator": "DoesNotExist"},
                ],
            },
            "!canary,env notin (prod),k8s-app=kube-proxy,tier in (infra,node),zone",
        ),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "<error>"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "<error>"),
    ],
)
def test_format_label_selector(selector: Json | None, want: str) -> None:
    assert format_label_selector(selector) == want


def test_does_not_exist_renders_with_bang() -> None:
    assert label_selector_string({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}) == "!a"


@pytest.mark.parametrize(
    ("labels", "want"), [(None, "<none>"), ({}, "<none>"), ({"b": "", "a": "x"}, "a=x,b=")]
)
def test_format_labels(labels: dict[str, str] | None, want: str) -> None:
    assert format_labels(labels) == want
