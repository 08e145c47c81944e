"""Issue 6's acceptance with the real kubectl (1.27 and the newest): drain, disruption budgets, cascading deletion.

The module runs its own plane (``--nodes 3``, fast profile) with the seed's kube-proxy DaemonSet in
kube-system. Each drain test adds a node of its own (named after the kubectl version), so the two
kubectl versions never share a node:

* a node holding a kube-proxy pod, three pods of the Deployment ``web``, an unmanaged pod, a pod
  with an emptyDir (of the Deployment ``cache``) and a mirror pod (``kubeds node add --static-pod``):
  ``kubectl drain`` without flags fails with kubectl's exact error for each kind (kubectl-wire.md
  §5.14) and leaves the node cordoned; with ``--ignore-daemonsets --delete-emptydir-data --force``
  (1.27: ``--delete-local-data``, deprecated) it evicts the rest, the Deployments' pods come back on
  other nodes, and the DaemonSet and mirror pods stay (§5.13, daemonset-semantics.md §6);
* a PDB of ``maxUnavailable: 0`` makes drain retry (kubectl's 429 message every 5 s) until the
  budget is relaxed to 1 in the background; then the drain finishes, one pod at a time.

The deletion tests make their own kube-proxy DaemonSet in their own namespace (kubectl-wire.md
§5.19, daemonset-semantics.md §4.2): background deletion removes every daemon pod;
``--cascade=orphan`` leaves them without ownerReferences and a re-created DaemonSet adopts the same
pods (same UIDs); ``--cascade=foreground`` deletes the pods before the DaemonSet disappears, which a
watch shows (the DaemonSet is visible with deletionTimestamp while pods exist).

Bad input from the issue (an Eviction naming another pod; a PDB with both minAvailable and
maxUnavailable) is covered at the API by tests/e2e/test_bad_input.py
(``test_eviction_naming_another_pod_is_rejected``, ``test_pdb_with_both_min_available_and_max_unavailable``).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, watch

from tests.e2e.conftest import Kubectl, RunningPlane, kubectl_binary, start_plane, stop_plane
from tests.e2e.helpers_drain import (
    DELETE_LOCAL_DATA_DEPRECATED,
    MIRROR_ANNOTATION,
    PDB_RETRY,
    StreamedRun,
    drain_refusal_head,
    drain_refusal_messages,
    get_json,
    is_running,
    kubeds_node,
    node_ready,
    only_schedulable,
    pods,
    running_by_node,
    running_on_node,
    wait_for,
)
from tests.e2e.test_kubectl_api import seed_manifest

SYSTEM = "kube-system"
PROXY = "k8s-app=kube-proxy"
WEB_IMAGE = "nginx:1.27"
# The client's modules are untyped: use them through Any.
WATCH: Any = watch
CONFIG: Any = config
STATIC_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "etcd", "namespace": SYSTEM},
    "spec": {"containers": [{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.9-0"}]},
}


@pytest.fixture(scope="module")
def drain_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlane]:
    p = start_plane(tmp_path_factory.mktemp("drain-plane"), "--nodes", "3", "--node-profile", "fast")
    try:
        setup = Kubectl(
            kubectl_binary("1.33"), "1.33", p.kubeconfig, tmp_path_factory.mktemp("drain-kubectl-cache")
        )
        setup.ok("apply", "-f", "-", input=seed_manifest(SYSTEM))
        wait_for(
            "a Running kube-proxy pod on each of the three nodes",
            lambda: set(running_by_node(pods(setup, SYSTEM, PROXY))) == {"node-1", "node-2", "node-3"},
        )
        yield p
    finally:
        stop_plane(p)
    assert p.proc.returncode == 0, "kubeds up did not stop cleanly on SIGTERM"


@pytest.fixture
def kc(kubectl: Kubectl, drain_plane: RunningPlane) -> Kubectl:
    """The parametrized kubectl binary, pointed at this module's plane."""
    return Kubectl(kubectl.binary, kubectl.version, drain_plane.kubeconfig, kubectl.cache_dir)


@pytest.fixture
def ns(kc: Kubectl) -> str:
    name = f"drain-{uuid.uuid4().hex[:8]}"
    kc.ok("create", "namespace", name)
    return name


