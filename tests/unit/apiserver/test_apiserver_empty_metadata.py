"""Empty ObjectMeta collections are omitted, as Go's ``omitempty`` does (meta/v1 types.go).

The garbage collector orphans a pod with a strategic merge patch deleting its only owner
reference; upstream the result has no ``ownerReferences`` at all (the typed ObjectMeta drops the
empty slice), and ``kubectl get -o json`` / the Python client see the field absent, not ``[]``.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Client, pod

PODS = "/api/v1/namespaces/default/pods"
OWNER = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "u-1", "controller": True}


@pytest.mark.parametrize(
    "meta",
    [
        {"labels": {}},
        {"annotations": {}},
        {"ownerReferences": []},
        {"finalizers": []},
        {"labels": None, "annotations": None},
    ],
)
async def test_create_omits_empty_collections(client: Client, meta: dict[str, Any]) -> None:
    body = pod("p")
    body["metadata"].update(meta)
    resp = await client.post(PODS, body)
    assert resp.status == 201, resp.body
    for key in meta:
        assert key not in resp.body["metadata"]
        assert key not in (await client.get(f"{PODS}/p")).body["metadata"]


async def test_patch_removing_the_last_owner_reference_drops_the_field(client: Client) -> None:
    body = pod("p")
    body["metadata"]["ownerReferences"] = [OWNER]
    created = await client.post(PODS, body)
    uid = created.body["metadata"]["uid"]
    # what the garbage collector sends to orphan a dependent (upstream deleteOwnerRefStrategicMergePatch)
    patch = {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "u-1"}], "uid": uid}}
    resp = await client.patch(f"{PODS}/p", patch, content_type="application/strategic-merge-patch+json")
    assert resp.status == 200, resp.body
    assert "ownerReferences" not in resp.body["metadata"]
    assert "ownerReferences" not in (await client.get(f"{PODS}/p")).body["metadata"]


async def test_removing_the_last_label_and_annotation_drops_the_maps(client: Client) -> None:
    body = pod("p", labels={"a": "b"})
    body["metadata"]["annotations"] = {"x": "y"}
    await client.post(PODS, body)
    patch = {"metadata": {"labels": {"a": None}, "annotations": {"x": None}}}
    resp = await client.patch(f"{PODS}/p", patch, content_type="application/merge-patch+json")
    assert resp.status == 200, resp.body
    assert "labels" not in resp.body["metadata"] and "annotations" not in resp.body["metadata"]
    kept = await client.patch(
        f"{PODS}/p", {"metadata": {"labels": {"c": "d"}}}, content_type="application/merge-patch+json"
    )
    assert kept.body["metadata"]["labels"] == {"c": "d"}
