"""``kubectl rollout`` and ``kubectl describe`` on DaemonSets, with kubectl 1.27 and 1.33.

What upstream kubectl prints is the reference (``kubernetes/kubectl``:
``pkg/polymorphichelpers/rollout_status.go`` DaemonSetStatusViewer, ``history.go``
DaemonSetHistoryViewer, ``rollback.go`` DaemonSetRollbacker, ``objectrestarter.go``; docs
daemonset-semantics.md §3.8). The plane is this module's own (``--nodes 3``, fast profile); each
test works in its own namespace. A rolling update's budget is checked from a watch of the pods
(every event is one moment of the cluster's history), not by sampling.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes import watch

from tests.e2e.conftest import Kubectl, RunningPlane
from tests.e2e.helpers_daemonset import Cluster, daemon_pods, running_plane, wait_for

NODES = 3
IMAGE_A = "registry.k8s.io/pause:3.9"
IMAGE_B = "registry.k8s.io/pause:3.10"
BROKEN = "registry.k8s.io/pause:non-existent"  # the simulated kubelet never pulls it


@pytest.fixture(scope="module")
def ds_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlane]:
    with running_plane(tmp_path_factory.mktemp("ds-kubectl"), NODES) as plane:
        yield plane


@pytest.fixture(scope="module")
def cluster(ds_plane: RunningPlane) -> Iterator[Cluster]:
    c = Cluster(ds_plane)
    yield c
    c.close()


@pytest.fixture
def k(kubectl: Kubectl, ds_plane: RunningPlane) -> Kubectl:
    """The version-parametrized kubectl, pointed at this module's plane."""
    return Kubectl(kubectl.binary, kubectl.version, ds_plane.kubeconfig, kubectl.cache_dir)


@pytest.fixture
def ns(k: Kubectl) -> Iterator[str]:
    name = f"e2e-dsk-{uuid.uuid4().hex[:8]}"
    k.ok("create", "namespace", name)
    yield name
    k.ok("delete", "namespace", name, "--wait=false")


def ds_yaml(
    name: str, *, image: str = IMAGE_A, min_ready: int = 0, strategy: dict[str, Any] | None = None
) -> str:
    doc = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "minReadySeconds": min_ready,
            "updateStrategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}], "terminationGracePeriodSeconds": 1},
            },
        },
    }
    return yaml.safe_dump(doc)


def rolled_out(k: Kubectl, ns: str, name: str) -> None:
    out = k.ok("rollout", "status", f"ds/{name}", "-n", ns, "--timeout=60s")
    assert out.strip().splitlines()[-1] == f'daemon set "{name}" successfully rolled out'


def pods_by_name(c: Cluster, ns: str, name: str) -> dict[str, tuple[str, str, str]]:
    """pod name -> (uid, node, image) for the DaemonSet's live pods."""
    ds = c.apps.read_namespaced_daemon_set(name, ns)
    return {
        p.metadata.name: (p.metadata.uid, p.spec.node_name, p.spec.containers[0].image)
        for p in daemon_pods(c, ds)
    }


STATUS_LINE = [
    re.compile(
        r'^Waiting for daemon set "(?P<n>[^"]+)" rollout to finish: \d+ out of \d+ new pods have been updated\.\.\.$'
    ),
    re.compile(
        r'^Waiting for daemon set "(?P<n>[^"]+)" rollout to finish: \d+ of \d+ updated pods are available\.\.\.$'
    ),
    re.compile(r"^Waiting for daemon set spec update to be observed\.\.\.$"),
]


def test_rollout_status_prints_upstream_messages(k: Kubectl, cluster: Cluster, ns: str) -> None:
    name = "kube-proxy"
    k.ok("apply", "-n", ns, "-f", "-", input=ds_yaml(name, min_ready=1))
    rolled_out(k, ns, name)
    k.ok("set", "image", f"ds/{name}", "-n", ns, f"app={IMAGE_B}")
    out = k.ok("rollout", "status", f"ds/{name}", "-n", ns, "--timeout=60s")
    lines = out.strip().splitlines()
    assert lines[-1] == f'daemon set "{name}" successfully rolled out'
    waiting = lines[:-1]
    assert waiting, f"expected progress lines before success, got {lines}"
    for line in waiting:
        assert any(p.match(line) for p in STATUS_LINE), f"not an upstream message: {line!r}"
    assert any("new pods have been updated" in line for line in waiting) or any(
        "updated pods are available" in line for line in waiting
    )
    assert {img for _, _, img in pods_by_name(cluster, ns, name).values()} == {IMAGE_B}

    # OnDelete: kubectl refuses.
    k.ok(
        "patch",
        "ds",
        name,
        "-n",
        ns,
        "-p",
        '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}',
    )
    err = k.fails("rollout", "status", f"ds/{name}", "-n", ns, "--timeout=10s")
    assert "rollout status is only available for RollingUpdate strategy type" in err


