"""Aggregated and legacy discovery documents and /version (kubectl-wire.md §2.3, §2.4, §8)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubeds.apiserver import discovery, resources

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _aggregated(root: str, version: str = "v2") -> dict[str, Any]:
    _, body = discovery.aggregated(root, version)
    return dict(json.loads(body))


def _find(items: list[dict[str, Any]], key: str, value: object) -> dict[str, Any]:
    matches = [i for i in items if i[key] == value]
    assert len(matches) == 1, f"{key}={value!r}: {len(matches)} matches"
    return matches[0]


def test_aggregated_apps_v1_daemonsets_matches_the_recorded_shape() -> None:
    # kubectl-wire.md §2.3, the body kubectl 1.32 accepted.
    body = _aggregated("apis")
    assert body["kind"] == "APIGroupDiscoveryList"
    assert body["apiVersion"] == "apidiscovery.k8s.io/v2"
    assert body["metadata"] == {}
    apps = _find(body["items"], "metadata", {"name": "apps", "creationTimestamp": None})
    assert [v["version"] for v in apps["versions"]] == ["v1"]
    v1 = apps["versions"][0]
    assert v1["freshness"] == "Current"
    assert _find(v1["resources"], "resource", "daemonsets") == {
        "resource": "daemonsets",
        "responseKind": {"group": "apps", "version": "v1", "kind": "DaemonSet"},
        "scope": "Namespaced",
        "singularResource": "daemonset",
        "verbs": ALL_VERBS,
        "shortNames": ["ds"],
        "categories": ["all"],
        "subresources": [
            {
                "subresource": "status",
                "responseKind": {"group": "apps", "version": "v1", "kind": "DaemonSet"},
                "verbs": ["get", "patch", "update"],
            }
        ],
    }
    # a resource without short names or categories omits them (omitempty), like upstream
    assert _find(v1["resources"], "resource", "controllerrevisions") == {
        "resource": "controllerrevisions",
        "responseKind": {"group": "apps", "version": "v1", "kind": "ControllerRevision"},
        "scope": "Namespaced",
        "singularResource": "controllerrevision",
        "verbs": ALL_VERBS,
    }


def test_aggregated_core_group_has_one_unnamed_item_with_pod_subresources() -> None:
    body = _aggregated("api")
    assert len(body["items"]) == 1
    core = body["items"][0]
    assert core["metadata"] == {"creationTimestamp": None}
    assert [v["version"] for v in core["versions"]] == ["v1"]
    pods = _find(core["versions"][0]["resources"], "resource", "pods")
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert pods["shortNames"] == ["po"]
    assert pods["subresources"] == [
        {
            "subresource": "binding",
            "responseKind": {"group": "", "version": "v1", "kind": "Binding"},
            "verbs": ["create"],
        },
        {
            "subresource": "eviction",
            "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"},
            "verbs": ["create"],
        },
        {
            "subresource": "status",
            "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
            "verbs": ["get", "patch", "update"],
        },
    ]
    nodes = _find(core["versions"][0]["resources"], "resource", "nodes")
    assert nodes["scope"] == "Cluster"
    assert nodes["shortNames"] == ["no"]


def test_aggregated_short_names_kubectl_resolves() -> None:
    # kubectl-wire.md §8: ds, no, po, ns, ev must resolve.
    short: dict[str, str] = {}
    for root in ("api", "apis"):
        for item in _aggregated(root)["items"]:
            for version in item["versions"]:
                for r in version["resources"]:
                    for name in r.get("shortNames", []):
                        short[name] = r["resource"]
    assert {k: short[k] for k in ("ds", "no", "po", "ns", "ev")} == {
        "ds": "daemonsets",
        "no": "nodes",
        "po": "pods",
        "ns": "namespaces",
        "ev": "events",
    }


def test_aggregated_apis_lists_named_groups_in_catalogue_order() -> None:
    names = [i["metadata"]["name"] for i in _aggregated("apis")["items"]]
    assert names == [g for g in resources.GROUP_ORDER if g]
    assert "" not in names


def test_aggregated_v2beta1_differs_only_in_api_version() -> None:
    for root in ("api", "apis"):
        v2 = _aggregated(root, "v2")
        beta = _aggregated(root, "v2beta1")
        assert beta["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
        beta["apiVersion"] = v2["apiVersion"]
        assert beta == v2


@pytest.mark.parametrize(("root", "version"), [("apis/apps", "v2"), ("api", "v1"), ("", "v2")])
def test_aggregated_rejects_unknown_root_or_version(root: str, version: str) -> None:
    with pytest.raises(ValueError):
        discovery.aggregated(root, version)


def test_aggregated_and_legacy_agree() -> None:
    # upstream installer_test.go TestConvertAPIResourceToDiscovery: every legacy "res/sub" row
    # becomes a subresource of "res" with the row's GVK (defaulting to the group version's).
    for root in ("api", "apis"):
        for item in _aggregated(root)["items"]:
            group = item["metadata"].get("name", "")
            for version in item["versions"]:
                legacy = discovery.resource_list(group, version["version"])
                assert legacy is not None
                rows = {row["name"]: row for row in legacy["resources"]}
                for r in version["resources"]:
                    row = rows.pop(r["resource"])
                    assert r["verbs"] == row["verbs"]
                    assert r["scope"] == ("Namespaced" if row["namespaced"] else "Cluster")
                    assert r["singularResource"] == row["singularName"]
                    assert r["responseKind"]["kind"] == row["kind"]
                    for sub in r.get("subresources", []):
                        srow = rows.pop(f"{r['resource']}/{sub['subresource']}")
                        assert sub["verbs"] == srow["verbs"]
                        assert sub["responseKind"] == {
                            "group": srow.get("group", group),
                            "version": srow.get("version", version["version"]),
                            "kind": srow["kind"],
                        }
                assert rows == {}


def test_legacy_api_versions() -> None:
    assert discovery.legacy_api_versions("127.0.0.1:6443") == {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def test_legacy_group_list() -> None:
    body = discovery.legacy_group_list()
    assert body["kind"] == "APIGroupList"
    assert body["apiVersion"] == "v1"
    apps = _find(body["groups"], "name", "apps")
    assert apps == {
        "name": "apps",
        "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
    }
    names = [g["name"] for g in body["groups"]]
    assert "" not in names
    assert {"apps", "coordination.k8s.io", "policy"} <= set(names)


def test_legacy_core_v1_lists_pods_eviction_for_drain() -> None:
    # kubectl-wire.md §1.7 / §2.3: drain needs exactly this row in GET /api/v1.
    body = discovery.resource_list("", "v1")
    assert body is not None
    assert body["kind"] == "APIResourceList"
    assert body["apiVersion"] == "v1"
    assert body["groupVersion"] == "v1"
    rows = {row["name"]: row for row in body["resources"]}
    assert rows["pods/eviction"] == {
        "name": "pods/eviction",
        "singularName": "",
        "namespaced": True,
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
        "verbs": ["create"],
    }
    assert rows["pods/binding"] == {
        "name": "pods/binding",
        "singularName": "",
        "namespaced": True,
        "kind": "Binding",
        "verbs": ["create"],
    }
    assert rows["pods/status"]["kind"] == "Pod"
    assert rows["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert rows["pods"]["shortNames"] == ["po"]
    assert rows["pods"]["categories"] == ["all"]
    assert rows["nodes"]["namespaced"] is False
    # the installer registers paths in sorted order
    names = [row["name"] for row in body["resources"]]
    assert names == sorted(names)


def test_legacy_apps_v1_has_scale_and_status() -> None:
    body = discovery.resource_list("apps", "v1")
    assert body is not None
    assert body["groupVersion"] == "apps/v1"
    rows = {row["name"]: row for row in body["resources"]}
    assert rows["deployments/scale"] == {
        "name": "deployments/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }
    assert rows["daemonsets/status"]["kind"] == "DaemonSet"
    assert rows["daemonsets"]["shortNames"] == ["ds"]


@pytest.mark.parametrize(("group", "version"), [("apps", "v1beta1"), ("nosuch", "v1"), ("", "v2")])
def test_legacy_unknown_group_version_is_none(group: str, version: str) -> None:
    assert discovery.resource_list(group, version) is None


@pytest.mark.parametrize(
    ("group", "version", "kind", "expected"),
    [
        # values a real kube-apiserver reports in its APIResourceLists
        ("apps", "v1", "DaemonSet", "dd7pWHUlMKQ="),
        ("apps", "v1", "Deployment", "8aSe+NMegvE="),
        ("apps", "v1", "ControllerRevision", "85nkx63pcBU="),
        ("", "v1", "Pod", "xPOwRZ+Yhw8="),
        ("", "v1", "Node", "XwShjMxG9Fs="),
        ("coordination.k8s.io", "v1", "Lease", "gqkMMb/YqFM="),
    ],
)
def test_storage_version_hash(group: str, version: str, kind: str, expected: str) -> None:
    assert discovery.storage_version_hash(group, version, kind) == expected
    body = discovery.resource_list(group, version)
    assert body is not None
    (row,) = [r for r in body["resources"] if r["kind"] == kind and "/" not in r["name"]]
    assert row["storageVersionHash"] == expected
    # subresources carry no hash of their own
    assert all("storageVersionHash" not in r for r in body["resources"] if "/" in r["name"])


def test_version_info() -> None:
    info = discovery.version_info()
    assert info == {
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0",
        "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T17:59:15Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    }
    # kubectl computes the skew warning from gitVersion: it must agree with major/minor
    assert info["gitVersion"].startswith(f"v{info['major']}.{info['minor']}.")
