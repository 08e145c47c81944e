"""The official Kubernetes Python client lists, watches, creates, patches and deletes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.e2e.conftest import RunningPlane


@pytest.fixture
def api(plane: RunningPlane) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(config_file=str(plane.kubeconfig))
    yield c
    c.close()


@pytest.fixture
def ns(api: client.ApiClient) -> str:
    name = f"py-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def daemonset(name: str, image: str = "registry.k8s.io/pause:3.9") -> client.V1DaemonSet:
    labels = {"app": name}
    return client.V1DaemonSet(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DaemonSetSpec(
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="main", image=image)]),
            ),
        ),
    )


def test_version_and_list_namespaces(api: client.ApiClient) -> None:
    info = client.VersionApi(api).get_code()
    assert info.git_version == "v1.32.0"
    names = {n.metadata.name for n in client.CoreV1Api(api).list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


def test_create_get_patch_delete_daemonset(api: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api)
    created = apps.create_namespaced_daemon_set(ns, daemonset("agent"))
    assert created.metadata.uid and created.metadata.generation == 1
    assert created.spec.update_strategy.type == "RollingUpdate"  # defaulted by the server
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    got = apps.read_namespaced_daemon_set("agent", ns)
    assert got.metadata.uid == created.metadata.uid  # (the controller may have written its status since)
    assert int(got.metadata.resource_version) >= int(created.metadata.resource_version)
    patched = apps.patch_namespaced_daemon_set(
        "agent",
        ns,
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox:1"}]}}}},
    )
    assert patched.spec.template.spec.containers[0].image == "busybox:1"
    assert patched.metadata.generation == 2
    listed = apps.list_namespaced_daemon_set(ns, label_selector="app=agent")
    assert [d.metadata.name for d in listed.items] == ["agent"]
    apps.delete_namespaced_daemon_set("agent", ns)
    with pytest.raises(ApiException) as info:
        apps.read_namespaced_daemon_set("agent", ns)
    assert info.value.status == 404


def test_conflict_on_stale_resource_version(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    cm = core.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"), data={"a": "1"})
    )
    stale = cm.metadata.resource_version
    cm.data = {"a": "2"}
    core.replace_namespaced_config_map("c", ns, cm)
    cm.data = {"a": "3"}
    cm.metadata.resource_version = stale
    with pytest.raises(ApiException) as info:
        core.replace_namespaced_config_map("c", ns, cm)
    assert info.value.status == 409
    assert "the object has been modified; please apply your changes to the latest version" in info.value.body
    assert core.read_namespaced_config_map("c", ns).data == {"a": "2"}


def test_watch_helper_sees_added_modified_deleted(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    start = core.list_namespaced_config_map(ns).metadata.resource_version
    seen: list[tuple[str, str]] = []
    w = watch.Watch()
    done = threading.Event()

    def run() -> None:
        for event in w.stream(
            core.list_namespaced_config_map, ns, resource_version=start, timeout_seconds=10
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                w.stop()
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    core.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w"), data={"x": "1"})
    )
    core.patch_namespaced_config_map("w", ns, {"data": {"x": "2"}})
    core.delete_namespaced_config_map("w", ns)
    assert done.wait(15), f"watch did not finish; saw {seen}"
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]
