"""Pods on simulated nodes, end to end through the in-process API server on a fake clock: the
kubelet's status progression (pkg/kubelet/kubelet_pods.go generateAPIPodStatus), image pull
failures (pkg/kubelet/images), graceful deletion (pkg/kubelet/status/status_manager.go deletes with
grace 0 once the containers are gone), static/mirror pods (pkg/kubelet/pod/mirror_client.go)."""

from __future__ import annotations

import json

import pytest
from nodes_simfixtures import Env, bare_node, condition, environment, pod_on, settle

from kubeds.client import errors
from kubeds.nodes import annotations as knobs, staticpods, templates


async def _ready_node(env: Env, name: str = "n1", **kw: str) -> None:
    await env.res("nodes").create(bare_node(name, **kw))


async def test_fast_pod_goes_running_and_ready_at_once() -> None:
    async with environment() as env:
        await _ready_node(env)
        await env.start(profile="fast")
        await env.res("pods").create(pod_on("web", "n1"))
        await settle(300)
        pod = await env.pod("web")
        assert pod["status"]["phase"] == "Running"
        assert condition(pod, "Ready") == "True"
        assert condition(pod, "ContainersReady") == "True"
        node = await env.node("n1")
        assert pod["status"]["hostIP"] == templates.node_internal_ip(node)
        assert pod["status"]["podIP"].startswith("10.")
        (cs,) = pod["status"]["containerStatuses"]
        assert cs["ready"] and "running" in cs["state"] and cs["containerID"].startswith("containerd://")
        await env.sims[0].recorder.flush()
        reasons = [e["reason"] for e in (await env.res("events").list(namespace="default"))["items"]]
        assert reasons == ["Pulling", "Started"]


async def test_realistic_pod_takes_seconds() -> None:
    async with environment() as env:
        await _ready_node(env)
        await env.start(profile="realistic")
        await env.res("pods").create(pod_on("web", "n1"))
        await settle(200)
        assert (await env.pod("web"))["status"].get("startTime") is None  # nothing before 0.5 s
        await env.advance(2.5, step=0.25)
        pod = await env.pod("web")
        assert pod["status"]["phase"] == "Pending"
        assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
        await env.advance(6, step=0.25)
        pod = await env.pod("web")
        assert pod["status"]["phase"] == "Running" and condition(pod, "Ready") == "True"


@pytest.mark.parametrize("profile", ["fast", "realistic"])
async def test_non_existent_image_errs_then_backs_off_and_is_never_ready(profile: str) -> None:
    async with environment() as env:
        await _ready_node(env)
        await env.start(profile=profile)
        await env.res("pods").create(pod_on("broken", "n1", image="nginx:non-existent"))
        seen: list[str] = []
        for _ in range(40):
            await env.advance(1, step=0.25)
            pod = await env.pod("broken")
            waiting = ((pod["status"].get("containerStatuses") or [{}])[0].get("state") or {}).get("waiting")
            if waiting and (not seen or seen[-1] != waiting["reason"]):
                seen.append(waiting["reason"])
            assert condition(pod, "Ready") in (None, "False")
        # The fast profile moves through ErrImagePull within one step: the events keep the order.
        assert seen[-1] == "ImagePullBackOff"
        assert "ErrImagePull" in seen or profile == "fast"
        await env.sims[0].recorder.flush()
        listed = (await env.res("events").list(namespace="default"))["items"]
        reasons = [e["reason"] for e in sorted(listed, key=lambda e: e["metadata"]["creationTimestamp"])]
        assert reasons == ["Pulling", "Failed", "BackOff"]
        failed = next(e for e in listed if e["reason"] == "Failed")
        assert failed["type"] == "Warning" and failed["source"] == {"component": "kubelet", "host": "n1"}
        assert 'Failed to pull image "nginx:non-existent"' in failed["message"]
        assert pod["status"]["phase"] == "Pending"


async def test_host_network_pod_gets_the_node_ip() -> None:
    async with environment() as env:
        await _ready_node(env)
        await env.start()
        await env.res("pods").create(pod_on("proxy", "n1", hostNetwork=True))
        await env.res("pods").create(pod_on("web", "n1"))
        await settle(300)
        node_ip = templates.node_internal_ip(await env.node("n1"))
        assert (await env.pod("proxy"))["status"]["podIP"] == node_ip
        assert (await env.pod("web"))["status"]["podIP"] != node_ip