def test_rollout_history_and_revision(k: Kubectl, cluster: Cluster, ns: str) -> None:
    name = "hist"
    k.ok("apply", "-n", ns, "-f", "-", input=ds_yaml(name))
    rolled_out(k, ns, name)
    k.ok("annotate", "ds", name, "-n", ns, "kubernetes.io/change-cause=to pause 3.10")
    k.ok("set", "image", f"ds/{name}", "-n", ns, f"app={IMAGE_B}")
    rolled_out(k, ns, name)
    k.ok("set", "image", f"ds/{name}", "-n", ns, f"app={IMAGE_A}")
    rolled_out(k, ns, name)

    out = k.ok("rollout", "history", f"ds/{name}", "-n", ns)
    lines = [line.rstrip() for line in out.strip().splitlines()]
    assert lines[0] == f"daemonset.apps/{name}"
    assert re.split(r"\s{2,}", lines[1]) == ["REVISION", "CHANGE-CAUSE"]
    rows = [re.split(r"\s{2,}", line, maxsplit=1) for line in lines[2:]]
    # Going back to revision 1's template made that revision current again, renumbered 3; a
    # revision keeps the annotations the DaemonSet had when it was created.
    assert rows == [["2", "to pause 3.10"], ["3", "<none>"]]

    detail = k.ok("rollout", "history", f"ds/{name}", "-n", ns, "--revision=2")
    assert detail.startswith(f"daemonset.apps/{name} with revision #2\nPod Template:\n")
    assert re.search(rf"^\s+Image:\s+{re.escape(IMAGE_B)}$", detail, re.M), detail
    assert re.search(rf"^\s+Labels:\s+app={name}$", detail, re.M), detail

    err = k.fails("rollout", "history", f"ds/{name}", "-n", ns, "--revision=7")
    assert "unable to find the specified revision" in err


def test_rollout_undo_keeps_pods_already_on_the_target_revision(
    k: Kubectl, cluster: Cluster, ns: str
) -> None:
    name = "undo"
    k.ok("apply", "-n", ns, "-f", "-", input=ds_yaml(name))
    rolled_out(k, ns, name)
    k.ok("set", "image", f"ds/{name}", "-n", ns, f"app={IMAGE_B}")
    rolled_out(k, ns, name)
    on_b = pods_by_name(cluster, ns, name)

    # A broken update: one pod is replaced by one that never becomes ready; the rollout is stuck.
    k.ok("set", "image", f"ds/{name}", "-n", ns, f"app={BROKEN}")
    wait_for(
        "the broken pod",
        lambda: any(img == BROKEN for _, _, img in pods_by_name(cluster, ns, name).values()),
    )
    stuck = pods_by_name(cluster, ns, name)
    survivors = {n: v for n, v in stuck.items() if v[2] == IMAGE_B}
    assert len(survivors) == NODES - 1 and set(survivors) <= set(on_b)

    out = k.ok("rollout", "undo", f"ds/{name}", "-n", ns)
    assert out.strip() == f"daemonset.apps/{name} rolled back"
    rolled_out(k, ns, name)
    after = pods_by_name(cluster, ns, name)
    assert {img for _, _, img in after.values()} == {IMAGE_B}
    for pod, (uid, _, _) in survivors.items():
        assert after.get(pod, ("",))[0] == uid, f"pod {pod} was restarted by the rollback"
    assert len(set(after) - set(survivors)) == 1  # only the broken pod was replaced

    # The rolled-back revision is current again under a new number; undo to it is a no-op.
    out = k.ok("rollout", "history", f"ds/{name}", "-n", ns)
    revisions = [line.split()[0] for line in out.strip().splitlines()[2:]]
    assert revisions == ["1", "3", "4"]
    out = k.ok("rollout", "undo", f"ds/{name}", "-n", ns, "--to-revision=4")
    assert (
        out.strip() == f"daemonset.apps/{name} skipped rollback (current template already matches revision 4)"
    )
    err = k.fails("rollout", "undo", f"ds/{name}", "-n", ns, "--to-revision=2")
    assert "unable to find specified revision 2 in history" in err

    # --to-revision=1 rolls every pod (none is on revision 1's template).
    out = k.ok("rollout", "undo", f"ds/{name}", "-n", ns, "--to-revision=1")
    assert out.strip() == f"daemonset.apps/{name} rolled back"
    rolled_out(k, ns, name)
    final = pods_by_name(cluster, ns, name)
    assert {img for _, _, img in final.values()} == {IMAGE_A}
    assert not set(final) & set(after)


