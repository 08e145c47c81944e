"""OpenAPI v3 root and documents, and the v2 protobuf (kubectl-wire.md §1.5, §2.5, §8)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import yaml

from kubeds.apiserver import openapi, protobuf as pb, resources

KINDS = [(r.group, r.version, r.kind) for r in resources.RESOURCES]


def _patch_ops_for(doc: dict[str, Any], gvk: dict[str, str]) -> list[dict[str, Any]]:
    return [
        item["patch"]
        for item in doc["paths"].values()
        if "patch" in item and item["patch"].get(openapi.GVK_EXTENSION) == gvk
    ]


def _item_path(group: str, version: str, plural: str, namespaced: bool) -> str:
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return (
        f"{prefix}/namespaces/{{namespace}}/{plural}/{{name}}"
        if namespaced
        else f"{prefix}/{plural}/{{name}}"
    )


def test_v3_root_points_at_every_group_version_with_its_hash() -> None:
    root = openapi.v3_root()
    expected_keys = [
        "api/v1",
        "apis/apps/v1",
        "apis/coordination.k8s.io/v1",
        "apis/policy/v1",
        "apis/scheduling.k8s.io/v1",
    ]
    assert list(root["paths"]) == expected_keys
    for group, version in openapi.group_versions():
        key = openapi.v3_path_key(group, version)
        data = openapi.v3_document_bytes(group, version)
        assert data is not None
        digest = hashlib.sha512(data).hexdigest().upper()
        assert root["paths"][key] == {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
        assert openapi.v3_lookup(key) == (group, version)
    hashes = {openapi.v3_hash(g, v) for g, v in openapi.group_versions()}
    assert len(hashes) == len(expected_keys)
    assert openapi.v3_root() == root  # stable


@pytest.mark.parametrize(
    "key", ["api", "apis/apps", "apis/apps/v2", "api/v2", "apis/nosuch/v1", "version", ""]
)
def test_v3_lookup_unknown(key: str) -> None:
    assert openapi.v3_lookup(key) is None


def test_v3_unknown_group_version() -> None:
    assert openapi.v3_document("apps", "v1beta1") is None
    assert openapi.v3_document_bytes("nosuch", "v1") is None
    assert openapi.v3_hash("nosuch", "v1") is None


def test_v3_document_is_the_served_bytes() -> None:
    doc = openapi.v3_document("apps", "v1")
    assert doc == json.loads(openapi.v3_document_bytes("apps", "v1") or b"")
    assert doc is not None
    assert doc["openapi"] == "3.0.0"
    assert doc["info"] == {"title": "Kubernetes", "version": "v1.32.0"}
    # components must exist (kubectl apply warns "OpenAPI V3 Components is nil" otherwise) but
    # carries no GVK-tagged schema, so kubectl computes patches from its compiled-in types
    assert "components" in doc
    assert all(openapi.GVK_EXTENSION not in s for s in doc["components"]["schemas"].values())
    doc["paths"].clear()  # callers get a fresh dict
    assert openapi.v3_document("apps", "v1") != doc


@pytest.mark.parametrize(("group", "version", "kind"), KINDS)
def test_v3_patch_with_field_validation_for_every_kind(group: str, version: str, kind: str) -> None:
    # kubectl's supportsQueryParamV3 (cli-runtime query_param_verifier_v3.go) returns at the first
    # PATCH operation whose GVK matches (Go map order), so every such operation must qualify.
    doc = openapi.v3_document(group, version)
    assert doc is not None
    gvk = {"group": group, "version": version, "kind": kind}
    ops = _patch_ops_for(doc, gvk)
    assert ops, f"no PATCH for {gvk}"
    for op in ops:
        query = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= query
        assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]
        assert op["x-kubernetes-action"] == "patch"


@pytest.mark.parametrize("resource", resources.RESOURCES, ids=lambda r: r.kind)
def test_v3_item_path_operations(resource: resources.Resource) -> None:
    doc = openapi.v3_document(resource.group, resource.version)
    assert doc is not None
    item = doc["paths"][_item_path(resource.group, resource.version, resource.plural, resource.namespaced)]
    gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
    scope = "Namespaced" if resource.namespaced else ""
    token = (
        "Core"
        if not resource.group
        else "".join(p[:1].upper() + p[1:] for p in resource.group.removesuffix(".k8s.io").split("."))
    ) + "V1"
    for method, verb, action in [
        ("get", "read", "get"),
        ("put", "replace", "put"),
        ("patch", "patch", "patch"),
        ("delete", "delete", "delete"),
    ]:
        op = item[method]
        assert op["x-kubernetes-group-version-kind"] == gvk
        assert op["x-kubernetes-action"] == action
        assert op["operationId"] == f"{verb}{token}{scope}{resource.kind}"
    assert {p["name"] for p in item["put"]["parameters"]} == {"dryRun", "fieldManager", "fieldValidation"}
    assert {"gracePeriodSeconds", "propagationPolicy", "dryRun"} <= {
        p["name"] for p in item["delete"]["parameters"]
    }
    path_params = [p["name"] for p in item["parameters"] if p["in"] == "path"]
    assert path_params == (["name", "namespace"] if resource.namespaced else ["name"])


def test_v3_patch_operation_for_daemonsets_matches_the_recorded_minimum() -> None:
    # kubectl-wire.md §2.5 item 2: the minimal document kubectl 1.32 accepted.
    doc = openapi.v3_document("apps", "v1")
    assert doc is not None
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"]["patch"]
    assert patch["operationId"] == "patchAppsV1NamespacedDaemonSet"
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "DaemonSet"}
    (fv,) = [p for p in patch["parameters"] if p["name"] == "fieldValidation"]
    assert fv["in"] == "query"
    assert fv["schema"]["type"] == "string"


def test_v3_collection_subresource_and_all_namespace_paths() -> None:
    core = openapi.v3_document("", "v1")
    assert core is not None
    eviction = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]
    assert set(eviction) == {"post", "parameters"}
    assert eviction["post"]["operationId"] == "createCoreV1NamespacedPodEviction"
    assert eviction["post"]["x-kubernetes-group-version-kind"] == {
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
    }
    status = core["paths"]["/api/v1/nodes/{name}/status"]
    assert {"get", "put", "patch"} <= set(status)
    assert status["patch"]["operationId"] == "patchCoreV1NodeStatus"
    assert core["paths"]["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    pods = core["paths"]["/api/v1/namespaces/{namespace}/pods"]
    assert pods["get"]["operationId"] == "listCoreV1NamespacedPod"
    assert pods["post"]["operationId"] == "createCoreV1NamespacedPod"
    assert pods["delete"]["operationId"] == "deletecollectionCoreV1NamespacedPod"
    assert "/api/v1/namespaces" in core["paths"]
    assert "delete" not in core["paths"]["/api/v1/namespaces"]  # namespaces have no deletecollection
    assert "/api/v1/nodes" in core["paths"] and "/api/v1/namespaces/{namespace}/nodes" not in core["paths"]
    lease = openapi.v3_document("coordination.k8s.io", "v1")
    assert lease is not None
    item = lease["paths"]["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"]
    assert item["patch"]["operationId"] == "patchCoordinationV1NamespacedLease"


# ---------------------------------------------------------------------------------------------
# v2 protobuf, decoded back with the generic wire decoder


def _fields(data: bytes) -> list[tuple[int, Any]]:
    return [(f.number, f.value) for f in pb.iter_fields(data)]


def _one(data: bytes, number: int) -> Any:
    values = [v for n, v in _fields(data) if n == number]
    assert len(values) == 1, f"field {number}: {len(values)} values"
    return values[0]


def _all(data: bytes, number: int) -> list[Any]:
    return [v for n, v in _fields(data) if n == number]


def _v2_paths() -> dict[str, bytes]:
    doc = openapi.v2_protobuf()
    paths: dict[str, bytes] = {}
    for named in _all(_one(doc, 8), 2):  # Document.paths -> Paths.path (NamedPathItem)
        name = _one(named, 1).decode()
        assert name not in paths
        paths[name] = _one(named, 2)
    return paths


def _v2_query_params(operation: bytes) -> dict[str, str]:
    out = {}
    for item in _all(operation, 8):  # Operation.parameters -> ParametersItem
        non_body = _one(_one(item, 1), 2)  # .parameter -> Parameter.non_body_parameter
        for sub in _all(non_body, 3):  # query_parameter_sub_schema
            assert _one(sub, 2) == b"query"
            out[_one(sub, 4).decode()] = _one(sub, 6).decode()  # name -> type
    return out


def _v2_extensions(operation: bytes) -> dict[str, Any]:
    out = {}
    for named in _all(operation, 13):  # Operation.vendor_extension -> NamedAny
        out[_one(named, 1).decode()] = yaml.safe_load(_one(_one(named, 2), 2).decode())  # Any.yaml
    return out


def test_v2_document_header() -> None:
    doc = openapi.v2_protobuf()
    assert _one(doc, 1) == b"2.0"  # swagger
    info = _one(doc, 2)
    assert _one(info, 1) == b"Kubernetes"
    assert _one(info, 2) == b"v1.32.0"
    assert openapi.v2_protobuf() == doc  # stable


@pytest.mark.parametrize("resource", resources.RESOURCES, ids=lambda r: r.kind)
def test_v2_patch_operation_for_every_kind(resource: resources.Resource) -> None:
    # What kubectl 1.27/1.28's supportsQueryParam (query_param_verifier.go) reads from the doc.
    paths = _v2_paths()
    item = paths[_item_path(resource.group, resource.version, resource.plural, resource.namespaced)]
    patch = _one(item, 8)  # PathItem.patch
    assert _one(patch, 5).decode().startswith("patch")  # operation_id
    params = _v2_query_params(patch)
    assert params["fieldValidation"] == "string"
    assert params["force"] == "boolean"
    assert {"dryRun", "fieldManager"} <= set(params)
    ext = _v2_extensions(patch)
    assert ext["x-kubernetes-group-version-kind"] == {
        "group": resource.group,
        "version": resource.version,
        "kind": resource.kind,
    }
    assert ext["x-kubernetes-action"] == "patch"
    for number in (2, 3, 5):  # get, put, delete are there too
        assert _v2_extensions(_one(item, number))["x-kubernetes-group-version-kind"]["kind"] == resource.kind


def test_v2_core_gvk_yaml_spells_the_empty_group() -> None:
    item = _v2_paths()["/api/v1/nodes/{name}"]
    (named,) = [n for n in _all(_one(item, 8), 13) if _one(n, 1) == b"x-kubernetes-group-version-kind"]
    assert _one(_one(named, 2), 2) == b'group: ""\nkind: Node\nversion: v1\n'


def test_v2_matches_v3_paths() -> None:
    v3_paths = set()
    for group, version in openapi.group_versions():
        doc = openapi.v3_document(group, version)
        assert doc is not None
        v3_paths |= set(doc["paths"])
    assert set(_v2_paths()) == v3_paths


def test_v2_path_parameters() -> None:
    item = _v2_paths()["/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"]
    names = []
    for p in _all(item, 9):  # PathItem.parameters
        non_body = _one(_one(p, 1), 2)
        for sub in _all(non_body, 4):  # path_parameter_sub_schema
            assert _one(sub, 1) == 1  # required
            assert _one(sub, 2) == b"path"
            names.append(_one(sub, 4).decode())
    assert names == ["name", "namespace"]