async def test_pod_on_an_unknown_node_does_not_move() -> None:
    async with environment() as env:
        await env.start()
        await env.res("pods").create(pod_on("lost", "nowhere"))
        await env.advance(5)
        assert (await env.pod("lost"))["status"]["phase"] == "Pending"
        assert "startTime" not in (await env.pod("lost"))["status"]


async def test_graceful_deletion_waits_for_the_grace_period_in_the_realistic_profile() -> None:
    async with environment() as env:
        await _ready_node(env)
        await env.start(profile="realistic")
        await env.res("pods").create(pod_on("web", "n1", terminationGracePeriodSeconds=20))
        await env.advance(10, step=0.5)
        await env.res("pods").delete("web", namespace="default")
        await env.advance(19, step=0.5)
        assert (await env.pod("web"))["metadata"]["deletionTimestamp"]  # still there, terminating
        await env.advance(3, step=0.5)
        with pytest.raises(errors.NotFound):
            await env.pod("web")


async def test_fast_profile_confirms_a_deletion_at_once() -> None:
    """fast: containers stop on SIGTERM at once, so the kubelet confirms without waiting the grace."""
    async with environment() as env:
        await _ready_node(env)
        await env.start(profile="fast")
        await env.res("pods").create(pod_on("web", "n1", terminationGracePeriodSeconds=20))
        await env.advance(1, step=0.5)
        await env.res("pods").delete("web", namespace="default")
        await env.advance(1, step=0.5)
        with pytest.raises(errors.NotFound):
            await env.pod("web")


async def test_pods_on_a_failed_node_do_not_progress_and_resume_on_recovery() -> None:
    async with environment() as env:
        await _ready_node(env, **{knobs.FAILED_ANNOTATION: "true"})
        await env.start()
        await env.res("pods").create(pod_on("web", "n1"))
        await env.advance(5)
        assert "startTime" not in (await env.pod("web"))["status"]
        await env.res("nodes").patch("n1", {"metadata": {"annotations": {knobs.FAILED_ANNOTATION: None}}})
        await settle(300)
        assert (await env.pod("web"))["status"]["phase"] == "Running"


def _manifest(name: str = "etcd", namespace: str = "kube-system") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"component": name}},
        "spec": {"containers": [{"name": name, "image": "registry.k8s.io/etcd:3.5.15-0"}]},
    }


async def test_static_pods_get_mirror_pods_that_come_back_when_deleted() -> None:
    async with environment() as env:
        value = knobs.encode_static_pods([_manifest()])
        await _ready_node(env, **{knobs.STATIC_PODS_ANNOTATION: value})
        await env.start()
        await settle(300)
        mirror = await env.pod("etcd-n1", "kube-system")
        node = await env.node("n1")
        notes = mirror["metadata"]["annotations"]
        assert notes[staticpods.CONFIG_SOURCE_ANNOTATION] == "file"
        assert notes[staticpods.CONFIG_MIRROR_ANNOTATION] == notes[staticpods.CONFIG_HASH_ANNOTATION]
        assert len(notes[staticpods.CONFIG_HASH_ANNOTATION]) == 32
        (owner,) = mirror["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
            "Node",
            "n1",
            node["metadata"]["uid"],
            True,
        )
        assert mirror["spec"]["nodeName"] == "n1"
        assert mirror["status"]["phase"] == "Running"

        await env.res("pods").delete("etcd-n1", namespace="kube-system", grace_period_seconds=0)
        await settle(300)
        again = await env.pod("etcd-n1", "kube-system")
        assert again["metadata"]["uid"] != mirror["metadata"]["uid"]

        # A changed manifest replaces the mirror pod; a removed one deletes it.
        changed = _manifest()
        changed["spec"] = {"containers": [{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.16-0"}]}
        value = knobs.encode_static_pods([changed])
        await env.res("nodes").patch(
            "n1", {"metadata": {"annotations": {knobs.STATIC_PODS_ANNOTATION: value}}}
        )
        await settle(400)
        replaced = await env.pod("etcd-n1", "kube-system")
        assert replaced["spec"]["containers"][0]["image"].endswith("3.5.16-0")
        await env.res("nodes").patch(
            "n1", {"metadata": {"annotations": {knobs.STATIC_PODS_ANNOTATION: json.dumps([])}}}
        )
        await settle(300)
        with pytest.raises(errors.NotFound):
            await env.pod("etcd-n1", "kube-system")