def test_rollout_restart_rolls_every_pod(k: Kubectl, cluster: Cluster, ns: str) -> None:
    name = "restart"
    k.ok("apply", "-n", ns, "-f", "-", input=ds_yaml(name))
    rolled_out(k, ns, name)
    before = pods_by_name(cluster, ns, name)
    assert len(before) == NODES
    out = k.ok("rollout", "restart", f"ds/{name}", "-n", ns)
    assert out.strip() == f"daemonset.apps/{name} restarted"
    rolled_out(k, ns, name)
    after = pods_by_name(cluster, ns, name)
    assert len(after) == NODES
    assert not {uid for uid, _, _ in after.values()} & {uid for uid, _, _ in before.values()}
    assert sorted(node for _, node, _ in after.values()) == sorted(node for _, node, _ in before.values())
    ds = cluster.apps.read_namespaced_daemon_set(name, ns)
    assert "kubectl.kubernetes.io/restartedAt" in (ds.spec.template.metadata.annotations or {})


class PodWatcher:
    """Follows the DaemonSet's pods from a list's resourceVersion and records, after every event,
    how many nodes have no available daemon pod (Ready and not terminating)."""

    def __init__(self, c: Cluster, ns: str, selector: str, nodes: list[str]) -> None:
        self.c, self.ns, self.selector, self.nodes = c, ns, selector, nodes
        listed = c.core.list_namespaced_pod(ns, label_selector=selector)
        self.pods: dict[str, Any] = {p.metadata.name: p for p in listed.items}
        self.rv = listed.metadata.resource_version
        self.unavailable: list[int] = [self._count()]
        self.events = 0
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None
        self.stopping = False

    def _count(self) -> int:
        ok = set()
        for p in self.pods.values():
            ready = any(cd.type == "Ready" and cd.status == "True" for cd in p.status.conditions or [])
            if ready and p.metadata.deletion_timestamp is None:
                ok.add(p.spec.node_name)
        return sum(1 for n in self.nodes if n not in ok)

    def _run(self) -> None:
        try:
            for event in self._watch.stream(
                self.c.core.list_namespaced_pod,
                self.ns,
                label_selector=self.selector,
                resource_version=self.rv,
                timeout_seconds=120,
            ):
                pod = event["object"]
                if event["type"] == "DELETED":
                    self.pods.pop(pod.metadata.name, None)
                else:
                    self.pods[pod.metadata.name] = pod
                self.events += 1
                self.unavailable.append(self._count())
        except BaseException as exc:
            if not self.stopping:
                self.error = exc

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping = True
        self._watch.stop()
        self._thread.join(timeout=10)


def test_rolling_update_never_exceeds_max_unavailable(k: Kubectl, cluster: Cluster, ns: str) -> None:
    name = "budget"
    k.ok("apply", "-n", ns, "-f", "-", input=ds_yaml(name))
    rolled_out(k, ns, name)
    nodes = sorted(n.metadata.name for n in cluster.core.list_node().items)
    watcher = PodWatcher(cluster, ns, f"app={name}", nodes)
    assert watcher.unavailable == [0]
    watcher.start()
    try:
        k.ok("set", "image", f"ds/{name}", "-n", ns, f"app={IMAGE_B}")
        rolled_out(k, ns, name)
        wait_for(
            "the watch to see every pod on the new image",
            lambda: (
                {
                    p.spec.containers[0].image
                    for p in watcher.pods.values()
                    if p.metadata.deletion_timestamp is None
                }
                == {IMAGE_B}
                and watcher.unavailable[-1] == 0
            ),
        )
    finally:
        watcher.stop()
    assert watcher.error is None, watcher.error
    # Each node went through a moment with no available pod, one node at a time.
    assert max(watcher.unavailable) == 1, watcher.unavailable
    assert watcher.unavailable.count(1) >= NODES and watcher.events >= 3 * NODES


def test_describe_shows_successful_create_events(k: Kubectl, cluster: Cluster, ns: str) -> None:
    name = "described"
    k.ok("apply", "-n", ns, "-f", "-", input=ds_yaml(name))
    rolled_out(k, ns, name)
    pods = pods_by_name(cluster, ns, name)

    def described() -> str | None:
        out = k.ok("describe", "ds", name, "-n", ns)
        return out if out.count("SuccessfulCreate") >= NODES else None

    out = wait_for("SuccessfulCreate events", described)
    assert re.search(rf"^Name:\s+{name}$", out, re.M)
    assert re.search(r"^Desired Number of Nodes Scheduled: 3$", out, re.M), out
    assert re.search(r"^Pods Status:\s+3 Running / 0 Waiting / 0 Succeeded / 0 Failed$", out, re.M), out
    events = out[out.index("Events:") :]
    for pod in pods:
        assert re.search(
            rf"Normal\s+SuccessfulCreate\s+\S+\s+daemonset-controller\s+Created pod: {pod}$", events, re.M
        ), events