def node_name(prefix: str, kc: Kubectl) -> str:
    return f"{prefix}-{kc.version.replace('.', '-')}"


def add_node(kc: Kubectl, plane: RunningPlane, name: str, *extra: str) -> str:
    """Add a node and wait until it is Ready and runs its kube-proxy pod; return that pod's name."""
    kubeds_node(plane, "add", name, *extra)
    wait_for(f"{name} is Ready", lambda: node_ready(kc, name))
    found = wait_for(
        f"a Running kube-proxy pod on {name}", lambda: running_by_node(pods(kc, SYSTEM, PROXY)).get(name)
    )
    return found[0]


def uids(items: list[dict[str, Any]]) -> dict[str, str]:
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in items}


def on_node(items: list[dict[str, Any]], node: str) -> list[dict[str, Any]]:
    return [p for p in items if p["spec"].get("nodeName") == node]


def cache_deployment(namespace: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "cache", "namespace": namespace},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "cache"}},
                "template": {
                    "metadata": {"labels": {"app": "cache"}},
                    "spec": {
                        "terminationGracePeriodSeconds": 1,
                        "containers": [
                            {
                                "name": "redis",
                                "image": "redis:7",
                                "volumeMounts": [{"name": "scratch", "mountPath": "/data"}],
                            }
                        ],
                        "volumes": [{"name": "scratch", "emptyDir": {}}],
                    },
                },
            },
        }
    )


