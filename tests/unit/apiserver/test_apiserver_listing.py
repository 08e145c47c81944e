"""LIST: label and field selectors, pagination, resourceVersion semantics and Table output."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import TABLE_ACCEPT, Client, node, pod

from kubeds.apiserver.handler import APIServer

PODS = "/api/v1/namespaces/default/pods"


async def _names(client: Client, path: str, **query: str) -> list[str]:
    resp = await client.get(path, query=query)
    assert resp.status == 200, resp.body
    return [i["metadata"]["name"] for i in resp.body["items"]]


async def test_label_selectors(client: Client) -> None:
    await client.post(PODS, pod("a", labels={"app": "web", "tier": "fe"}))
    await client.post(PODS, pod("b", labels={"app": "db"}))
    await client.post(PODS, pod("c", labels={"app": "web"}))
    cases = {
        "app=web": ["a", "c"],
        "app==web": ["a", "c"],
        "app!=web": ["b"],
        "app in (db,cache)": ["b"],
        "app notin (db)": ["a", "c"],
        "tier": ["a"],
        "!tier": ["b", "c"],
        "app=web,tier=fe": ["a"],
    }
    for selector, want in cases.items():
        assert await _names(client, PODS, labelSelector=selector) == want, selector
    bad = await client.get(PODS, query={"labelSelector": "app in (x"})
    assert (bad.status, bad.body["reason"]) == (400, "BadRequest")


async def test_field_selectors(client: Client) -> None:
    await client.post(PODS, pod("a", node="n1"))
    await client.post(PODS, pod("b", node="n2"))
    await client.post(PODS, pod("c"))
    assert await _names(client, PODS, fieldSelector="spec.nodeName=n1") == ["a"]
    assert await _names(client, PODS, fieldSelector="spec.nodeName!=n1") == ["b", "c"]
    assert await _names(client, PODS, fieldSelector="spec.nodeName=") == ["c"]
    assert await _names(client, PODS, fieldSelector="status.phase=Pending,metadata.name=b") == ["b"]
    assert await _names(
        client, "/api/v1/pods", fieldSelector="metadata.namespace=default,spec.nodeName==n2"
    ) == ["b"]
    unsupported = await client.get("/apis/apps/v1/daemonsets", query={"fieldSelector": "spec.foo=bar"})
    assert unsupported.status == 400
    assert unsupported.body["message"] == "field label not supported: spec.foo"
    await client.post("/api/v1/nodes", node("n1"))
    assert await _names(client, "/api/v1/nodes", fieldSelector="spec.unschedulable=false") == ["n1"]
    assert await _names(client, "/api/v1/namespaces", fieldSelector="status.phase=Active") == [
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    ]


async def test_event_field_selectors(client: Client) -> None:
    event = {
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "DaemonSet", "name": "kube-proxy", "namespace": "default", "uid": "u1"},
        "reason": "SuccessfulCreate",
        "type": "Normal",
        "source": {"component": "daemonset-controller"},
        "message": "Created pod",
    }
    created = await client.post("/api/v1/namespaces/default/events", event)
    assert created.status == 201, created.body
    path = "/api/v1/namespaces/default/events"
    selector = "involvedObject.kind=DaemonSet,involvedObject.name=kube-proxy,involvedObject.namespace=default"
    assert await _names(client, path, fieldSelector=selector) == ["e1"]
    assert await _names(client, path, fieldSelector="source=daemonset-controller,type=Normal") == ["e1"]
    assert await _names(client, path, fieldSelector="involvedObject.uid=other") == []


async def test_pagination(client: Client) -> None:
    for i in range(7):
        await client.post(PODS, pod(f"p{i}", labels={"app": "web" if i % 2 == 0 else "db"}))
    first = await client.get(PODS, query={"limit": "2"})
    assert [i["metadata"]["name"] for i in first.body["items"]] == ["p0", "p1"]
    token = first.body["metadata"]["continue"]
    rv = first.body["metadata"]["resourceVersion"]
    # a write after the first page is not visible through the token (consistent snapshot)
    await client.post(PODS, pod("p00", labels={"app": "late"}))
    seen = ["p0", "p1"]
    while token:
        page = await client.get(PODS, query={"limit": "2", "continue": token})
        assert page.body["metadata"]["resourceVersion"] == rv
        seen += [i["metadata"]["name"] for i in page.body["items"]]
        token = page.body["metadata"].get("continue", "")
    assert seen == [f"p{i}" for i in range(7)]
    filtered = await client.get(PODS, query={"limit": "2", "labelSelector": "app=web"})
    assert [i["metadata"]["name"] for i in filtered.body["items"]] == ["p0", "p2"]
    rest = await client.get(
        PODS,
        query={"limit": "5", "labelSelector": "app=web", "continue": filtered.body["metadata"]["continue"]},
    )
    assert [i["metadata"]["name"] for i in rest.body["items"]] == ["p4", "p6"]
    assert "continue" not in rest.body["metadata"]
    # resourceVersion=0 is served "from the cache": limit ignored
    everything = await client.get(PODS, query={"limit": "2", "resourceVersion": "0"})
    assert len(everything.body["items"]) == 8 and "continue" not in everything.body["metadata"]


async def test_expired_and_invalid_continue(client: Client, api: APIServer) -> None:
    for i in range(3):
        await client.post(PODS, pod(f"p{i}"))
    first = await client.get(PODS, query={"limit": "1"})
    token = first.body["metadata"]["continue"]
    await client.post(PODS, pod("late"))
    await api.backend.compact(await api.backend.current_revision())
    expired = await client.get(PODS, query={"limit": "1", "continue": token})
    assert (expired.status, expired.body["reason"]) == (410, "Expired")
    assert expired.body["message"].startswith("The provided continue parameter is too old")
    garbage = await client.get(PODS, query={"continue": "!!!"})
    assert garbage.status == 400
    raw = base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": 1, "start": "../x"}).encode())
    traversal = await client.get(PODS, query={"continue": raw.decode()})
    assert traversal.status == 400
    with_rv = await client.get(PODS, query={"continue": token, "resourceVersion": "5"})
    assert with_rv.status == 400


async def test_resource_version_semantics(client: Client, api: APIServer) -> None:
    await client.post(PODS, pod("a"))
    old_rv = (await client.get(PODS)).body["metadata"]["resourceVersion"]
    await client.post(PODS, pod("b"))
    exact = await client.get(PODS, query={"resourceVersion": old_rv, "resourceVersionMatch": "Exact"})
    assert [i["metadata"]["name"] for i in exact.body["items"]] == ["a"]
    not_older = await client.get(PODS, query={"resourceVersion": old_rv})
    assert [i["metadata"]["name"] for i in not_older.body["items"]] == ["a", "b"]
    await api.backend.compact(await api.backend.current_revision())
    gone = await client.get(PODS, query={"resourceVersion": old_rv, "resourceVersionMatch": "Exact"})
    assert (gone.status, gone.body["reason"]) == (410, "Expired")
    assert gone.body["message"].startswith(f"too old resource version: {old_rv} (")
    bad = await client.get(PODS, query={"resourceVersionMatch": "Exact"})
    assert bad.status == 400


@pytest.mark.parametrize("include", ["", "Metadata", "None", "Object"])
async def test_table_list(client: Client, include: str) -> None:
    await client.post(PODS, pod("a"))
    query = {"includeObject": include} if include else {}
    resp = await client.get("/api/v1/pods", accept=TABLE_ACCEPT, query=query)
    table = resp.body
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"]["resourceVersion"]
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    row = table["rows"][0]
    assert row["cells"][:3] == ["a", "0/1", "Pending"]
    want_kind = {"": "PartialObjectMetadata", "Metadata": "PartialObjectMetadata", "Object": "Pod"}.get(
        include
    )
    if want_kind is None:
        assert "object" not in row or row["object"] is None
    else:
        assert row["object"]["kind"] == want_kind
        assert row["object"]["metadata"]["namespace"] == "default"
