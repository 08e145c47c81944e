"""Defaulting: the seed's kube-proxy DaemonSet and the other kinds.

Expected values are written down from upstream's defaulters: pkg/apis/apps/v1/defaults.go
(SetDefaults_DaemonSet/Deployment/ReplicaSet), pkg/apis/core/v1/defaults.go (SetDefaults_PodSpec,
SetDefaults_Pod, SetDefaults_Container, SetDefaults_ContainerPort, SetDefaults_Probe,
SetDefaults_ObjectFieldSelector, volume sources, SetDefaults_Namespace/NamespaceStatus/NodeStatus),
pkg/apis/scheduling/v1/defaults.go; the image-pull-policy table follows TestSetDefaultsImagePullPolicy.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeds.apiserver.defaults import apply_defaults, image_pull_policy

FIXTURE = Path("/work/shared/fixtures/kube-proxy-daemonset.yaml")


def _stripped_kube_proxy() -> dict[str, Any]:
    """The seed manifest with every field upstream would have defaulted removed (what a user writes)."""
    ds: dict[str, Any] = yaml.safe_load(FIXTURE.read_text())
    spec = ds["spec"]
    del spec["revisionHistoryLimit"], spec["updateStrategy"]
    del spec["template"]["metadata"]["creationTimestamp"]
    pod = spec["template"]["spec"]
    for key in (
        "dnsPolicy",
        "restartPolicy",
        "schedulerName",
        "securityContext",
        "terminationGracePeriodSeconds",
    ):
        del pod[key]
    container = pod["containers"][0]
    for key in ("imagePullPolicy", "resources", "terminationMessagePath", "terminationMessagePolicy"):
        del container[key]
    del container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"]
    del pod["volumes"][0]["configMap"]["defaultMode"]
    del pod["volumes"][2]["hostPath"]["type"]
    return ds


@pytest.mark.skipif(not FIXTURE.exists(), reason="seed fixture not present")
def test_kube_proxy_defaults_match_what_upstream_stores() -> None:
    ds = _stripped_kube_proxy()
    apply_defaults("DaemonSet", ds)
    spec = ds["spec"]
    assert spec["revisionHistoryLimit"] == 10
    assert spec["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert spec["template"]["metadata"] == {"creationTimestamp": None, "labels": {"k8s-app": "kube-proxy"}}
    pod = spec["template"]["spec"]
    assert pod["dnsPolicy"] == "ClusterFirst"
    assert pod["restartPolicy"] == "Always"
    assert pod["schedulerName"] == "default-scheduler"
    assert pod["securityContext"] == {}
    assert pod["terminationGracePeriodSeconds"] == 30
    assert "enableServiceLinks" not in pod  # SetDefaults_Pod applies to pods, not templates
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"  # tagged v1.17.0
    assert container["resources"] == {}
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["env"][0]["valueFrom"]["fieldRef"] == {"apiVersion": "v1", "fieldPath": "spec.nodeName"}
    assert pod["volumes"][0]["configMap"] == {"defaultMode": 420, "name": "kube-proxy"}
    assert pod["volumes"][1]["hostPath"] == {"path": "/run/xtables.lock", "type": "FileOrCreate"}
    assert pod["volumes"][2]["hostPath"] == {"path": "/lib/modules", "type": ""}
    assert ds["status"] == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }
    # Everything else equals the seed, which is what `kubectl get -o yaml` printed from a real cluster.
    seed = yaml.safe_load(FIXTURE.read_text())
    seed["spec"]["updateStrategy"]["rollingUpdate"]["maxSurge"] = 0
    del ds["status"]
    assert ds == seed


def test_defaulting_is_idempotent() -> None:
    ds = _stripped_kube_proxy() if FIXTURE.exists() else {"spec": {}}
    apply_defaults("DaemonSet", ds)
    again = copy.deepcopy(ds)
    apply_defaults("DaemonSet", again)
    assert again == ds


def test_on_delete_strategy_gets_no_rolling_update() -> None:
    ds: dict[str, Any] = {
        "spec": {"updateStrategy": {"type": "OnDelete"}, "template": {"spec": {"containers": []}}}
    }
    apply_defaults("DaemonSet", ds)
    assert ds["spec"]["updateStrategy"] == {"type": "OnDelete"}


# TestSetDefaultsImagePullPolicy / parsers.ParseImageName.
@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("registry.local:5000/app", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.local:5000/app:v1", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_pod_defaults() -> None:
    pod: dict[str, Any] = {
        "spec": {
            "hostNetwork": True,
            "priority": 7,
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "ports": [{"containerPort": 8080}],
                    "resources": {"limits": {"cpu": "1"}},
                    "livenessProbe": {"httpGet": {"port": 8080}},
                }
            ],
            "volumes": [{"name": "scratch"}, {"name": "s", "secret": {"secretName": "x"}}],
        }
    }
    apply_defaults("Pod", pod)
    spec = pod["spec"]
    assert spec["enableServiceLinks"] is True
    assert spec["preemptionPolicy"] == "PreemptLowerPriority"
    container = spec["containers"][0]
    assert container["imagePullPolicy"] == "Always"
    assert container["ports"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}]
    assert container["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}
    assert container["livenessProbe"] == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert spec["volumes"] == [
        {"name": "scratch", "emptyDir": {}},
        {"name": "s", "secret": {"secretName": "x", "defaultMode": 420}},
    ]


def test_deployment_and_replicaset_defaults() -> None:
    deployment: dict[str, Any] = {"spec": {"template": {"spec": {"containers": []}}}}
    apply_defaults("Deployment", deployment)
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    rs: dict[str, Any] = {"spec": {"template": {}}}
    apply_defaults("ReplicaSet", rs)
    assert rs["spec"]["replicas"] == 1
    assert rs["status"] == {"replicas": 0}


def test_cluster_kind_defaults() -> None:
    ns: dict[str, Any] = {"metadata": {"name": "team-a"}}
    apply_defaults("Namespace", ns)
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    node: dict[str, Any] = {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "pods": "110"}}}
    apply_defaults("Node", node)
    assert node["status"]["allocatable"] == {"cpu": "4", "pods": "110"}
    assert node["status"]["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}
    pc: dict[str, Any] = {"metadata": {"name": "x"}, "value": 5}
    apply_defaults("PriorityClass", pc)
    assert pc["preemptionPolicy"] == "PreemptLowerPriority"
    pdb: dict[str, Any] = {"spec": {"minAvailable": 1}}
    apply_defaults("PodDisruptionBudget", pdb)
    assert pdb["status"] == {
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "disruptionsAllowed": 0,
        "expectedPods": 0,
    }
    cm: dict[str, Any] = {"data": {"a": "b"}}
    apply_defaults("ConfigMap", cm)
    assert cm == {"data": {"a": "b"}}
