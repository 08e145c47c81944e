"""An in-process plane exercised end to end, for the shared-watch-event checks.

5 simulated nodes (memory storage, fast profile, short node grace period); a DaemonSet rolled out and
rolling-updated, a Deployment, a node failed (heartbeats stop: NotReady, then tainted), another
cordoned and drained through the eviction subresource, the DaemonSet deleted. Every component
(controller manager, scheduler, node simulator) watches through the in-process transport, so each
watch event's decode is shared by all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from kubeds.bench import daemonset as bench_ds
from kubeds.client import api as api_mod, errors
from kubeds.plane import Plane, PlaneConfig

NODES = 5
NAMESPACE = bench_ds.NAMESPACE
DEPLOYMENT = "web"
FAILED_ANNOTATION = "kubeds.io/failed"  # kubeds.nodes.annotations.FAILED_ANNOTATION
UNREACHABLE = "node.kubernetes.io/unreachable"
STEP_TIMEOUT = 60.0
POLL = 0.05


async def _until(what: str, probe: Callable[[], Awaitable[bool]]) -> None:
    async def loop() -> None:
        while not await probe():
            await asyncio.sleep(POLL)

    try:
        await asyncio.wait_for(loop(), STEP_TIMEOUT)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def _deployment() -> dict[str, Any]:
    labels = {"app": DEPLOYMENT}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": "web", "image": "nginx:1.25"}],
                    "terminationGracePeriodSeconds": 0,
                },
            },
        },
    }


async def _status(rc: api_mod.ResourceClient, name: str) -> dict[str, Any]:
    return (await rc.get(name, namespace=NAMESPACE)).get("status") or {}


async def _drain(api: api_mod.ApiClient, node: str) -> None:
    """``kubectl drain --ignore-daemonsets``: cordon, then evict every pod but the DaemonSet's."""
    await api.resource("v1", "nodes").patch(node, {"spec": {"unschedulable": True}})
    pods = api.resource("v1", "pods")
    listed = await pods.list(namespace=NAMESPACE, field_selector=f"spec.nodeName={node}")
    for pod in listed.get("items") or []:
        owners = pod["metadata"].get("ownerReferences") or []
        if any(o.get("kind") == "DaemonSet" for o in owners):
            continue
        eviction = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod["metadata"]["name"], "namespace": NAMESPACE},
        }
        try:
            await pods.create_subresource(pod["metadata"]["name"], "eviction", eviction, namespace=NAMESPACE)
        except errors.NotFound:
            pass


async def run_scenario(root: Path) -> None:
    plane = Plane(
        PlaneConfig(
            data_dir=root / "plane",
            port=0,
            storage="memory",
            nodes=NODES,
            node_profile="fast",
            node_monitor_grace_period=2.0,
        )
    )
    await plane.start()
    try:
        names = await plane.create_initial_nodes()
        await plane.wait_nodes_ready(names)
        api = plane.client("scenario")
        daemonsets = api.resource("apps/v1", "daemonsets")
        deployments = api.resource("apps/v1", "deployments")
        nodes = api.resource("v1", "nodes")

        await daemonsets.create(bench_ds.daemonset_body(), namespace=NAMESPACE)
        await deployments.create(_deployment(), namespace=NAMESPACE)

        async def rolled_out() -> bool:
            return (await _status(daemonsets, bench_ds.NAME)).get("numberReady") == NODES

        await _until("the DaemonSet rollout", rolled_out)

        patched = await daemonsets.patch(
            bench_ds.NAME,
            {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": bench_ds.IMAGE_V2}]}}}},
            namespace=NAMESPACE,
            patch_type="strategic",
        )
        generation = patched["metadata"]["generation"]

        async def updated() -> bool:
            st = await _status(daemonsets, bench_ds.NAME)
            return (
                st.get("observedGeneration", 0) >= generation
                and st.get("updatedNumberScheduled") == NODES
                and st.get("numberAvailable") == NODES
            )

        await _until("the DaemonSet rolling update", updated)

        async def web_available() -> bool:
            return (await _status(deployments, DEPLOYMENT)).get("availableReplicas") == 2

        await _until("the Deployment", web_available)

        pods = api.resource("v1", "pods")
        web_pods = await pods.list(namespace=NAMESPACE, label_selector=f"app={DEPLOYMENT}")
        web_nodes = [str(p["spec"].get("nodeName") or "") for p in web_pods["items"]]
        # Fail a node without a web pod (its pods would only be evicted after 300 s), drain one with.
        failed = next(name for name in reversed(names) if name not in web_nodes)
        drained = web_nodes[0]
        await nodes.patch(failed, {"metadata": {"annotations": {FAILED_ANNOTATION: "true"}}})

        async def tainted() -> bool:
            node = await nodes.get(failed)
            return any(t.get("key") == UNREACHABLE for t in node["spec"].get("taints") or [])

        await _until(f"the {UNREACHABLE} taint on {failed}", tainted)

        await _drain(api, drained)

        async def web_moved() -> bool:
            listed = await pods.list(namespace=NAMESPACE, label_selector=f"app={DEPLOYMENT}")
            live = [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]
            return not any(p["spec"].get("nodeName") == drained for p in live) and await web_available()

        try:
            await _until(f"the Deployment's pods to leave {drained}", web_moved)
        except AssertionError as exc:
            listed = await pods.list(namespace=NAMESPACE)
            state = [
                (
                    p["metadata"]["name"],
                    p["spec"].get("nodeName"),
                    p["status"].get("phase"),
                    p["metadata"].get("deletionTimestamp"),
                )
                for p in listed["items"]
            ]
            raise AssertionError(
                f"{exc}: pods {state}, deployment {await _status(deployments, DEPLOYMENT)}"
            ) from None

        await daemonsets.delete(bench_ds.NAME, namespace=NAMESPACE, propagation_policy="Background")

        async def ds_pods_gone() -> bool:
            # The failed node's kubelet never confirms a deletion: its pod stays terminating.
            listed = await pods.list(namespace=NAMESPACE, label_selector=f"app={bench_ds.NAME}")
            return all(
                p["spec"].get("nodeName") == failed and p["metadata"].get("deletionTimestamp")
                for p in listed["items"]
            )

        await _until("the DaemonSet's pods to be deleted", ds_pods_gone)
    finally:
        await plane.stop()
