"""The collector's single steps against a real in-process API server, with the requests recorded.

Ported from upstream ``pkg/controller/garbagecollector/garbagecollector_test.go``: ``TestAttemptToDeleteItem``
(the exact requests), ``TestAbsentOwnerCache`` (one GET per absent owner, LRU of 2),
``TestDeleteOwnerRefPatch`` and ``TestUnblockOwnerReference`` (the patches, applied by the server's
strategic merge patch), ``TestOrphanDependentsFailure`` (a 409 surfaces as an error); plus the
resourceVersion-precondition retry of upstream ``deleteObject`` and ``removeFinalizer``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from kubeds import wire
from kubeds.apiserver.handler import APIServer
from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.controllers.garbagecollector import (
    GarbageCollector,
    GarbageCollectorConfig,
    graph as g,
    operations,
)
from kubeds.storage.memory import MemoryBackend

NS = "ns1"


class RecordingTransport:
    """In-process transport that records ``METHOD path`` and can answer some requests itself."""

    def __init__(self, server: APIServer) -> None:
        self.inner = InProcessTransport(server.handle)
        self.actions: list[str] = []
        self.canned: dict[str, wire.Response] = {}

    async def request(self, req: wire.Request) -> wire.Response:
        action = f"{req.method} {req.path}"
        self.actions.append(action)
        if action in self.canned:
            return self.canned[action]
        return await self.inner.request(req)

    async def close(self) -> None:
        return None


@pytest.fixture
async def recorded(clock: FakeClock) -> AsyncIterator[tuple[ApiClient, RecordingTransport]]:
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock)
    await server.start()
    transport = RecordingTransport(server)
    client = ApiClient(transport, clock=clock)
    await client.resource("v1", "namespaces").create({"metadata": {"name": NS}})
    yield client, transport
    await server.close()
    await backend.close()


def ds_ref(name: str, uid: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": name, "uid": uid, **extra}


def pod(name: str, *refs: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "ownerReferences": list(refs), **meta},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


def node_of(obj: dict[str, Any], *, virtual: bool = False) -> g.Node:
    meta = obj["metadata"]
    identity = g.ObjectReference(
        api_version="v1", kind="Pod", name=meta["name"], uid=meta["uid"], namespace=meta["namespace"]
    )
    # Owners are left empty: attempt_to_delete_item reads the latest object itself.
    return g.Node(identity, virtual=virtual)


async def test_attempt_to_delete_item_requests(recorded: tuple[ApiClient, RecordingTransport]) -> None:
    api, transport = recorded
    created = await api.resource("v1", "pods").create(pod("to-be-deleted-pod", ds_ref("owner1", "123")))
    gc = GarbageCollector(api, GarbageCollectorConfig(workers=1))
    item = node_of(created, virtual=True)
    transport.actions.clear()
    await gc.attempt_to_delete_item(item)
    assert item.virtual
    assert sorted(transport.actions) == sorted(
        [
            "GET /api/v1/namespaces/ns1/pods/to-be-deleted-pod",
            "GET /apis/apps/v1/namespaces/ns1/daemonsets/owner1",
            "DELETE /api/v1/namespaces/ns1/pods/to-be-deleted-pod",
        ]
    )
    with pytest.raises(errors.NotFound):
        await api.resource("v1", "pods").get("to-be-deleted-pod", namespace=NS)


async def test_absent_owner_cache_saves_owner_lookups(recorded: tuple[ApiClient, RecordingTransport]) -> None:
    api, transport = recorded
    pods = api.resource("v1", "pods")
    rc1pod1 = await pods.create(pod("rc1pod1", ds_ref("rc1", "1", controller=True)))
    rc1pod2 = await pods.create(pod("rc1pod2", ds_ref("rc1", "1", controller=False)))
    rc2pod1 = await pods.create(pod("rc2pod1", ds_ref("rc2", "2")))
    rc3pod1 = await pods.create(pod("rc3pod1", ds_ref("rc3", "3")))
    gc = GarbageCollector(api, GarbageCollectorConfig(workers=1, absent_owner_cache_size=2))
    transport.actions.clear()
    for obj in (rc1pod1, rc2pod1, rc1pod2, rc3pod1):
        await gc.attempt_to_delete_item(node_of(obj))

    def absent(name: str, uid: str) -> g.ObjectReference:
        return g.ObjectReference(api_version="apps/v1", kind="DaemonSet", name=name, uid=uid, namespace=NS)

    assert gc.absent_owner_cache.has(absent("rc1", "1"))
    assert not gc.absent_owner_cache.has(absent("rc2", "2"))
    assert gc.absent_owner_cache.has(absent("rc3", "3"))
    assert transport.actions.count("GET /apis/apps/v1/namespaces/ns1/daemonsets/rc1") == 1
    assert (await pods.list(namespace=NS))["items"] == []


async def test_delete_owner_ref_patch(recorded: tuple[ApiClient, RecordingTransport]) -> None:
    api, _ = recorded
    created = await api.resource("v1", "pods").create(
        pod("p", ds_ref("a", "1"), ds_ref("b", "2"), ds_ref("c", "3"))
    )
    body = operations.delete_owner_refs_patch(created["metadata"]["uid"], ["2", "3"])
    patched = await api.resource("v1", "pods").patch("p", body, namespace=NS, patch_type="strategic")
    assert patched["metadata"]["ownerReferences"] == [ds_ref("a", "1")]


async def test_delete_owner_ref_patch_fails_on_a_recreated_object(
    recorded: tuple[ApiClient, RecordingTransport],
) -> None:
    api, _ = recorded
    await api.resource("v1", "pods").create(pod("p", ds_ref("a", "1")))
    body = operations.delete_owner_refs_patch("uid-of-an-earlier-pod", ["1"])
    with pytest.raises(errors.ApiError):
        await api.resource("v1", "pods").patch("p", body, namespace=NS, patch_type="strategic")
    kept = await api.resource("v1", "pods").get("p", namespace=NS)
    assert kept["metadata"]["ownerReferences"] == [ds_ref("a", "1")]


async def test_unblock_owner_reference_patch(recorded: tuple[ApiClient, RecordingTransport]) -> None:
    api, _ = recorded
    refs = [
        ds_ref("a", "1", blockOwnerDeletion=True),
        ds_ref("b", "2", blockOwnerDeletion=False),
        ds_ref("c", "3"),
    ]
    created = await api.resource("v1", "pods").create(pod("p", *refs))
    node = g.Node(node_of(created).identity, owners=refs)
    patched = await api.resource("v1", "pods").patch(
        "p", node.unblock_owner_references_patch(), namespace=NS, patch_type="strategic"
    )
    assert patched["metadata"]["ownerReferences"] == [
        ds_ref("a", "1", blockOwnerDeletion=False),
        ds_ref("b", "2", blockOwnerDeletion=False),
        ds_ref("c", "3"),
    ]


async def test_orphan_dependents_reports_conflicts(recorded: tuple[ApiClient, RecordingTransport]) -> None:
    api, transport = recorded
    status = {"kind": "Status", "status": "Failure", "reason": "Conflict", "code": 409, "message": "conflict"}
    transport.canned["PATCH /api/v1/namespaces/ns1/pods/pod"] = wire.Response(
        409, {"content-type": "application/json"}, orjson.dumps(status)
    )
    gc = GarbageCollector(api, GarbageCollectorConfig(workers=1))
    dependent = g.Node(g.ObjectReference(api_version="v1", kind="Pod", name="pod", uid="u", namespace=NS))
    owner = g.ObjectReference(api_version="apps/v1", kind="DaemonSet", name="ds", uid="o", namespace=NS)
    with pytest.raises(ExceptionGroup) as info:
        await gc.orphan_dependents(owner, [dependent])
    assert isinstance(info.value.exceptions[0], errors.Conflict)
    # A dependent that no longer exists is not an error.
    await gc.orphan_dependents(owner, [g.Node(g.ObjectReference("v1", "Pod", "gone", "x", NS))])


async def test_delete_object_retries_when_only_unrelated_fields_changed(
    recorded: tuple[ApiClient, RecordingTransport],
) -> None:
    api, _ = recorded
    pods = api.resource("v1", "pods")
    stale = await pods.create(pod("p", ds_ref("a", "1")))
    await pods.patch("p", {"metadata": {"labels": {"touched": "yes"}}}, namespace=NS)
    ops = operations.Operations(api)
    await ops.delete_object(
        node_of(stale).identity,
        resource_version=stale["metadata"]["resourceVersion"],
        owners_at_resource_version=stale["metadata"]["ownerReferences"],
        policy="Background",
    )
    with pytest.raises(errors.NotFound):
        await pods.get("p", namespace=NS)


async def test_delete_object_refuses_when_owner_references_changed(
    recorded: tuple[ApiClient, RecordingTransport],
) -> None:
    api, _ = recorded
    pods = api.resource("v1", "pods")
    stale = await pods.create(pod("p", ds_ref("a", "1")))
    await pods.patch("p", {"metadata": {"ownerReferences": [ds_ref("b", "2")]}}, namespace=NS)
    ops = operations.Operations(api)
    with pytest.raises(errors.Conflict):
        await ops.delete_object(
            node_of(stale).identity,
            resource_version=stale["metadata"]["resourceVersion"],
            owners_at_resource_version=stale["metadata"]["ownerReferences"],
            policy="Background",
        )
    assert (await pods.get("p", namespace=NS))["metadata"]["ownerReferences"] == [ds_ref("b", "2")]


async def test_remove_finalizer_keeps_other_finalizers(
    recorded: tuple[ApiClient, RecordingTransport],
) -> None:
    api, _ = recorded
    pods = api.resource("v1", "pods")
    created = await pods.create(pod("p", finalizers=["example.com/keep"]))
    await pods.delete("p", namespace=NS, propagation_policy="Foreground")
    ops = operations.Operations(api)
    identity = node_of(created).identity
    await ops.remove_finalizer(identity, g.FINALIZER_FOREGROUND)
    left = await pods.get("p", namespace=NS)
    assert left["metadata"]["finalizers"] == ["example.com/keep"]
    # Already removed, and an object that is gone: both are success.
    await ops.remove_finalizer(identity, g.FINALIZER_FOREGROUND)
    await pods.patch("p", {"metadata": {"finalizers": None}}, namespace=NS)
    await ops.remove_finalizer(identity, g.FINALIZER_FOREGROUND)
    with pytest.raises(errors.NotFound):
        await pods.get("p", namespace=NS)
