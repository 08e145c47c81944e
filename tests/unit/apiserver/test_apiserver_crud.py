"""Create/get/update/patch through APIServer.handle: codes, upstream messages, generation and status rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import TABLE_ACCEPT, Client, daemonset, node, pod

DS = "/apis/apps/v1/namespaces/default/daemonsets"
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


async def test_create_get_list(client: Client) -> None:
    created = await client.post(DS, daemonset())
    assert created.status == 201
    meta = created.body["metadata"]
    assert meta["namespace"] == "default"
    assert meta["generation"] == 1
    assert meta["uid"] and meta["creationTimestamp"] == "2026-01-01T00:00:00Z"
    assert meta["annotations"]["deprecated.daemonset.template.generation"] == "1"
    assert created.body["status"] == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }
    assert created.body["spec"]["updateStrategy"]["type"] == "RollingUpdate"  # defaulted
    got = await client.get(f"{DS}/kube-proxy")
    assert got.status == 200
    assert got.body["metadata"]["resourceVersion"] == meta["resourceVersion"]
    listed = await client.get(DS)
    assert listed.body["kind"] == "DaemonSetList"
    assert [i["metadata"]["name"] for i in listed.body["items"]] == ["kube-proxy"]
    assert int(listed.body["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])
    cluster_wide = await client.get("/apis/apps/v1/daemonsets")
    assert len(cluster_wide.body["items"]) == 1


async def test_create_errors(client: Client) -> None:
    await client.post(DS, daemonset())
    dup = await client.post(DS, daemonset())
    assert (dup.status, dup.body["reason"]) == (409, "AlreadyExists")
    assert dup.body["message"] == 'daemonsets.apps "kube-proxy" already exists'
    assert dup.body["details"] == {"name": "kube-proxy", "group": "apps", "kind": "daemonsets"}

    missing_ns = await client.post("/apis/apps/v1/namespaces/nosuchns/daemonsets", daemonset())
    assert (missing_ns.status, missing_ns.body["message"]) == (404, 'namespaces "nosuchns" not found')

    bad = daemonset("kube-proxy-bad")
    del bad["spec"]["template"]["spec"]["containers"][0]["image"]
    invalid = await client.post(DS, bad)
    assert (invalid.status, invalid.body["reason"]) == (422, "Invalid")
    assert invalid.body["details"]["kind"] == "DaemonSet"
    assert invalid.body["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.template.spec.containers[0].image",
        }
    ]
    assert invalid.body["message"] == (
        'DaemonSet.apps "kube-proxy-bad" is invalid: spec.template.spec.containers[0].image: Required value'
    )

    garbage = await client.post(DS, None, raw=b'{"metadata":', content_type="application/json")
    assert (garbage.status, garbage.body["reason"]) == (400, "BadRequest")

    xml = await client.post(DS, None, raw=b"<x/>", content_type="application/xml")
    assert (xml.status, xml.body["reason"]) == (415, "UnsupportedMediaType")

    huge = await client.post(DS, None, raw=b"{" + b" " * (3 * 1024 * 1024) + b"}")
    assert (huge.status, huge.body["reason"]) == (413, "RequestEntityTooLarge")

    wrong_kind = await client.post(DS, {**daemonset("x"), "kind": "Deployment"})
    assert wrong_kind.status == 400

    rv_set = daemonset("with-rv")
    rv_set["metadata"]["resourceVersion"] = "5"
    rejected = await client.post(DS, rv_set)
    assert (rejected.status, rejected.body["message"]) == (
        400,
        "resourceVersion should not be set on objects to be created",
    )


async def test_not_found_and_unknown_routes(client: Client) -> None:
    missing = await client.get(f"{DS}/nosuch")
    assert missing.status == 404
    assert missing.body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'daemonsets.apps "nosuch" not found',
        "reason": "NotFound",
        "details": {"name": "nosuch", "group": "apps", "kind": "daemonsets"},
        "code": 404,
    }
    core = await client.get("/api/v1/namespaces/default/pods/nope")
    assert core.body["message"] == 'pods "nope" not found'
    assert core.body["details"] == {"name": "nope", "kind": "pods"}
    unknown = await client.get("/apis/apps/v1/namespaces/default/widgets")
    assert (unknown.status, unknown.body["message"]) == (
        404,
        "the server could not find the requested resource",
    )
    put_collection = await client.put(DS, daemonset())
    assert put_collection.status == 405


async def test_generate_name(client: Client) -> None:
    body = pod("")
    body["metadata"] = {"generateName": "web-"}
    created = await client.post("/api/v1/namespaces/default/pods", body)
    assert created.status == 201
    name = created.body["metadata"]["name"]
    assert name.startswith("web-") and len(name) == len("web-") + 5
    no_name = await client.post("/api/v1/namespaces/default/pods", {**pod(""), "metadata": {}})
    assert no_name.status == 422
    assert no_name.body["details"]["causes"][0]["field"] == "metadata.name"


async def test_update_conflict_and_generation(client: Client) -> None:
    created = (await client.post(DS, daemonset())).body
    # label-only change: no generation bump, template generation unchanged
    created["metadata"]["labels"]["extra"] = "1"
    updated = await client.put(f"{DS}/kube-proxy", created)
    assert updated.status == 200
    assert updated.body["metadata"]["generation"] == 1
    assert int(updated.body["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    # stale resourceVersion: 409 Conflict with the upstream text
    stale = await client.put(f"{DS}/kube-proxy", created)
    assert stale.status == 409
    assert stale.body["reason"] == "Conflict"
    assert stale.body["message"] == (
        'Operation cannot be fulfilled on daemonsets.apps "kube-proxy": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    # spec change (non-template) bumps generation only; template change bumps both
    current = updated.body
    current["spec"]["minReadySeconds"] = 5
    bumped = (await client.put(f"{DS}/kube-proxy", current)).body
    assert bumped["metadata"]["generation"] == 2
    assert bumped["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"
    bumped["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.k8s.io/kube-proxy:v1.32.1"
    templ = (await client.put(f"{DS}/kube-proxy", bumped)).body
    assert templ["metadata"]["generation"] == 3
    assert templ["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    # a no-op update writes nothing
    same = await client.put(f"{DS}/kube-proxy", templ)
    assert same.body["metadata"]["resourceVersion"] == templ["metadata"]["resourceVersion"]
    # name mismatch
    other = await client.put(f"{DS}/other", templ)
    assert (other.status, other.body["message"]) == (
        400,
        "the name of the object (kube-proxy) does not match the name on the URL (other)",
    )
    # immutable selector (validation) is 422
    templ["spec"]["selector"] = {"matchLabels": {"k8s-app": "kube-proxy", "x": "y"}}
    templ["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    immutable = await client.put(f"{DS}/kube-proxy", templ)
    assert immutable.status == 422
    assert any(c["field"] == "spec.selector" for c in immutable.body["details"]["causes"])


async def test_status_rules(client: Client) -> None:
    created = (await client.post(DS, daemonset())).body
    # status sent to the main resource is ignored
    created["status"]["numberReady"] = 7
    main = (await client.put(f"{DS}/kube-proxy", created)).body
    assert main["status"]["numberReady"] == 0
    # only status changes through /status, and generation does not move
    main["status"]["numberReady"] = 3
    main["status"]["observedGeneration"] = 1
    main["spec"]["minReadySeconds"] = 99
    main["metadata"]["labels"]["sneaky"] = "1"
    status = (await client.put(f"{DS}/kube-proxy/status", main)).body
    assert status["status"]["numberReady"] == 3
    assert "minReadySeconds" not in status["spec"] or status["spec"]["minReadySeconds"] == 0
    assert "sneaky" not in status["metadata"]["labels"]
    assert status["metadata"]["generation"] == 1
    patched = await client.patch(
        f"{DS}/kube-proxy/status", {"status": {"numberReady": 4}}, content_type=MERGE
    )
    assert patched.body["status"]["numberReady"] == 4
    got = await client.get(f"{DS}/kube-proxy/status")
    assert got.body["status"]["numberReady"] == 4


async def test_node_status_kept_on_create_and_main_update(client: Client) -> None:
    body = node("n1")
    body["status"] = {"capacity": {"pods": "110"}}
    created = (await client.post("/api/v1/nodes", body)).body
    assert created["status"]["capacity"] == {"pods": "110"}
    patched = await client.patch(
        "/api/v1/nodes/n1",
        {"spec": {"unschedulable": True}, "status": {"capacity": {"pods": "1"}}},
        content_type=SMP,
    )
    assert patched.body["spec"]["unschedulable"] is True
    assert patched.body["status"]["capacity"] == {"pods": "110"}


@pytest.mark.parametrize(
    ("content_type", "patch_body"),
    [
        (SMP, {"metadata": {"labels": {"team": "net"}}}),
        (MERGE, {"metadata": {"labels": {"team": "net"}}}),
        (JSON_PATCH, [{"op": "add", "path": "/metadata/labels/team", "value": "net"}]),
    ],
)
async def test_patch_types(client: Client, content_type: str, patch_body: Any) -> None:
    await client.post(DS, daemonset())
    resp = await client.patch(f"{DS}/kube-proxy", patch_body, content_type=content_type)
    assert resp.status == 200, resp.body
    assert resp.body["metadata"]["labels"] == {"k8s-app": "kube-proxy", "team": "net"}
    assert resp.body["metadata"]["generation"] == 1


async def test_patch_errors(client: Client) -> None:
    await client.post(DS, daemonset())
    missing = await client.patch(f"{DS}/nosuch", {"metadata": {}}, content_type=SMP)
    assert missing.status == 404
    stale = await client.patch(f"{DS}/kube-proxy", {"metadata": {"resourceVersion": "1"}}, content_type=MERGE)
    assert (stale.status, stale.body["reason"]) == (409, "Conflict")
    bad_type = await client.patch(f"{DS}/kube-proxy", {}, content_type="application/json")
    assert bad_type.status == 415
    broken = await client.patch(f"{DS}/kube-proxy", None, raw=b"{nope", content_type=SMP)
    assert (broken.status, broken.body["reason"]) == (400, "BadRequest")
    image = await client.patch(
        f"{DS}/kube-proxy",
        {"spec": {"template": {"spec": {"containers": [{"name": "kube-proxy", "image": ""}]}}}},
        content_type=SMP,
    )
    assert image.status == 422


async def test_field_validation(client: Client) -> None:
    body = daemonset()
    body["spec"]["foo"] = 1
    strict = await client.post(DS, body, query={"fieldValidation": "Strict"})
    assert strict.status == 400
    assert strict.body["message"] == (
        'DaemonSet in version "v1" cannot be handled as a DaemonSet: '
        'strict decoding error: unknown field "spec.foo"'
    )
    warn = await client.post(DS, body, query={"fieldValidation": "Warn"})
    assert warn.status == 201
    assert warn.headers["warning"] == '299 - "unknown field \\"spec.foo\\""'
    assert "foo" not in warn.body["spec"]  # dropped, never stored
    ignored = await client.patch(
        f"{DS}/kube-proxy", {"spec": {"bar": 1}}, content_type=MERGE, query={"fieldValidation": "Ignore"}
    )
    assert ignored.status == 200 and "warning" not in ignored.headers and "bar" not in ignored.body["spec"]
    strict_patch = await client.patch(
        f"{DS}/kube-proxy", {"spec": {"bar": 1}}, content_type=MERGE, query={"fieldValidation": "Strict"}
    )
    assert (strict_patch.status, strict_patch.body["reason"]) == (422, "Invalid")
    assert 'strict decoding error: unknown field "spec.bar"' in strict_patch.body["message"]
    bogus = await client.post(DS, daemonset("x"), query={"fieldValidation": "Loud"})
    assert bogus.status == 422


async def test_dry_run(client: Client) -> None:
    dry = await client.post(DS, daemonset(), query={"dryRun": "All"})
    assert dry.status == 201
    assert dry.body["metadata"]["uid"]
    assert (await client.get(f"{DS}/kube-proxy")).status == 404
    await client.post(DS, daemonset())
    patched = await client.patch(
        f"{DS}/kube-proxy", {"metadata": {"labels": {"a": "b"}}}, content_type=MERGE, query={"dryRun": "All"}
    )
    assert patched.body["metadata"]["labels"]["a"] == "b"
    assert "a" not in (await client.get(f"{DS}/kube-proxy")).body["metadata"]["labels"]
    deleted = await client.delete(f"{DS}/kube-proxy", query={"dryRun": "All"})
    assert deleted.status == 200
    assert (await client.get(f"{DS}/kube-proxy")).status == 200
    bad = await client.post(DS, daemonset("y"), query={"dryRun": "Some"})
    assert bad.status == 422


async def test_server_side_apply(client: Client) -> None:
    path = f"{DS}/kube-proxy"
    apply_type = "application/apply-patch+yaml"
    no_manager = await client.patch(path, daemonset(), content_type=apply_type)
    assert no_manager.status == 422
    created = await client.patch(
        path, daemonset(), content_type=apply_type, query={"fieldManager": "kubectl"}
    )
    assert created.status == 201
    managers = [m["manager"] for m in created.body["metadata"]["managedFields"]]
    assert managers == ["kubectl"]
    other = daemonset(image="registry.k8s.io/kube-proxy:v1.32.1")
    conflict = await client.patch(path, other, content_type=apply_type, query={"fieldManager": "other"})
    assert (conflict.status, conflict.body["reason"]) == (409, "Conflict")
    assert conflict.body["message"].startswith('Apply failed with 1 conflict: conflict with "kubectl"')
    assert conflict.body["details"]["causes"][0]["reason"] == "FieldManagerConflict"
    forced = await client.patch(
        path, other, content_type=apply_type, query={"fieldManager": "other", "force": "true"}
    )
    assert forced.status == 200
    assert forced.body["spec"]["template"]["spec"]["containers"][0]["image"].endswith("v1.32.1")
    assert forced.body["metadata"]["generation"] == 2


async def test_table_get(client: Client) -> None:
    await client.post(DS, daemonset())
    single = await client.get(f"{DS}/kube-proxy", accept=TABLE_ACCEPT)
    assert single.body["kind"] == "Table"
    assert [c["name"] for c in single.body["columnDefinitions"]][:2] == ["Name", "Desired"]
    assert single.body["rows"][0]["cells"][0] == "kube-proxy"
    assert single.body["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    full = await client.get(DS, accept=TABLE_ACCEPT, query={"includeObject": "Object"})
    assert full.body["rows"][0]["object"]["kind"] == "DaemonSet"
    assert json.dumps(full.body["rows"][0]["object"]["spec"])
