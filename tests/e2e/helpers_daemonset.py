"""Helpers for the DaemonSet end-to-end tests, shaped after upstream's e2e framework.

Upstream: ``test/e2e/apps/daemon_set.go`` (``checkDaemonPodsImageAndAvailability``,
``waitForHistoryCreated``, ``curHistory``, ``checkDaemonSetPodsLabels``) and
``test/e2e/framework/daemonset/fixtures.go`` (``NewDaemonSet``, ``CheckRunningOnAllNodes``,
``CheckDaemonPodOnNodes``, ``CheckDaemonStatus``, ``SchedulableNodes``). The checks are written
against the official Python client's typed models, so reading every object also checks that the
client can deserialise what kubeds serves.

Upstream polls every second for up to five minutes; these tests poll every 0.2 s with deadlines
sized for a small simulated cluster in the fast profile.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
from kubernetes.client import AppsV1Api, CoreV1Api, V1DaemonSet, V1Node, V1Pod
from kubernetes.client.exceptions import ApiException

from kubeds import clock
from kubeds.controllers.daemonset import history
from tests.e2e.conftest import RunningPlane, stop_plane

T = TypeVar("T")

LABEL_KEY = "daemonset-name"  # upstream daemonsetNameLabel
COLOR_LABEL = "daemonset-color"  # upstream daemonsetColorLabel
LABEL_PREFIX = "daemonset-"  # upstream daemonsetLabelPrefix
IMAGE = "registry.k8s.io/e2e-test-images/httpd:2.4.38-4"  # upstream WebserverImage
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"  # upstream AgnhostImage
POLL = 0.2
TIMEOUT = 30.0
REVISION_HASH = "controller-revision-hash"


class Cluster:
    """The official client against one plane: typed APIs and a namespace per test."""

    def __init__(self, plane: RunningPlane) -> None:
        self.plane = plane
        self.api_client = kubernetes.config.new_client_from_config(config_file=str(plane.kubeconfig))
        self.core = CoreV1Api(self.api_client)
        self.apps = AppsV1Api(self.api_client)

    def new_namespace(self) -> str:
        name = f"e2e-ds-{uuid.uuid4().hex[:8]}"
        self.core.create_namespace(
            {
                "metadata": {
                    "name": name,
                    "annotations": {"scheduler.alpha.kubernetes.io/node-selector": ""},
                    "labels": {"pod-security.kubernetes.io/enforce": "baseline"},
                }
            }
        )
        return name

    def close(self) -> None:
        self.api_client.close()


def start_logging_plane(data_dir: Path, *extra: str) -> RunningPlane:
    """Like conftest's ``start_plane``, but the plane's stderr goes to ``DIR/kubeds.log``.

    conftest pipes stderr and never reads it, so a plane that logs more than a pipe buffer (64 KiB)
    blocks on its next log line and stops answering (seen as kubectl's "TLS handshake timeout")."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "kubeds.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeds", "up", "--port", "0", "--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    log.close()
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("kubeds ready:"):
        proc.kill()
        proc.communicate(timeout=10)
        raise RuntimeError(f"kubeds up did not become ready: {line!r}; see {data_dir / 'kubeds.log'}")
    fields = dict(part.split("=", 1) for part in line.split()[2:])
    return RunningPlane(data_dir, Path(fields["kubeconfig"]), fields["server"], proc)


@contextmanager
def running_plane(data_dir: Path, nodes: int) -> Iterator[RunningPlane]:
    plane = start_logging_plane(data_dir, "--nodes", str(nodes), "--node-profile", "fast")
    try:
        yield plane
    finally:
        stop_plane(plane)
        assert plane.proc.returncode == 0, f"kubeds up did not stop cleanly; see {data_dir / 'kubeds.log'}"


def wait_for(what: str, check: Callable[[], T | None], *, timeout: float = TIMEOUT) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` at the deadline.

    ``check`` may raise ``AssertionError`` to explain why it is not done yet; the last
    explanation is reported at the deadline."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            got = check()
            if got:
                return got
        except AssertionError as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {last}")
        time.sleep(POLL)


def hold_for(what: str, check: Callable[[], bool], *, seconds: float) -> None:
    """Assert ``check`` stays true for ``seconds`` (upstream's 'must not happen' waits)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check(), what
        time.sleep(POLL)


# -- fixtures ---------------------------------------------------------------------------------------


def new_daemon_set(
    name: str, *, image: str = IMAGE, labels: dict[str, str] | None = None, keep_ds_labels: bool = True
) -> dict[str, Any]:
    """upstream ``NewDaemonSet``: selector = template labels, one container ``app`` on port 9376.

    ``keep_ds_labels=False`` is upstream's ``newDaemonSet`` variant (no labels on the DS itself)."""
    labels = labels or {LABEL_KEY: name}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "labels": dict(labels) if keep_ds_labels else {}},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "ports": [{"containerPort": 9376}],
                            "securityContext": {},
                        }
                    ],
                    "securityContext": {},
                },
            },
        },
    }


# -- pods and nodes -------------------------------------------------------------------------------


def is_controlled_by(pod: V1Pod, ds: V1DaemonSet) -> bool:
    return any(r.controller and r.uid == ds.metadata.uid for r in pod.metadata.owner_references or [])


def daemon_pods(c: Cluster, ds: V1DaemonSet) -> list[V1Pod]:
    """Pods controlled by ``ds`` and not being deleted."""
    sel = ",".join(f"{k}={v}" for k, v in (ds.spec.selector.match_labels or {}).items())
    pods = c.core.list_namespaced_pod(ds.metadata.namespace, label_selector=sel).items
    return [p for p in pods if is_controlled_by(p, ds) and p.metadata.deletion_timestamp is None]


def is_ready(pod: V1Pod) -> bool:
    return any(cond.type == "Ready" and cond.status == "True" for cond in (pod.status.conditions or []))


def is_available(pod: V1Pod, min_ready_seconds: int = 0, *, now: dt.datetime | None = None) -> bool:
    """upstream podutil.IsPodAvailable: Ready for at least minReadySeconds."""
    for cond in pod.status.conditions or []:
        if cond.type == "Ready" and cond.status == "True":
            if min_ready_seconds == 0:
                return True
            now = now or clock.REAL.now()
            since = cond.last_transition_time
            return since is not None and since + dt.timedelta(seconds=min_ready_seconds) <= now
    return False


def node_is_ready(node: V1Node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])


def _tolerates(tolerations: list[Any], taint: Any) -> bool:
    for t in tolerations:
        if t.effect and t.effect != taint.effect:
            continue
        if t.operator == "Exists":
            if not t.key or t.key == taint.key:
                return True
        elif t.key == taint.key and (t.value or "") == (taint.value or ""):
            return True
    return False


def schedulable_nodes(c: Cluster, ds: V1DaemonSet) -> list[str]:
    """upstream ``SchedulableNodes``: nodes whose labels satisfy the DS's nodeSelector and whose
    NoSchedule/NoExecute taints the template tolerates (simplified: no affinity, no nodeName)."""
    spec = ds.spec.template.spec
    selector = spec.node_selector or {}
    tolerations = spec.tolerations or []
    out = []
    for node in c.core.list_node().items:
        labels = node.metadata.labels or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        taints = [t for t in node.spec.taints or [] if t.effect in ("NoSchedule", "NoExecute")]
        if all(_tolerates(tolerations, t) for t in taints):
            out.append(node.metadata.name)
    return sorted(out)


def check_daemon_pod_on_nodes(c: Cluster, ds_name: str, ns: str, node_names: list[str]) -> bool:
    """upstream ``CheckDaemonPodOnNodes``: exactly one available daemon pod on each listed node,
    and none anywhere else. Raises AssertionError with the reason when it does not hold."""
    ds = c.apps.read_namespaced_daemon_set(ds_name, ns)
    min_ready = ds.spec.min_ready_seconds or 0
    per_node: dict[str, int] = {}
    for pod in daemon_pods(c, ds):
        if is_available(pod, min_ready):
            node = pod.spec.node_name or ""
            per_node[node] = per_node.get(node, 0) + 1
    for name in node_names:
        if per_node.get(name, 0) != 1:
            raise AssertionError(f"node {name} has {per_node.get(name, 0)} available daemon pods: {per_node}")
    if len(per_node) != len(node_names):
        raise AssertionError(f"available daemon pods on {sorted(per_node)}, expected {sorted(node_names)}")
    return True


def check_running_on_all_nodes(c: Cluster, ds_name: str, ns: str) -> bool:
    ds = c.apps.read_namespaced_daemon_set(ds_name, ns)
    return check_daemon_pod_on_nodes(c, ds_name, ns, schedulable_nodes(c, ds))


def check_running_on_no_nodes(c: Cluster, ds_name: str, ns: str) -> bool:
    return check_daemon_pod_on_nodes(c, ds_name, ns, [])


def check_daemon_status(c: Cluster, ds_name: str, ns: str) -> bool:
    """upstream ``CheckDaemonStatus``."""
    st = c.apps.read_namespaced_daemon_set(ds_name, ns).status
    desired, scheduled, ready = st.desired_number_scheduled, st.current_number_scheduled, st.number_ready
    if not desired == scheduled == ready:
        raise AssertionError(
            f"error in daemon status. DesiredScheduled: {desired}, CurrentScheduled: {scheduled}, "
            f"Ready: {ready}"
        )
    return True


def wait_running_on_all_nodes(c: Cluster, ds_name: str, ns: str, *, timeout: float = TIMEOUT) -> None:
    wait_for(
        "daemon pods to be running on every node",
        lambda: check_running_on_all_nodes(c, ds_name, ns),
        timeout=timeout,
    )
    wait_for("daemon status to settle", lambda: check_daemon_status(c, ds_name, ns))


def check_pods_image_and_availability(
    c: Cluster, ds_name: str, ns: str, image: str, max_unavailable: int
) -> bool:
    """upstream ``checkDaemonPodsImageAndAvailability``: a hard failure (``ValueError``, which
    ``wait_for`` does not swallow) when more than ``max_unavailable`` pods are unavailable; done
    when every schedulable node has a pod with ``image``."""
    ds = c.apps.read_namespaced_daemon_set(ds_name, ns)
    min_ready = ds.spec.min_ready_seconds or 0
    pods = daemon_pods(c, ds)
    unavailable = [p.metadata.name for p in pods if not is_available(p, min_ready)]
    if len(unavailable) > max_unavailable:
        raise ValueError(
            f"{len(unavailable)} unavailable pods {unavailable} > maxUnavailable {max_unavailable}"
        )
    updated_nodes = {p.spec.node_name for p in pods if p.spec.containers[0].image == image}
    missing = [n for n in schedulable_nodes(c, ds) if n not in updated_nodes]
    if missing:
        raise AssertionError(f"nodes {missing} have no pod with image {image}")
    return True


# -- history --------------------------------------------------------------------------------------


def list_history(c: Cluster, ns: str, labels: dict[str, str]) -> list[Any]:
    sel = ",".join(f"{k}={v}" for k, v in labels.items())
    return list(c.apps.list_namespaced_controller_revision(ns, label_selector=sel).items)


def wait_for_history_created(c: Cluster, ns: str, labels: dict[str, str], n: int) -> list[Any]:
    def check() -> list[Any] | None:
        got = list_history(c, ns, labels)
        if len(got) != n:
            raise AssertionError(f"{len(got)} ControllerRevisions, want {n}")
        return got

    return wait_for(f"{n} ControllerRevisions", check)


def cur_history(c: Cluster, ns: str, ds_name: str) -> dict[str, Any]:
    """upstream ``curHistory``: exactly one revision matches the DS (``daemon.Match``, here kubeds'
    own ``history.match``, as upstream's e2e uses the controller's); every revision has a hash."""
    ds = raw(c.apps.read_namespaced_daemon_set, ds_name, ns)
    sel = ",".join(f"{k}={v}" for k, v in ds["spec"]["selector"]["matchLabels"].items())
    current = []
    for rev in raw(c.apps.list_namespaced_controller_revision, ns, label_selector=sel)["items"]:
        name = rev["metadata"]["name"]
        assert (rev["metadata"].get("labels") or {}).get(REVISION_HASH), f"{name} has no hash label"
        if history.match(ds, rev):
            current.append(rev)
    assert len(current) == 1, f"{len(current)} ControllerRevisions match the template"
    return current[0]


def check_pods_hash_label(pods: list[V1Pod], hash_: str = "") -> None:
    """upstream ``checkDaemonSetPodsLabels``."""
    for pod in pods:
        got = (pod.metadata.labels or {}).get(REVISION_HASH, "")
        assert got, f"pod {pod.metadata.name} has no {REVISION_HASH} label"
        if hash_:
            assert got == hash_, f"pod {pod.metadata.name} carries hash {got}, want {hash_}"


# -- cleanup ----------------------------------------------------------------------------------------


def clear_daemon_labels(c: Cluster) -> None:
    """upstream ``clearDaemonSetNodeLabels``: drop every ``daemonset-`` node label."""
    for node in c.core.list_node().items:
        drop = {k: None for k in node.metadata.labels or {} if k.startswith(LABEL_PREFIX)}
        if drop:
            c.core.patch_node(node.metadata.name, {"metadata": {"labels": drop}})


def delete_daemon_sets(c: Cluster, ns: str) -> None:
    """upstream AfterEach: delete every DS, wait for its pods to be gone, clear node labels."""
    for ds in c.apps.list_namespaced_daemon_set(ns).items:
        c.apps.delete_namespaced_daemon_set(ds.metadata.name, ns)

    def gone() -> bool:
        left = [p.metadata.name for p in c.core.list_namespaced_pod(ns).items]
        if left:
            raise AssertionError(f"pods left: {left}")
        return True

    wait_for("daemon pods to be garbage-collected", gone)
    clear_daemon_labels(c)


def read_or_none(read: Callable[[], T]) -> T | None:
    try:
        return read()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


@dataclass
class DsContext:
    """What each test gets: the cluster and its own namespace."""

    c: Cluster
    ns: str


def raw(call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call an official-client method without deserialising: the JSON exactly as served
    (ControllerRevision matching and hashing compare the serialised template)."""
    resp = call(*args, _preload_content=False, **kwargs)
    try:
        out: dict[str, Any] = json.loads(resp.data)
    finally:
        resp.release_conn()
    return out
