"""pods/binding, pods/eviction (with and without PDBs), scale, admission and the non-resource endpoints."""

from __future__ import annotations

from typing import Any

from conftest import Client, pod

PODS = "/api/v1/namespaces/default/pods"
PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"


def _binding(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name},
        "target": {"kind": "Node", "name": node},
    }


def _eviction(name: str, **opts: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    if opts:
        body["deleteOptions"] = opts
    return body


async def test_binding(client: Client) -> None:
    await client.post(PODS, pod("p"))
    bound = await client.post(f"{PODS}/p/binding", _binding("p", "n1"))
    assert bound.status == 201
    assert bound.body["status"] == "Success"
    got = (await client.get(f"{PODS}/p")).body
    assert got["spec"]["nodeName"] == "n1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= got["status"]["conditions"][0].items()
    again = await client.post(f"{PODS}/p/binding", _binding("p", "n2"))
    assert again.status == 409
    assert again.body["message"] == (
        'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"'
    )
    mismatch = await client.post(f"{PODS}/p/binding", _binding("q", "n2"))
    assert (mismatch.status, mismatch.body["message"]) == (
        400,
        "name in URL does not match name in Binding object",
    )
    missing = await client.post(f"{PODS}/nosuch/binding", _binding("nosuch", "n1"))
    assert missing.status == 404


async def _running_pod(client: Client, name: str, labels: dict[str, str]) -> None:
    created = (await client.post(PODS, pod(name, node="n1", labels=labels))).body
    created["status"]["phase"] = "Running"
    resp = await client.put(f"{PODS}/{name}/status", created)
    assert resp.status == 200


async def test_eviction_without_pdb(client: Client) -> None:
    await _running_pod(client, "p", {"app": "web"})
    resp = await client.post(f"{PODS}/p/eviction", _eviction("p", gracePeriodSeconds=0))
    assert resp.status == 201 and resp.body["status"] == "Success"
    assert (await client.get(f"{PODS}/p")).status == 404
    gone = await client.post(f"{PODS}/p/eviction", _eviction("p"))
    assert gone.status == 404
    await _running_pod(client, "q", {"app": "web"})
    graceful = await client.post(f"{PODS}/q/eviction", _eviction("q"))
    assert graceful.status == 201
    assert (await client.get(f"{PODS}/q")).body["metadata"]["deletionGracePeriodSeconds"] == 30
    wrong = await client.post(f"{PODS}/q/eviction", _eviction("other"))
    assert (wrong.status, wrong.body["message"]) == (
        400,
        "name in URL does not match name in Eviction object",
    )


async def _pdb(client: Client, *, allowed: int, desired: int = 2, current: int = 2) -> None:
    body = {
        "metadata": {"name": "web-pdb"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    created = (await client.post(PDBS, body)).body
    created["status"] = {
        "disruptionsAllowed": allowed,
        "currentHealthy": current,
        "desiredHealthy": desired,
        "expectedPods": 2,
        "observedGeneration": 1,
    }
    resp = await client.put(f"{PDBS}/web-pdb/status", created)
    assert resp.status == 200, resp.body


async def test_eviction_blocked_by_pdb(client: Client) -> None:
    await _running_pod(client, "p", {"app": "web"})
    await _pdb(client, allowed=0, desired=2, current=1)
    resp = await client.post(f"{PODS}/p/eviction", _eviction("p"))
    assert resp.status == 429
    assert resp.body["reason"] == "TooManyRequests"
    assert resp.body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert resp.body["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web-pdb needs 2 healthy pods and has 1 currently",
        }
    ]
    assert "retry-after" not in resp.headers
    assert (await client.get(f"{PODS}/p")).status == 200


async def test_eviction_allowed_by_pdb_decrements_budget(client: Client, clock: Any) -> None:
    await _running_pod(client, "p", {"app": "web"})
    await _running_pod(client, "other", {"app": "db"})
    await _pdb(client, allowed=1)
    resp = await client.post(f"{PODS}/p/eviction", _eviction("p", gracePeriodSeconds=0))
    assert resp.status == 201
    status = (await client.get(f"{PDBS}/web-pdb")).body["status"]
    assert status["disruptionsAllowed"] == 0
    assert status["disruptedPods"] == {"p": "2026-01-01T00:00:00Z"}
    # a pod the budget does not select is not limited by it
    other = await client.post(f"{PODS}/other/eviction", _eviction("other", gracePeriodSeconds=0))
    assert other.status == 201


async def test_pending_pod_ignores_pdb(client: Client) -> None:
    await client.post(PODS, pod("p", labels={"app": "web"}))
    await _pdb(client, allowed=0)
    resp = await client.post(f"{PODS}/p/eviction", _eviction("p"))
    assert resp.status == 201


async def test_scale(client: Client) -> None:
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    path = "/apis/apps/v1/namespaces/default/deployments/web"
    assert (await client.post("/apis/apps/v1/namespaces/default/deployments", deploy)).status == 201
    scale = await client.get(f"{path}/scale")
    assert scale.body["kind"] == "Scale" and scale.body["apiVersion"] == "autoscaling/v1"
    assert scale.body["spec"] == {"replicas": 2}
    assert scale.body["status"]["selector"] == "app=web"
    scale.body["spec"]["replicas"] = 5
    put = await client.put(f"{path}/scale", scale.body)
    assert put.body["spec"]["replicas"] == 5
    patched = await client.patch(
        f"{path}/scale", {"spec": {"replicas": 1}}, content_type="application/merge-patch+json"
    )
    assert patched.body["spec"]["replicas"] == 1
    deployment = (await client.get(path)).body
    assert deployment["spec"]["replicas"] == 1
    assert deployment["metadata"]["generation"] == 3


async def test_priority_and_toleration_admission(client: Client) -> None:
    critical = pod("crit", priorityClassName="system-node-critical")
    created = (await client.post(PODS, critical)).body
    assert created["spec"]["priority"] == 2000001000
    assert created["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    tolerations = created["spec"]["tolerations"]
    assert {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    } in tolerations
    assert {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    } in tolerations
    plain = (await client.post(PODS, pod("plain"))).body
    assert plain["spec"]["priority"] == 0
    tolerant = (await client.post(PODS, pod("tolerant", tolerations=[{"operator": "Exists"}]))).body
    assert tolerant["spec"]["tolerations"] == [{"operator": "Exists"}]
    unknown = await client.post(PODS, pod("u", priorityClassName="gold"))
    assert (unknown.status, unknown.body["reason"]) == (403, "Forbidden")
    assert unknown.body["message"] == 'pods "u" is forbidden: no PriorityClass with name gold was found'
    classes = await client.get("/apis/scheduling.k8s.io/v1/priorityclasses")
    assert [c["metadata"]["name"] for c in classes.body["items"]] == [
        "system-cluster-critical",
        "system-node-critical",
    ]


async def test_non_resource_endpoints(client: Client) -> None:
    version = await client.get("/version")
    assert version.status == 200 and version.body["gitVersion"].startswith("v1.")
    for path in ("/healthz", "/livez", "/readyz"):
        resp = await client.get(path)
        assert (resp.status, resp.body) == (200, "ok")
    aggregated = await client.get(
        "/apis",
        accept="application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    )
    assert "as=APIGroupDiscoveryList" in aggregated.headers["content-type"]
    legacy = await client.get("/apis")
    assert legacy.body["kind"] == "APIGroupList"
    core = await client.get("/api")
    assert core.body["kind"] == "APIVersions"
    v1 = await client.get("/api/v1")
    assert any(r["name"] == "pods/eviction" for r in v1.body["resources"])
    group = await client.get("/apis/apps")
    assert group.body["kind"] == "APIGroup" and group.body["name"] == "apps"
    assert (await client.get("/apis/nosuch/v1")).status == 404
    root = await client.get("/openapi/v3")
    url = root.body["paths"]["apis/apps/v1"]["serverRelativeURL"]
    doc = await client.get(url.split("?")[0])
    assert doc.status == 200 and doc.body["openapi"].startswith("3.")
    v2 = await client.get("/openapi/v2")
    assert v2.headers["content-type"] == "application/octet-stream"
    assert (await client.get("/nothing/here")).status == 404


async def test_metrics(client: Client) -> None:
    await client.get(f"{PODS}/nosuch")
    await client.get(PODS)
    text = (await client.get("/metrics")).body
    assert 'apiserver_request_total{code="404",resource="pods",verb="GET"} 1' in text
    assert 'apiserver_request_total{code="200",resource="pods",verb="LIST"} 1' in text
    assert 'apiserver_request_duration_seconds_count{resource="pods",verb="LIST"} 1' in text
    assert 'apiserver_current_inflight_requests{request_kind="readOnly"} 1' in text
    assert 'apiserver_storage_objects{resource="namespaces"} 4' in text