def standalone_pod(namespace: str, node: str) -> str:
    """An unmanaged pod, bound to ``node`` in its spec (as a pod created for one machine is)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "standalone", "namespace": namespace},
            "spec": {
                "nodeName": node,
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}],
            },
        }
    )


def test_drain_refuses_each_kind_then_evicts_with_flags(
    kc: Kubectl, drain_plane: RunningPlane, ns: str, tmp_path: Path
) -> None:
    node = node_name("maint", kc)
    manifest = tmp_path / "etcd.yaml"
    manifest.write_text(yaml.safe_dump(STATIC_POD))
    proxy_pod = add_node(kc, drain_plane, node, "--static-pod", str(manifest))
    mirror = f"etcd-{node}"
    mirror_pod = get_json(kc, "pod", mirror, "-n", SYSTEM)
    assert MIRROR_ANNOTATION in mirror_pod["metadata"]["annotations"]

    with only_schedulable(kc, node):
        kc.ok("create", "deployment", "web", "-n", ns, f"--image={WEB_IMAGE}", "--replicas=3")
        kc.ok("apply", "-f", "-", input=cache_deployment(ns))
        kc.ok("apply", "-f", "-", input=standalone_pod(ns, node))
        wait_for(
            f"3 web pods, the cache pod and the standalone pod Running on {node}",
            lambda: running_on_node(kc, ns, node) == 5,
        )
    workload = [p for p in on_node(pods(kc, ns), node) if is_running(p)]
    cache = next(p["metadata"]["name"] for p in workload if p["metadata"]["name"].startswith("cache-"))
    before = uids(workload) | uids(pods(kc, SYSTEM))

    # 1. No flags: one error group per kind of pod (the mirror pod is skipped silently), node cordoned.
    res = kc.run("drain", node, check=False)
    assert res.returncode == 1, res
    assert res.stdout == f"node/{node} cordoned\n"
    messages = drain_refusal_messages(
        kc.version,
        ds_pod=f"{SYSTEM}/{proxy_pod}",
        local_pod=f"{ns}/{cache}",
        unmanaged_pod=f"{ns}/standalone",
    )
    head, tail = drain_refusal_head(kc.version, node)
    lines = res.stderr.splitlines()
    # kubectl groups the errors in a Go map: their order varies from run to run.
    assert lines[0] in {f"{head}[{', '.join(order)}]{tail}" for order in itertools.permutations(messages)}, (
        res.stderr
    )
    assert lines[1:3] == ["There are pending nodes to be drained:", f" {node}"], res.stderr
    assert sorted(lines[3:]) == sorted(messages), res.stderr
    assert get_json(kc, "node", node)["spec"].get("unschedulable") is True
    assert uids(on_node(pods(kc, ns), node)) | uids(pods(kc, SYSTEM)) == before, (
        "a refused drain evicted something"
    )

    # 2. With the flags: everything but the DaemonSet and mirror pods is evicted.
    local_flag = "--delete-local-data" if kc.version == "1.27" else "--delete-emptydir-data"
    res = kc.run("drain", node, "--ignore-daemonsets", local_flag, "--force", "--timeout=60s", check=False)
    assert res.returncode == 0, res
    evicted = sorted(p["metadata"]["name"] for p in workload)
    out = res.stdout.splitlines()
    assert out[0] == f"node/{node} already cordoned" and out[-1] == f"node/{node} drained", res.stdout
    assert sorted(out[1:-1]) == sorted(
        [f"evicting pod {ns}/{name}" for name in evicted] + [f"pod/{name} evicted" for name in evicted]
    ), res.stdout
    groups = [
        f"deleting Pods that declare no controller: {ns}/standalone",
        f"ignoring DaemonSet-managed Pods: {SYSTEM}/{proxy_pod}",
    ]
    # Warning groups come from a Go map too: either order.
    warnings = {"Warning: " + "; ".join(order) for order in itertools.permutations(groups)}
    err = res.stderr.splitlines()
    if kc.version == "1.27":
        assert err[0] == DELETE_LOCAL_DATA_DEPRECATED, res.stderr
        err = err[1:]
    assert len(err) == 1 and err[0] in warnings, res.stderr

    def moved() -> bool:
        web_by_node = running_by_node(pods(kc, ns, "app=web"))
        cache_by_node = running_by_node(pods(kc, ns, "app=cache"))
        return (
            node not in web_by_node
            and node not in cache_by_node
            and sum(len(v) for v in web_by_node.values()) == 3
            and sum(len(v) for v in cache_by_node.values()) == 1
        )

    wait_for("the web and cache pods Running again on other nodes", moved)
    assert not [p for p in pods(kc, ns) if p["metadata"]["name"] == "standalone"]
    assert not set(uids(pods(kc, ns)).values()) & set(before.values()), "an evicted pod survived"
    system_after = uids(on_node(pods(kc, SYSTEM), node))
    assert system_after == {proxy_pod: before[proxy_pod], mirror: before[mirror]}, system_after
    assert get_json(kc, "node", node)["spec"].get("unschedulable") is True

    if kc.version != "1.27":
        # 1.31 and later dropped the deprecated flag: refused client-side, before any request.
        res = kc.run("drain", node, "--delete-local-data", check=False)
        assert res.returncode == 1
        assert res.stderr.splitlines()[0] == "error: unknown flag: --delete-local-data", res.stderr


def pdb_manifest(namespace: str, max_unavailable: int) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": {"app": "web"}}},
        }
    )


def test_drain_retries_while_the_budget_forbids(kc: Kubectl, drain_plane: RunningPlane, ns: str) -> None:
    node = node_name("budget", kc)
    proxy_pod = add_node(kc, drain_plane, node)
    with only_schedulable(kc, node):
        kc.ok("create", "deployment", "web", "-n", ns, f"--image={WEB_IMAGE}", "--replicas=2")
        wait_for(f"2 web pods Running on {node}", lambda: running_on_node(kc, ns, node) == 2)
    web = sorted(p["metadata"]["name"] for p in on_node(pods(kc, ns), node) if is_running(p))
    kc.ok("apply", "-f", "-", input=pdb_manifest(ns, 0))

    def budget_observed() -> bool:
        pdb = get_json(kc, "pdb", "web", "-n", ns)
        st = pdb.get("status") or {}
        return (
            st.get("observedGeneration") == pdb["metadata"]["generation"]
            and st.get("currentHealthy") == 2
            and st.get("disruptionsAllowed") == 0
        )

    wait_for("the disruption controller to compute the budget (0 disruptions allowed)", budget_observed)

    run = StreamedRun(kc.popen("drain", node, "--ignore-daemonsets", "--timeout=60s")).start()
    retries = {name: PDB_RETRY.format(name=name, ns=ns) for name in web}

    def refused_twice() -> bool:
        err = run.seen("stderr")
        return all(err.count(msg) >= 2 for msg in retries.values())

    # Two refusals per pod means kubectl waited its 5 s and asked again.
    wait_for("kubectl to be refused twice for each pod (429, retry after 5 s)", refused_twice, timeout=20)
    assert run.proc.poll() is None, "drain ended while the budget forbids any eviction"
    assert sorted(p["metadata"]["name"] for p in on_node(pods(kc, ns), node) if is_running(p)) == web
    kc.ok("apply", "-f", "-", input=pdb_manifest(ns, 1))  # relax the budget: one at a time

    rc = run.finish(timeout=45)
    out, err = run.seen("stdout"), run.seen("stderr")
    assert rc == 0, (out, err)
    assert out[0] == f"node/{node} cordoned" and out[-1] == f"node/{node} drained", out
    assert {f"pod/{name} evicted" for name in web} <= set(out), out
    assert set(out[1:-1]) == {f"evicting pod {ns}/{n}" for n in web} | {f"pod/{n} evicted" for n in web}
    assert err[0] == f"Warning: ignoring DaemonSet-managed Pods: {SYSTEM}/{proxy_pod}", err
    assert set(err[1:]) <= set(retries.values()), err
    wait_for(
        "2 web pods Running on other nodes",
        lambda: (
            node not in (by := running_by_node(pods(kc, ns, "app=web")))
            and sum(len(v) for v in by.values()) == 2
        ),
    )
    assert get_json(kc, "node", node)["spec"].get("unschedulable") is True


# ---- cascading deletion of the DaemonSet -----------------------------------------------------------


def node_count(kc: Kubectl) -> int:
    return len(get_json(kc, "nodes")["items"])


def create_daemonset(kc: Kubectl, namespace: str) -> list[dict[str, Any]]:
    """Create the seed's kube-proxy DaemonSet in ``namespace``; wait for a Running pod on every node."""
    kc.ok("apply", "-f", "-", input=seed_manifest(namespace))
    want = node_count(kc)

    def all_running() -> list[dict[str, Any]] | None:
        items = pods(kc, namespace, PROXY)
        ok = len(items) == want and all(is_running(p) for p in items)
        ds = get_json(kc, "ds", "kube-proxy", "-n", namespace)
        return items if ok and (ds.get("status") or {}).get("numberReady") == want else None

    return wait_for(f"a Running kube-proxy pod on each of the {want} nodes", all_running)


