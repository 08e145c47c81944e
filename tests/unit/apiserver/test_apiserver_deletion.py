"""DELETE semantics: graceful pods, finalizers, propagation policies, preconditions, namespaces."""

from __future__ import annotations

import asyncio

from conftest import Client, daemonset, pod

from kubeds.clock import FakeClock

PODS = "/api/v1/namespaces/default/pods"
DS = "/apis/apps/v1/namespaces/default/daemonsets"


async def test_unbound_pod_goes_at_once(client: Client) -> None:
    await client.post(PODS, pod("p"))
    resp = await client.delete(f"{PODS}/p")
    assert resp.status == 200
    assert resp.body["kind"] == "Pod"  # pods return the deleted object
    assert (await client.get(f"{PODS}/p")).status == 404


async def test_bound_pod_is_deleted_gracefully(client: Client, clock: FakeClock) -> None:
    await client.post(PODS, pod("p", node="n1", terminationGracePeriodSeconds=45))
    first = await client.delete(f"{PODS}/p")
    assert first.status == 200
    assert first.body["metadata"]["deletionGracePeriodSeconds"] == 45
    assert first.body["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:45Z"
    still = await client.get(f"{PODS}/p")
    assert still.status == 200
    # a longer grace period does not extend it; a shorter one shortens it
    again = await client.delete(f"{PODS}/p", {"gracePeriodSeconds": 60})
    assert again.body["metadata"]["deletionGracePeriodSeconds"] == 45
    shorter = await client.delete(f"{PODS}/p", {"gracePeriodSeconds": 10})
    assert shorter.body["metadata"]["deletionGracePeriodSeconds"] == 10
    # the node agent confirms with grace 0
    final = await client.delete(f"{PODS}/p", {"gracePeriodSeconds": 0})
    assert final.status == 200
    assert (await client.get(f"{PODS}/p")).status == 404


async def test_default_grace_and_explicit_zero(client: Client) -> None:
    await client.post(PODS, pod("a", node="n1"))
    resp = await client.delete(f"{PODS}/a")
    assert resp.body["metadata"]["deletionGracePeriodSeconds"] == 30
    await client.post(PODS, pod("b", node="n1"))
    await client.delete(f"{PODS}/b", query={"gracePeriodSeconds": "0"})
    assert (await client.get(f"{PODS}/b")).status == 404


async def test_finalizers_keep_object_until_removed(client: Client) -> None:
    body = daemonset()
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await client.post(DS, body)
    resp = await client.delete(f"{DS}/kube-proxy")
    assert resp.status == 200
    assert resp.body["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:00Z"
    assert resp.body["metadata"]["deletionGracePeriodSeconds"] == 0
    assert (await client.get(f"{DS}/kube-proxy")).status == 200
    removed = await client.patch(
        f"{DS}/kube-proxy", {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json"
    )
    assert removed.status == 200
    assert (await client.get(f"{DS}/kube-proxy")).status == 404


async def test_propagation_policies(client: Client) -> None:
    for name in ("bg", "fg", "orphan"):
        await client.post(DS, daemonset(name))
    bg = await client.delete(f"{DS}/bg", {"propagationPolicy": "Background"})
    assert bg.body["kind"] == "Status" and bg.body["status"] == "Success"
    assert bg.body["details"]["name"] == "bg" and bg.body["details"]["kind"] == "daemonsets"
    assert (await client.get(f"{DS}/bg")).status == 404
    fg = await client.delete(f"{DS}/fg", {"propagationPolicy": "Foreground"})
    assert fg.body["metadata"]["finalizers"] == ["foregroundDeletion"]
    orphan = await client.delete(f"{DS}/orphan", {"propagationPolicy": "Orphan"})
    assert orphan.body["metadata"]["finalizers"] == ["orphan"]
    bad = await client.delete(f"{DS}/fg", {"propagationPolicy": "Sideways"})
    assert bad.status == 422
    missing = await client.delete(f"{DS}/nosuch")
    assert (missing.status, missing.body["message"]) == (404, 'daemonsets.apps "nosuch" not found')


async def test_preconditions(client: Client) -> None:
    created = (await client.post(DS, daemonset())).body
    wrong = await client.delete(f"{DS}/kube-proxy", {"preconditions": {"uid": "nope"}})
    assert wrong.status == 409
    assert wrong.body["message"] == (
        'Operation cannot be fulfilled on daemonsets.apps "kube-proxy": Precondition failed: '
        f"UID in precondition: nope, UID in object meta: {created['metadata']['uid']}"
    )
    right = await client.delete(f"{DS}/kube-proxy", {"preconditions": {"uid": created["metadata"]["uid"]}})
    assert right.status == 200


async def test_protobuf_delete_body(client: Client) -> None:
    await client.post(PODS, pod("p", node="n1"))
    # DeleteOptions{gracePeriodSeconds: 0} in the k8s protobuf envelope
    inner = b"\x08\x00"
    type_meta = b"\x0a\x02v1\x12\x0dDeleteOptions"
    envelope = (
        b"k8s\x00" + b"\x0a" + bytes([len(type_meta)]) + type_meta + b"\x12" + bytes([len(inner)]) + inner
    )
    resp = await client.delete(f"{PODS}/p", raw=envelope, content_type="application/vnd.kubernetes.protobuf")
    assert resp.status == 200, resp.body
    assert (await client.get(f"{PODS}/p")).status == 404


async def test_delete_collection(client: Client) -> None:
    await client.post(PODS, pod("a", labels={"app": "x"}))
    await client.post(PODS, pod("b", labels={"app": "y"}))
    resp = await client.delete(PODS, query={"labelSelector": "app=x"})
    assert resp.status == 200
    assert [i["metadata"]["name"] for i in resp.body["items"]] == ["a"]
    left = await client.get(PODS)
    assert [i["metadata"]["name"] for i in left.body["items"]] == ["b"]


async def test_namespace_deletion(client: Client, clock: FakeClock) -> None:
    await client.post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    await client.post("/api/v1/namespaces/team/pods", pod("p", node="n1"))
    await client.post("/apis/apps/v1/namespaces/team/daemonsets", daemonset())
    resp = await client.delete("/api/v1/namespaces/team")
    assert resp.status == 200
    assert resp.body["status"]["phase"] == "Terminating"
    refused = await client.post("/api/v1/namespaces/team/pods", pod("q"))
    assert refused.status == 403
    assert refused.body["message"] == (
        'pods "q" is forbidden: unable to create new content in namespace team because it is being terminated'
    )
    assert refused.body["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    for _ in range(20):
        await asyncio.sleep(0)
    assert (await client.get("/apis/apps/v1/namespaces/team/daemonsets/kube-proxy")).status == 404
    terminating = await client.get("/api/v1/namespaces/team/pods/p")
    assert terminating.body["metadata"]["deletionTimestamp"]
    await client.delete("/api/v1/namespaces/team/pods/p", {"gracePeriodSeconds": 0})
    clock.advance(1.0)
    for _ in range(20):
        await asyncio.sleep(0)
    assert (await client.get("/api/v1/namespaces/team")).status == 404
    # The admission's memo of the namespace's phase follows it being gone, then created again.
    missing = await client.post("/api/v1/namespaces/team/pods", pod("r"))
    assert (missing.status, missing.body["message"]) == (404, 'namespaces "team" not found')
    await client.post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    assert (await client.post("/api/v1/namespaces/team/pods", pod("r"))).status == 201


async def test_immortal_namespaces(client: Client) -> None:
    resp = await client.delete("/api/v1/namespaces/kube-system")
    assert (resp.status, resp.body["message"]) == (
        403,
        'namespaces "kube-system" is forbidden: this namespace may not be deleted',
    )


async def test_policy_decides_finalizers_on_immediate_deletion(client: Client) -> None:
    """An object held only by the orphan finalizer goes at once under Background (the policy drops
    the finalizer), stays under Orphan, and one with another finalizer stays whatever the policy
    (``deletionFinalizersForGarbageCollection``: decided before the object is written)."""
    for name in ("orphaned", "kept", "held"):
        body = daemonset(name)
        body["metadata"]["finalizers"] = ["orphan"] if name != "held" else ["example.com/hold", "orphan"]
        await client.post(DS, body)
    gone = await client.delete(f"{DS}/orphaned", {"propagationPolicy": "Background"})
    assert gone.body["kind"] == "Status" and (await client.get(f"{DS}/orphaned")).status == 404
    kept = await client.delete(f"{DS}/kept", {"propagationPolicy": "Orphan"})
    assert kept.body["metadata"]["finalizers"] == ["orphan"] and kept.body["metadata"]["deletionTimestamp"]
    held = await client.delete(f"{DS}/held", {"propagationPolicy": "Background"})
    assert held.body["metadata"]["finalizers"] == ["example.com/hold"]
    stored = await client.get(f"{DS}/held")
    assert stored.body["metadata"]["finalizers"] == ["example.com/hold"]
    assert stored.body["metadata"]["deletionGracePeriodSeconds"] == 0
