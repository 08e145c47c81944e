"""The real kubectl (1.27 and 1.33) drives the API server as it drives Kubernetes.

Each test runs in its own namespace (or on its own Node), against one ``kubeds up`` process.
Expected texts are kubectl's and upstream's words (see shared/docs/kubectl-wire.md §5).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import yaml

from tests.e2e.conftest import Kubectl

SEED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "kube-proxy-daemonset.yaml"
if not SEED.exists():  # the repo may be checked out elsewhere; fall back to the copy in tests/
    SEED = Path(__file__).resolve().parents[1] / "fixtures" / "kube-proxy-daemonset.yaml"


def seed_manifest(namespace: str, image: str | None = None) -> str:
    doc = yaml.safe_load(SEED.read_text())
    doc["metadata"]["namespace"] = namespace
    if image:
        doc["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return yaml.safe_dump(doc)


def node_manifest(name: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/os": "linux"}},
        }
    )


def header(out: str) -> list[str]:
    return out.splitlines()[0].split()


def test_version_reports_the_server(kubectl: Kubectl) -> None:
    out = kubectl.ok("version")
    assert "v1.32.0" in out  # 1.33: "Server Version: v1.32.0"; 1.27 prints a version.Info struct


def test_api_resources_lists_served_kinds(kubectl: Kubectl) -> None:
    out = kubectl.ok("api-resources")
    assert header(out) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["daemonsets"] == ["daemonsets", "ds", "apps/v1", "true", "DaemonSet"]
    assert rows["nodes"] == ["nodes", "no", "v1", "false", "Node"]
    assert rows["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert rows["leases"][-1] == "Lease" and rows["poddisruptionbudgets"][1] == "pdb"
    assert "pods/eviction" not in out  # subresources are not listed


def test_apply_create_then_change_image(kubectl: Kubectl, namespace: str) -> None:
    out = kubectl.ok("apply", "-f", "-", input=seed_manifest(namespace))
    assert out.strip() == "daemonset.apps/kube-proxy created"
    out = kubectl.ok("apply", "-f", "-", input=seed_manifest(namespace))
    assert out.strip() == "daemonset.apps/kube-proxy unchanged"
    out = kubectl.ok(
        "apply", "-f", "-", input=seed_manifest(namespace, image="registry.k8s.io/kube-proxy:v1.32.0")
    )
    assert out.strip() == "daemonset.apps/kube-proxy configured"
    ds = json.loads(kubectl.ok("get", "ds", "kube-proxy", "-n", namespace, "-o", "json"))
    assert ds["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/kube-proxy:v1.32.0"
    assert ds["metadata"]["generation"] == 2
    assert ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1
    assert "kubectl.kubernetes.io/last-applied-configuration" in ds["metadata"]["annotations"]


def test_apply_server_side_create_update_and_conflict(kubectl: Kubectl, namespace: str) -> None:
    out = kubectl.ok("apply", "--server-side", "-f", "-", input=seed_manifest(namespace))
    assert out.strip() == "daemonset.apps/kube-proxy serverside-applied"
    out = kubectl.ok(
        "apply",
        "--server-side",
        "-f",
        "-",
        input=seed_manifest(namespace, image="registry.k8s.io/kube-proxy:v2"),
    )
    assert out.strip() == "daemonset.apps/kube-proxy serverside-applied"
    ds = json.loads(
        kubectl.ok("get", "ds", "kube-proxy", "-n", namespace, "-o", "json", "--show-managed-fields")
    )
    assert ds["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/kube-proxy:v2"
    managers = {m["manager"]: m["operation"] for m in ds["metadata"]["managedFields"]}
    assert managers.get("kubectl") == "Apply"
    # Another manager takes the image; a server-side apply of a different one conflicts.
    kubectl.ok("set", "image", "ds/kube-proxy", "-n", namespace, "kube-proxy=registry.k8s.io/kube-proxy:v3")
    err = kubectl.fails(
        "apply",
        "--server-side",
        "-f",
        "-",
        input=seed_manifest(namespace, image="registry.k8s.io/kube-proxy:v4"),
    )
    assert (
        "Apply failed with 1 conflict" in err
        and '.spec.template.spec.containers[name="kube-proxy"].image' in err
    )
    out = kubectl.ok(
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        "-",
        input=seed_manifest(namespace, image="registry.k8s.io/kube-proxy:v4"),
    )
    assert "serverside-applied" in out


def test_create_then_already_exists(kubectl: Kubectl, namespace: str) -> None:
    manifest = seed_manifest(namespace)
    assert kubectl.ok("create", "-f", "-", input=manifest).strip() == "daemonset.apps/kube-proxy created"
    err = kubectl.fails("create", "-f", "-", input=manifest)
    assert "Error from server (AlreadyExists)" in err
    assert 'daemonsets.apps "kube-proxy" already exists' in err


def test_get_tables_and_output_formats(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("apply", "-f", "-", input=seed_manifest(namespace))
    out = kubectl.ok("get", "ds", "-n", namespace)
    assert header(out) == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE",
        "SELECTOR",
        "AGE",
    ]
    assert out.splitlines()[1].split()[:7] == [
        "kube-proxy",
        "0",
        "0",
        "0",
        "0",
        "0",
        "beta.kubernetes.io/os=linux",
    ]
    wide = kubectl.ok("get", "ds", "-n", namespace, "-o", "wide")
    assert header(wide)[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert "k8s-app=kube-proxy" in wide.splitlines()[1]
    all_ns = kubectl.ok("get", "ds", "-A")
    assert header(all_ns)[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [namespace, "kube-proxy"] for line in all_ns.splitlines())
    as_yaml = yaml.safe_load(kubectl.ok("get", "ds", "kube-proxy", "-n", namespace, "-o", "yaml"))
    assert as_yaml["kind"] == "DaemonSet" and as_yaml["metadata"]["uid"]
    as_list = json.loads(kubectl.ok("get", "ds", "-n", namespace, "-o", "json"))
    assert as_list["kind"] == "List" and len(as_list["items"]) == 1
    assert kubectl.ok("get", "ds", "-n", namespace, "-l", "k8s-app=kube-proxy", "-o", "name").strip() == (
        "daemonset.apps/kube-proxy"
    )
    assert kubectl.ok("get", "ds", "-n", namespace, "-l", "k8s-app in (nope)", "-o", "name").strip() == ""
    out = kubectl.ok(
        "get", "ds", "-n", namespace, "--field-selector", "metadata.name=kube-proxy", "-o", "name"
    )
    assert out.strip() == "daemonset.apps/kube-proxy"
    err = kubectl.run("get", "pods", "-n", namespace, check=False).stderr
    assert f"No resources found in {namespace} namespace." in err


def test_get_with_bad_field_selector_is_a_bad_request(kubectl: Kubectl, namespace: str) -> None:
    err = kubectl.fails("get", "ds", "-n", namespace, "--field-selector", "spec.foo=bar")
    assert "Error from server (BadRequest)" in err and "field label not supported: spec.foo" in err


def test_get_missing_object_is_not_found(kubectl: Kubectl, namespace: str) -> None:
    err = kubectl.fails("get", "ds", "nosuch", "-n", namespace)
    assert 'Error from server (NotFound): daemonsets.apps "nosuch" not found' in err


def test_get_watch_prints_changes(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("create", "configmap", "watched", "-n", namespace, "--from-literal=a=1")
    proc = kubectl.popen("get", "configmaps", "-n", namespace, "-w", "--output-watch-events")
    try:
        time.sleep(1.5)
        kubectl.ok("label", "configmap", "watched", "-n", namespace, "changed=yes")
        kubectl.ok("delete", "configmap", "watched", "-n", namespace)
        time.sleep(1.5)
    finally:
        proc.kill()
    out, _ = proc.communicate(timeout=10)
    events = [line.split()[0] for line in out.splitlines()[1:] if "watched" in line]
    assert events[:1] == ["ADDED"] and "MODIFIED" in events and events[-1] == "DELETED", out


def test_describe_daemonset_and_node(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("apply", "-f", "-", input=seed_manifest(namespace))
    out = kubectl.ok("describe", "ds", "kube-proxy", "-n", namespace)
    assert "Name:           kube-proxy" in out
    assert "Selector:       k8s-app=kube-proxy" in out
    assert "Node-Selector:  beta.kubernetes.io/os=linux" in out
    assert "Desired Number of Nodes Scheduled: 0" in out
    assert "Pods Status:  0 Running / 0 Waiting / 0 Succeeded / 0 Failed" in out
    node = f"describe-{uuid.uuid4().hex[:6]}"
    kubectl.ok("apply", "-f", "-", input=node_manifest(node))
    try:
        out = kubectl.ok("describe", "node", node)
        assert f"Name:               {node}" in out and "Taints:             <none>" in out
    finally:
        kubectl.ok("delete", "node", node)


def test_label_and_annotate(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("apply", "-f", "-", input=seed_manifest(namespace))
    assert kubectl.ok("label", "ds", "kube-proxy", "-n", namespace, "tier=node").strip() == (
        "daemonset.apps/kube-proxy labeled"
    )
    err = kubectl.fails("label", "ds", "kube-proxy", "-n", namespace, "tier=other")
    assert "'tier' already has a value (node), and --overwrite is false" in err
    assert kubectl.ok("label", "ds", "kube-proxy", "-n", namespace, "tier-").strip() == (
        "daemonset.apps/kube-proxy unlabeled"
    )
    # kubectl 1.27 prints "annotate", later versions "annotated" (kubectl's own text).
    out = kubectl.ok("annotate", "ds", "kube-proxy", "-n", namespace, "note=hi").strip()
    assert out == (
        "daemonset.apps/kube-proxy annotate"
        if kubectl.version == "1.27"
        else "daemonset.apps/kube-proxy annotated"
    )
    ds = json.loads(kubectl.ok("get", "ds", "kube-proxy", "-n", namespace, "-o", "json"))
    assert "tier" not in ds["metadata"]["labels"] and ds["metadata"]["annotations"]["note"] == "hi"
    assert ds["metadata"]["generation"] == 1  # metadata changes do not bump the generation


def test_taint_cordon_uncordon_node(kubectl: Kubectl) -> None:
    node = f"maint-{uuid.uuid4().hex[:6]}"
    kubectl.ok("apply", "-f", "-", input=node_manifest(node))
    try:
        assert (
            kubectl.ok("taint", "nodes", node, "dedicated=infra:NoSchedule").strip() == f"node/{node} tainted"
        )
        assert kubectl.ok("taint", "nodes", node, "key=value:NoExecute").strip() == f"node/{node} tainted"
        err = kubectl.fails("taint", "nodes", node, "key=other:NoExecute")
        assert f"node {node} already has key taint(s) with same effect(s) and --overwrite is false" in err
        taints = json.loads(kubectl.ok("get", "node", node, "-o", "json"))["spec"]["taints"]
        assert {(t["key"], t["effect"]) for t in taints} == {
            ("dedicated", "NoSchedule"),
            ("key", "NoExecute"),
        }
        assert kubectl.ok("taint", "nodes", node, "key-").strip() == f"node/{node} untainted"
        assert kubectl.ok("taint", "nodes", node, "dedicated:NoSchedule-").strip() == f"node/{node} untainted"
        assert "taints" not in json.loads(kubectl.ok("get", "node", node, "-o", "json"))["spec"]
        assert kubectl.ok("cordon", node).strip() == f"node/{node} cordoned"
        assert kubectl.ok("cordon", node).strip() == f"node/{node} already cordoned"
        row = next(line for line in kubectl.ok("get", "nodes").splitlines() if line.startswith(node))
        assert row.split()[1].endswith(",SchedulingDisabled")
        assert kubectl.ok("uncordon", node).strip() == f"node/{node} uncordoned"
        assert not json.loads(kubectl.ok("get", "node", node, "-o", "json"))["spec"].get("unschedulable")
    finally:
        kubectl.ok("delete", "node", node)


def test_patch_with_each_type(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("apply", "-f", "-", input=seed_manifest(namespace))
    target = ("ds", "kube-proxy", "-n", namespace)
    out = kubectl.ok("patch", *target, "--type", "merge", "-p", '{"metadata":{"labels":{"m":"1"}}}')
    assert out.strip() == "daemonset.apps/kube-proxy patched"
    kubectl.ok(
        "patch", *target, "--type", "json", "-p", '[{"op":"add","path":"/metadata/labels/j","value":"2"}]'
    )
    kubectl.ok(
        "patch",
        *target,
        "--type",
        "strategic",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"kube-proxy","image":"busybox:1"}]}}}}',
    )
    ds = json.loads(kubectl.ok("get", *target, "-o", "json"))
    assert ds["metadata"]["labels"]["m"] == "1" and ds["metadata"]["labels"]["j"] == "2"
    containers = ds["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1 and containers[0]["image"] == "busybox:1"
    assert containers[0]["command"][0] == "/usr/local/bin/kube-proxy"  # merged by name, not replaced
    err = kubectl.fails(
        "patch", *target, "--type", "json", "-p", '[{"op":"test","path":"/metadata/name","value":"x"}]'
    )
    # A failed JSON-patch test op is 422 with upstream's generic text, which kubectl prints so.
    assert "The request is invalid: the server rejected our request due to an error in our request" in err


def test_invalid_daemonset_prints_upstream_causes(kubectl: Kubectl, namespace: str) -> None:
    doc = yaml.safe_load(seed_manifest(namespace))
    doc["metadata"]["name"] = "kube-proxy-bad"
    del doc["spec"]["template"]["spec"]["containers"][0]["image"]
    doc["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    err = kubectl.fails("create", "-f", "-", input=yaml.safe_dump(doc))
    assert 'The DaemonSet "kube-proxy-bad" is invalid: ' in err
    assert "* spec.template.spec.containers[0].image: Required value" in err
    assert '* spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' in err
    assert kubectl.fails("get", "ds", "kube-proxy-bad", "-n", namespace)


def test_delete_daemonset(kubectl: Kubectl, namespace: str) -> None:
    kubectl.ok("apply", "-f", "-", input=seed_manifest(namespace))
    out = kubectl.ok("delete", "ds", "kube-proxy", "-n", namespace)
    assert out.strip() == 'daemonset.apps "kube-proxy" deleted'
    err = kubectl.fails("get", "ds", "kube-proxy", "-n", namespace)
    assert "NotFound" in err


def test_namespace_missing(kubectl: Kubectl) -> None:
    err = kubectl.fails("apply", "-f", "-", input=seed_manifest("nosuchns"))
    assert 'namespaces "nosuchns" not found' in err


def test_get_nodes_and_pods_wide_columns(kubectl: Kubectl, namespace: str) -> None:
    node = f"wide-{uuid.uuid4().hex[:6]}"
    kubectl.ok("apply", "-f", "-", input=node_manifest(node))
    try:
        out = kubectl.ok("get", "nodes", "-o", "wide")
        assert header(out) == [
            "NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
            "KERNEL-VERSION", "CONTAINER-RUNTIME",
        ]  # fmt: skip
        assert kubectl.ok("get", "no", node, "-o", "name").strip() == f"node/{node}"
        labels = kubectl.ok("get", "nodes", node, "--show-labels")
        assert "kubernetes.io/os=linux" in labels
    finally:
        kubectl.ok("delete", "node", node)
    pod = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "solo", "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )
    assert kubectl.ok("apply", "-f", "-", input=pod).strip() == "pod/solo created"
    out = kubectl.ok("get", "pods", "-n", namespace, "-o", "wide")
    assert header(out) == [
        "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES",
    ]  # fmt: skip
    assert out.splitlines()[1].split()[:4] == ["solo", "0/1", "Pending", "0"]
    out = kubectl.ok("get", "pods", "-A", "--field-selector", "status.phase=Pending", "-o", "name")
    assert "pod/solo" in out
    pod_json = json.loads(kubectl.ok("get", "pod", "solo", "-n", namespace, "-o", "json"))
    tolerations = {(t["key"], t.get("tolerationSeconds")) for t in pod_json["spec"]["tolerations"]}
    assert {("node.kubernetes.io/not-ready", 300), ("node.kubernetes.io/unreachable", 300)} <= tolerations
    assert pod_json["spec"]["schedulerName"] == "default-scheduler"