def test_delete_daemonset_removes_every_daemon_pod(kc: Kubectl, ns: str) -> None:
    create_daemonset(kc, ns)
    assert kc.ok("delete", "ds", "kube-proxy", "-n", ns) == 'daemonset.apps "kube-proxy" deleted\n'
    wait_for("no kube-proxy pod left", lambda: not pods(kc, ns, PROXY))
    wait_for(
        "no ControllerRevision left",
        lambda: not get_json(kc, "controllerrevisions", "-n", ns)["items"],
    )


def test_orphaned_pods_are_adopted_by_a_new_daemonset(kc: Kubectl, ns: str) -> None:
    before = uids(create_daemonset(kc, ns))
    old_uid = get_json(kc, "ds", "kube-proxy", "-n", ns)["metadata"]["uid"]
    out = kc.ok("delete", "ds", "kube-proxy", "-n", ns, "--cascade=orphan")
    assert out == 'daemonset.apps "kube-proxy" deleted\n'
    # kubectl waited for the DaemonSet to go, which happens only once its dependents are orphaned.
    assert kc.fails("get", "ds", "kube-proxy", "-n", ns).strip() == (
        'Error from server (NotFound): daemonsets.apps "kube-proxy" not found'
    )
    orphans = pods(kc, ns, PROXY)
    assert uids(orphans) == before
    assert all("ownerReferences" not in p["metadata"] for p in orphans), [
        p["metadata"].get("ownerReferences") for p in orphans
    ]

    kc.ok("apply", "-f", "-", input=seed_manifest(ns))
    new_uid = get_json(kc, "ds", "kube-proxy", "-n", ns)["metadata"]["uid"]
    assert new_uid != old_uid

    def adopted() -> bool:
        items = pods(kc, ns, PROXY)
        return all(
            [ref["uid"] for ref in p["metadata"].get("ownerReferences") or [] if ref.get("controller")]
            == [new_uid]
            for p in items
        )

    wait_for("the new DaemonSet to adopt every orphan", adopted)

    def counted() -> dict[str, Any] | None:
        d = get_json(kc, "ds", "kube-proxy", "-n", ns)
        st = d.get("status") or {}
        done = (
            st.get("numberReady") == len(before)
            and st.get("observedGeneration") == d["metadata"]["generation"]
        )
        return d if done else None

    ds = wait_for("the new DaemonSet's status to count the adopted pods", counted)
    assert ds["status"]["desiredNumberScheduled"] == len(before)
    assert uids(pods(kc, ns, PROXY)) == before, "pods were recreated instead of adopted"
    ref = pods(kc, ns, PROXY)[0]["metadata"]["ownerReferences"][0]
    assert ref | {"uid": "-"} == {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": "kube-proxy",
        "uid": "-",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _watch(
    stream_fn: Any, namespace: str, rv: str, events: list[tuple[str, dict[str, Any]]], done: threading.Event
) -> None:
    w = WATCH.Watch()
    for ev in w.stream(stream_fn, namespace, resource_version=rv, timeout_seconds=30):
        events.append((ev["type"], ev["raw_object"]))
        if done.is_set():
            w.stop()


def test_foreground_deletion_removes_pods_before_the_daemonset(
    kc: Kubectl, drain_plane: RunningPlane, ns: str
) -> None:
    daemon_pods = uids(create_daemonset(kc, ns))
    api = CONFIG.new_client_from_config(config_file=str(drain_plane.kubeconfig))
    try:
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
        ds_rv = get_json(kc, "ds", "-n", ns)["metadata"]["resourceVersion"]
        pod_rv = get_json(kc, "pods", "-n", ns)["metadata"]["resourceVersion"]
        ds_events: list[tuple[str, dict[str, Any]]] = []
        pod_events: list[tuple[str, dict[str, Any]]] = []
        done = threading.Event()
        threads = [
            threading.Thread(
                target=_watch, args=(apps.list_namespaced_daemon_set, ns, ds_rv, ds_events, done), daemon=True
            ),
            threading.Thread(
                target=_watch, args=(core.list_namespaced_pod, ns, pod_rv, pod_events, done), daemon=True
            ),
        ]
        for t in threads:
            t.start()
        out = kc.ok("delete", "ds", "kube-proxy", "-n", ns, "--cascade=foreground")
        assert out == 'daemonset.apps "kube-proxy" deleted\n'
        assert not pods(kc, ns, PROXY), "kubectl returned before the daemon pods were gone"

        wait_for("the DaemonSet's DELETED event", lambda: any(t == "DELETED" for t, _ in ds_events))

        def deleted_pods() -> set[str]:
            return {o["metadata"]["uid"] for t, o in pod_events if t == "DELETED"}

        wait_for("a DELETED event for every daemon pod", lambda: deleted_pods() >= set(daemon_pods.values()))
        done.set()
    finally:
        api.close()

    # Resource versions of one store are ordered: compare where each event happened.
    def rv(obj: dict[str, Any]) -> int:
        return int(obj["metadata"]["resourceVersion"])

    marked = [
        o
        for t, o in ds_events
        if t == "MODIFIED"
        and o["metadata"].get("deletionTimestamp")
        and "foregroundDeletion" in (o["metadata"].get("finalizers") or [])
    ]
    assert marked, f"no MODIFIED event with deletionTimestamp and foregroundDeletion: {ds_events}"
    ds_gone = next(rv(o) for t, o in ds_events if t == "DELETED")
    pods_gone = [
        rv(o) for t, o in pod_events if t == "DELETED" and o["metadata"]["uid"] in daemon_pods.values()
    ]
    assert rv(marked[0]) < min(pods_gone), "the DaemonSet was not marked before its pods went"
    assert max(pods_gone) < ds_gone, "the DaemonSet disappeared before its last pod"
    # From the mark to its disappearance, every state the watch saw was "being deleted".
    between = [o for t, o in ds_events if t != "DELETED" and rv(marked[0]) <= rv(o) < ds_gone]
    assert all(o["metadata"].get("deletionTimestamp") for o in between), between
