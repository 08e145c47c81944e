"""Issue 4 acceptance: simulated nodes, the scheduler, node lifecycle, taint eviction and pod GC.

Runs against a plane of its own (``kubeds up --nodes 4 --node-profile fast``), not the shared
``--nodes 0`` one, with the real kubectl. Cheap scenarios run once per kubectl version (the
module's ``kubectl`` fixture overrides conftest's to point at this plane); the slow ones (node
failure with its 20 s grace period, NoExecute with tolerationSeconds, pod GC) run once and check
their output with both kubectl binaries (``kubectls``).

Node roles, so scenarios do not disturb each other: node-1 NoSchedule taint, node-2 NoExecute
taint, node-3 cordon and disk pressure, node-4 failure; extra nodes are added and removed by the
tests that need them. Expected texts are upstream's:
- FailedScheduling: ``FitError.Error`` in pkg/scheduler/framework/types.go (reasons sorted,
  then the preemption post-filter message), reasons from the NodeUnschedulable, TaintToleration
  and NodeAffinity plugins (pkg/scheduler/framework/plugins/...);
- TaintManagerEviction: pkg/controller/tainteviction/taint_eviction.go (``Marking for deletion Pod %s``);
- node conditions after a lost heartbeat: pkg/controller/nodelifecycle/node_lifecycle_controller.go
  (``NodeStatusUnknown``, ``Kubelet stopped posting node status.``);
- kubectl's printers: ``Ready,SchedulingDisabled``, ``NotReady`` (pkg/printers/internalversion).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeds import clock
from tests.e2e.conftest import (
    KUBECTL_VERSIONS,
    Kubectl,
    RunningPlane,
    kubectl_binary,
    start_plane,
    stop_plane,
)
from tests.e2e.helpers_nodes import (
    apply,
    condition,
    events_for,
    get_json,
    get_or_none,
    kubeds_node,
    node_ready_status,
    parse_time,
    pod_manifest,
    pods_on,
    running_and_ready,
    table,
    taints,
    wait_for,
)

BASE_NODES = ("node-1", "node-2", "node-3", "node-4")
CONDITION_TYPES = ("NetworkUnavailable", "MemoryPressure", "DiskPressure", "PIDPressure", "Ready")
HOSTNAME = "kubernetes.io/hostname"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
# FitError.Error(): the sorted filter reasons, then the preemption post-filter message (hence "..").
FIT_ERROR = (
    "0/{n} nodes are available: {reasons}. "
    "preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling.."
)
EVICTION_MESSAGE = "Marking for deletion Pod {ns}/{name}"
NODE_GRACE_S = 20.0  # the fast profile's node monitor grace period (docs/simulation.md)
SHORT_TOLERATION_S = 10


def fit_error(n: int, *reasons: str) -> str:
    return FIT_ERROR.format(n=n, reasons=", ".join(sorted(reasons)))


@pytest.fixture(scope="module")
def nodes_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlane]:
    p = start_plane(tmp_path_factory.mktemp("nodes-plane"), "--nodes", "4", "--node-profile", "fast")
    yield p
    stop_plane(p)
    assert p.proc.returncode == 0, "kubeds up did not stop cleanly on SIGTERM"


@pytest.fixture(params=KUBECTL_VERSIONS, ids=[f"kubectl{v}" for v in KUBECTL_VERSIONS])
def kubectl(request: pytest.FixtureRequest, nodes_plane: RunningPlane, tmp_path: Path) -> Kubectl:
    """Overrides conftest's fixture: this module's plane, not the shared one."""
    version = request.param
    return Kubectl(kubectl_binary(version), version, nodes_plane.kubeconfig, tmp_path / "kubectl-cache")


@pytest.fixture
def kubectls(nodes_plane: RunningPlane, tmp_path: Path) -> list[Kubectl]:
    """Both kubectl versions against this module's plane (oldest first), for single-run scenarios."""
    return [
        Kubectl(kubectl_binary(v), v, nodes_plane.kubeconfig, tmp_path / f"kubectl-cache-{v}")
        for v in KUBECTL_VERSIONS
    ]


def new_namespace(k: Kubectl) -> str:
    name = f"e2e-nodes-{uuid.uuid4().hex[:6]}"
    assert k.ok("create", "namespace", name).strip() == f"namespace/{name} created"
    return name


def node_count(k: Kubectl) -> int:
    return len(get_json(k, "nodes")["items"])


def node_row(k: Kubectl, name: str) -> dict[str, str]:
    rows = table(k.ok("get", "node", name))
    assert len(rows) == 1 and rows[0]["NAME"] == name, rows
    return rows[0]


def describe_section(text: str, start: str, end: str) -> str:
    """The lines of ``kubectl describe`` output from the heading ``start`` up to heading ``end``."""
    match = re.search(rf"^{re.escape(start)}\n(.*?)^{re.escape(end)}", text, re.M | re.S)
    assert match, f"no {start!r} ... {end!r} section in:\n{text}"
    return match.group(1)


def condition_rows(describe: str) -> dict[str, list[str]]:
    """Conditions table of ``kubectl describe node``: type -> [status, ..., reason, message]."""
    section = describe_section(describe, "Conditions:", "Addresses:")
    rows = {}
    for line in section.splitlines()[2:]:
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return rows


def pod_gone_or_terminating(pod: dict[str, Any] | None) -> bool:
    return pod is None or bool(pod["metadata"].get("deletionTimestamp"))


# ---------------------------------------------------------------------------------------------
# nodes


def test_nodes_are_ready_and_describe_shows_conditions_capacity_and_lease(kubectl: Kubectl) -> None:
    rows = {r["NAME"]: r for r in table(kubectl.ok("get", "nodes"))}
    for name in BASE_NODES:
        assert rows[name]["STATUS"] == "Ready", rows[name]
        assert rows[name]["VERSION"].startswith("v1."), rows[name]

    text = kubectl.ok("describe", "node", "node-1")
    conditions = condition_rows(text)
    assert set(CONDITION_TYPES) <= set(conditions), conditions
    assert conditions["Ready"][0] == "True"
    assert conditions["Ready"][-2:] == ["KubeletReady", "kubelet is posting ready status"]
    assert conditions["MemoryPressure"][0] == "False"
    assert conditions["MemoryPressure"][-2:] == [
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ]
    assert conditions["DiskPressure"][-2:] == ["KubeletHasNoDiskPressure", "kubelet has no disk pressure"]
    assert conditions["PIDPressure"][-2:] == [
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
    ]
    for section in (
        describe_section(text, "Capacity:", "Allocatable:"),
        describe_section(text, "Allocatable:", "System Info:"),
    ):
        assert re.search(r"^\s+cpu:\s+4$", section, re.M), section
        assert re.search(r"^\s+memory:\s+16Gi$", section, re.M), section
        assert re.search(r"^\s+pods:\s+110$", section, re.M), section
    lease_text = describe_section(text, "Lease:", "Conditions:")
    assert re.search(r"HolderIdentity:\s+node-1$", lease_text, re.M), lease_text
    assert re.search(r"RenewTime:\s+\w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000$", lease_text, re.M), lease_text

    # The Lease is the heartbeat: fresh (renewed within its duration), held by the node, owned by it.
    lease = get_json(kubectl, "lease", "-n", "kube-node-lease", "node-1")
    assert lease["spec"]["holderIdentity"] == "node-1"
    assert lease["spec"]["leaseDurationSeconds"] > 0
    owner = lease["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("Node", "node-1")
    age = (clock.REAL.now() - parse_time(lease["spec"]["renewTime"])).total_seconds()
    assert age < lease["spec"]["leaseDurationSeconds"], lease["spec"]


def test_applied_pods_are_scheduled_and_running(kubectl: Kubectl) -> None:
    ns = new_namespace(kubectl)
    pods = [pod_manifest(f"web-{i}") for i in range(4)]
    host = pod_manifest("host-net")
    host["spec"]["hostNetwork"] = True
    out = apply(kubectl, ns, *pods, host)
    assert "pod/web-0 created" in out and "pod/host-net created" in out
    names = [p["metadata"]["name"] for p in [*pods, host]]

    def all_running() -> list[dict[str, Any]] | None:
        items = get_json(kubectl, "pods", "-n", ns)["items"]
        return items if len(items) == len(names) and all(running_and_ready(p) for p in items) else None

    items = wait_for("every applied pod Running and Ready", all_running)
    node_ips = {
        n["metadata"]["name"]: next(
            a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"
        )
        for n in get_json(kubectl, "nodes")["items"]
    }
    for pod in items:
        node = pod["spec"]["nodeName"]
        assert node in BASE_NODES, pod["spec"]
        assert pod["status"]["hostIP"] == node_ips[node]
        assert pod["status"]["podIP"]
        if pod["metadata"]["name"] == "host-net":
            assert pod["status"]["podIP"] == node_ips[node], "hostNetwork pods get the node IP"
        else:
            assert pod["status"]["podIP"] != node_ips[node]
        scheduled_condition = condition(pod, "PodScheduled")
        assert scheduled_condition is not None and scheduled_condition["status"] == "True"
        scheduled = events_for(kubectl, ns, pod["metadata"]["name"], reason="Scheduled")
        assert [e["message"] for e in scheduled] == [
            f"Successfully assigned {ns}/{pod['metadata']['name']} to {node}"
        ]
    rows = {r["NAME"]: r for r in table(kubectl.ok("get", "pods", "-n", ns, "-o", "wide"))}
    assert set(rows) == set(names)
    by_name = {p["metadata"]["name"]: p for p in items}
    for name, row in rows.items():
        assert (row["READY"], row["STATUS"]) == ("1/1", "Running"), row
        assert row["NODE"] == by_name[name]["spec"]["nodeName"]


# ---------------------------------------------------------------------------------------------
# taints and cordon


def test_noschedule_taint_keeps_untolerating_pods_off(kubectl: Kubectl) -> None:
    ns = new_namespace(kubectl)
    key = f"e2e-block-{kubectl.version.replace('.', '')}"
    assert kubectl.ok("taint", "nodes", "node-1", f"{key}=block:NoSchedule").strip() == "node/node-1 tainted"
    try:
        n = node_count(kubectl)
        on_node_1 = {HOSTNAME: "node-1"}
        tolerating = [{"key": key, "operator": "Exists", "effect": "NoSchedule"}]
        apply(
            kubectl,
            ns,
            pod_manifest("pinned", node_selector=on_node_1),
            pod_manifest("tolerant", node_selector=on_node_1, tolerations=tolerating),
            *(pod_manifest(f"free-{i}") for i in range(4)),
        )
        expected = fit_error(
            n,
            f"1 node(s) had untolerated taint {{{key}: block}}",
            f"{n - 1} node(s) didn't match Pod's node affinity/selector",
        )
        events = wait_for(
            "a FailedScheduling event for the pinned pod",
            lambda: events_for(kubectl, ns, "pinned", reason="FailedScheduling"),
        )
        assert events[0]["message"] == expected
        assert events[0]["type"] == "Warning"
        assert events[0]["source"]["component"] == "default-scheduler"
        pinned = get_json(kubectl, "pod", "-n", ns, "pinned")
        assert pinned["status"]["phase"] == "Pending"
        assert "nodeName" not in pinned["spec"]
        scheduled = condition(pinned, "PodScheduled")
        assert scheduled is not None
        assert (scheduled["status"], scheduled["reason"], scheduled["message"]) == (
            "False",
            "Unschedulable",
            expected,
        )
        described = kubectl.ok("describe", "pod", "-n", ns, "pinned")
        assert re.search(
            rf"Warning\s+FailedScheduling\s+.*default-scheduler\s+{re.escape(expected)}$", described, re.M
        ), described
        listed = kubectl.ok("get", "events", "-n", ns, "--field-selector", "involvedObject.name=pinned")
        assert expected in listed

        def others_running() -> list[dict[str, Any]] | None:
            items = [
                p for p in get_json(kubectl, "pods", "-n", ns)["items"] if p["metadata"]["name"] != "pinned"
            ]
            return items if len(items) == 5 and all(running_and_ready(p) for p in items) else None

        for pod in wait_for("the tolerating and the free pods Running", others_running):
            if pod["metadata"]["name"] == "tolerant":
                assert pod["spec"]["nodeName"] == "node-1", "a tolerating pod may use the tainted node"
            else:
                assert pod["spec"]["nodeName"] != "node-1", (
                    f"{pod['metadata']['name']} landed on the tainted node"
                )
        row = {r["NAME"]: r for r in table(kubectl.ok("get", "pods", "-n", ns))}["pinned"]
        assert (row["READY"], row["STATUS"]) == ("0/1", "Pending")
    finally:
        kubectl.run("taint", "nodes", "node-1", f"{key}-", check=False)
    # Removing the taint changes the node: the scheduler retries and places the pod.
    pod = wait_for(
        "the pinned pod Running once the taint is gone",
        lambda: p if running_and_ready(p := get_json(kubectl, "pod", "-n", ns, "pinned")) else None,
    )
    assert pod["spec"]["nodeName"] == "node-1"


def test_noexecute_taint_evicts_honouring_toleration_seconds(kubectls: list[Kubectl]) -> None:
    k = kubectls[-1]
    ns = new_namespace(k)
    key = "e2e-evict"
    on_node_2 = "node-2"
    apply(
        k,
        ns,
        pod_manifest("untolerating", node_name=on_node_2),
        pod_manifest(
            "tolerates-5s",
            node_name=on_node_2,
            tolerations=[
                {
                    "key": key,
                    "operator": "Equal",
                    "value": "now",
                    "effect": "NoExecute",
                    "tolerationSeconds": 5,
                }
            ],
        ),
        pod_manifest(
            "tolerates-forever",
            node_name=on_node_2,
            tolerations=[{"key": key, "operator": "Exists", "effect": "NoExecute"}],
        ),
    )
    names = ("untolerating", "tolerates-5s", "tolerates-forever")
    wait_for(
        "the three pods Running on node-2",
        lambda: (
            all(running_and_ready(p) for p in pods_on(k, on_node_2, namespace=ns).values())
            and len(pods_on(k, on_node_2, namespace=ns)) == 3
        ),
    )
    start = time.monotonic()
    assert k.ok("taint", "nodes", on_node_2, f"{key}=now:NoExecute").strip() == f"node/{on_node_2} tainted"
    try:
        evicted_after: dict[str, float] = {}

        def both_evicted() -> bool:
            current = pods_on(k, on_node_2, namespace=ns)
            for name in ("untolerating", "tolerates-5s"):
                if name not in evicted_after and pod_gone_or_terminating(current.get(name)):
                    evicted_after[name] = time.monotonic() - start
            return len(evicted_after) == 2

        wait_for("both untolerating pods evicted", both_evicted, timeout=20, interval=0.2)
        assert evicted_after["untolerating"] < 4.0, evicted_after
        # 5 s after the taint's timeAdded (kept in whole seconds, so up to 1 s early from our clock).
        assert 4.0 <= evicted_after["tolerates-5s"] <= 15.0, evicted_after
        assert running_and_ready(get_or_none(k, "pod", "-n", ns, "tolerates-forever"))

        for kc in kubectls:
            for name in ("untolerating", "tolerates-5s"):
                events = events_for(kc, ns, name, reason="TaintManagerEviction")
                assert [e["message"] for e in events] == [EVICTION_MESSAGE.format(ns=ns, name=name)], events
            # Server-side: the eviction of tolerates-5s came tolerationSeconds after the taint was added.
            # Server-side: tolerates-5s was evicted tolerationSeconds after the untolerating pod, which went
            # at once. (A taint added with kubectl has no timeAdded; upstream times from when it is seen.)
            at = {
                name: parse_time(events_for(kc, ns, name, reason="TaintManagerEviction")[0]["firstTimestamp"])
                for name in ("untolerating", "tolerates-5s")
            }
            assert 4.0 <= (at["tolerates-5s"] - at["untolerating"]).total_seconds() <= 7.0, at
            assert not events_for(kc, ns, "tolerates-forever", reason="TaintManagerEviction")
            listed = kc.ok("get", "events", "-n", ns)
            assert EVICTION_MESSAGE.format(ns=ns, name="untolerating") in listed
            rows = {r["NAME"]: r for r in table(kc.ok("get", "pods", "-n", ns))}
            assert rows["tolerates-forever"]["STATUS"] == "Running"
            assert not {"untolerating", "tolerates-5s"} & {
                n for n, r in rows.items() if r["STATUS"] == "Running"
            }
    finally:
        k.run("taint", "nodes", on_node_2, f"{key}-", check=False)
    assert set(names) >= set(pods_on(k, on_node_2, namespace=ns))


def test_cordon_shows_scheduling_disabled(kubectls: list[Kubectl]) -> None:
    k = kubectls[0]
    ns = new_namespace(k)
    assert k.ok("cordon", "node-3").strip() == "node/node-3 cordoned"
    try:
        for kc in kubectls:
            assert node_row(kc, "node-3")["STATUS"] == "Ready,SchedulingDisabled"
        assert get_json(k, "node", "node-3")["spec"]["unschedulable"] is True
        wait_for(
            "the node.kubernetes.io/unschedulable:NoSchedule taint",
            lambda: (UNSCHEDULABLE, "NoSchedule") in taints(get_json(k, "node", "node-3")),
        )
        n = node_count(k)
        apply(k, ns, pod_manifest("on-cordoned", node_selector={HOSTNAME: "node-3"}))
        events = wait_for(
            "a FailedScheduling event for the pod pinned to the cordoned node",
            lambda: events_for(k, ns, "on-cordoned", reason="FailedScheduling"),
        )
        assert events[0]["message"] == fit_error(
            n, "1 node(s) were unschedulable", f"{n - 1} node(s) didn't match Pod's node affinity/selector"
        )
        for kc in kubectls:
            described = kc.ok("describe", "node", "node-3")
            assert re.search(r"^Unschedulable:\s+true$", described, re.M)
            assert re.search(rf"^Taints:\s+{re.escape(UNSCHEDULABLE)}:NoSchedule$", described, re.M)
    finally:
        assert k.ok("uncordon", "node-3").strip() == "node/node-3 uncordoned"
    for kc in kubectls:
        assert node_row(kc, "node-3")["STATUS"] == "Ready"
    pod = wait_for(
        "the pod Running on node-3 after uncordon",
        lambda: p if running_and_ready(p := get_json(k, "pod", "-n", ns, "on-cordoned")) else None,
    )
    assert pod["spec"]["nodeName"] == "node-3"
    wait_for(
        "the unschedulable taint removed",
        lambda: (UNSCHEDULABLE, "NoSchedule") not in taints(get_json(k, "node", "node-3")),
    )


def test_disk_pressure_condition_gives_noschedule_taint(kubectl: Kubectl, nodes_plane: RunningPlane) -> None:
    out = kubeds_node(nodes_plane.kubeconfig, "condition", "node-3", "DiskPressure=True")
    assert out.strip() == "node/node-3 condition DiskPressure=True"
    try:
        node = wait_for(
            "the disk-pressure NoSchedule taint",
            lambda: (
                n
                if (DISK_PRESSURE, "NoSchedule") in taints(n := get_json(kubectl, "node", "node-3"))
                else None
            ),
        )
        pressure = condition(node, "DiskPressure")
        assert pressure is not None
        assert (pressure["status"], pressure["reason"], pressure["message"]) == (
            "True",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
        )
        assert node_ready_status(node) == "True"
        described = kubectl.ok("describe", "node", "node-3")
        assert re.search(rf"^Taints:\s+{re.escape(DISK_PRESSURE)}:NoSchedule$", described, re.M), described
        assert condition_rows(described)["DiskPressure"][0] == "True"
    finally:
        kubeds_node(nodes_plane.kubeconfig, "condition", "node-3", "DiskPressure=False")
    wait_for(
        "the disk-pressure taint removed",
        lambda: (DISK_PRESSURE, "NoSchedule") not in taints(get_json(kubectl, "node", "node-3")),
    )


# ---------------------------------------------------------------------------------------------
# pods on the node


def test_non_existent_image_fails_to_pull(kubectl: Kubectl) -> None:
    ns = new_namespace(kubectl)
    out = kubectl.ok("run", "broken", "-n", ns, "--image=nginx:non-existent", "--restart=Never")
    assert out.strip() == "pod/broken created"
    row = wait_for(
        "ErrImagePull / ImagePullBackOff in kubectl get pods",
        lambda: (
            r
            if (r := table(kubectl.ok("get", "pods", "-n", ns))[0])["STATUS"]
            in ("ErrImagePull", "ImagePullBackOff")
            else None
        ),
    )
    assert row["READY"] == "0/1"
    pod = get_json(kubectl, "pod", "-n", ns, "broken")
    status = pod["status"]["containerStatuses"][0]
    assert status["ready"] is False
    assert status["state"]["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff")
    assert pod["status"]["phase"] == "Pending"
    assert condition(pod, "Ready")["status"] == "False"  # type: ignore[index]
    failed = events_for(kubectl, ns, "broken", reason="Failed")
    assert any(e["message"].startswith('Failed to pull image "nginx:non-existent": ') for e in failed), failed
    backoff = wait_for("a BackOff event", lambda: events_for(kubectl, ns, "broken", reason="BackOff"))
    assert backoff[0]["message"] == 'Back-off pulling image "nginx:non-existent"'
    assert not running_and_ready(get_json(kubectl, "pod", "-n", ns, "broken"))
    # A fixed image starts the container (the image of a pod's container is mutable).
    assert (
        kubectl.ok("set", "image", "-n", ns, "pod/broken", "broken=nginx:1.27").strip()
        == "pod/broken image updated"
    )
    wait_for(
        "the pod Running with a good image",
        lambda: running_and_ready(get_json(kubectl, "pod", "-n", ns, "broken")),
    )


def test_static_pod_mirror_comes_back_after_delete(
    kubectl: Kubectl, nodes_plane: RunningPlane, tmp_path: Path
) -> None:
    ns = new_namespace(kubectl)
    node = f"static-{kubectl.version.replace('.', '')}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "etcd", "namespace": ns, "labels": {"component": "etcd"}},
        "spec": {"containers": [{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.15-0"}]},
    }
    path = tmp_path / "etcd.yaml"
    path.write_text(yaml.safe_dump(manifest))
    mirror_name = f"etcd-{node}"
    kubeds_node(nodes_plane.kubeconfig, "add", node, "--static-pod", str(path))
    try:
        mirror = wait_for(
            "the mirror pod Running",
            lambda: p if running_and_ready(p := get_or_none(kubectl, "pod", "-n", ns, mirror_name)) else None,
        )
        assert mirror["spec"]["nodeName"] == node
        annotations = mirror["metadata"]["annotations"]
        assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
        assert annotations["kubernetes.io/config.source"] == "file"
        owner = mirror["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == ("Node", node, True)
        row = table(kubectl.ok("get", "pods", "-n", ns, "-o", "wide"))[0]
        assert (row["NAME"], row["STATUS"], row["NODE"]) == (mirror_name, "Running", node)

        out = kubectl.ok("delete", "pod", "-n", ns, mirror_name)
        assert out.strip() == f'pod "{mirror_name}" deleted'
        again = wait_for(
            "the mirror pod recreated",
            lambda: (
                p
                if (p := get_or_none(kubectl, "pod", "-n", ns, mirror_name)) is not None
                and running_and_ready(p)
                and p["metadata"]["uid"] != mirror["metadata"]["uid"]
                else None
            ),
        )
        assert (
            again["metadata"]["annotations"]["kubernetes.io/config.mirror"]
            == annotations["kubernetes.io/config.mirror"]
        )
    finally:
        kubeds_node(nodes_plane.kubeconfig, "remove", node)


# ---------------------------------------------------------------------------------------------
# node failure and removal


def test_failed_node_goes_not_ready_and_its_untolerating_pods_are_evicted(
    kubectls: list[Kubectl], nodes_plane: RunningPlane
) -> None:
    k = kubectls[-1]
    ns = new_namespace(k)
    failing = "node-4"
    short = [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": SHORT_TOLERATION_S}
        for key in (NOT_READY, UNREACHABLE)
    ]
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "agent", "image": "busybox:1.36"}],
                },
            },
        },
    }
    apply(
        k,
        ns,
        daemonset,
        pod_manifest("short", node_selector={HOSTNAME: failing}, tolerations=short, grace=1),
        pod_manifest("elsewhere", node_selector={HOSTNAME: "node-1"}, tolerations=short, grace=1),
    )

    def settled() -> dict[str, dict[str, Any]] | None:
        on = pods_on(k, failing, namespace=ns)
        daemon = [p for p in on.values() if p["metadata"]["name"].startswith("agent-")]
        ok = "short" in on and len(daemon) == 1 and all(running_and_ready(p) for p in on.values())
        return on if ok else None

    before = wait_for(f"the short pod and a DaemonSet pod Running on {failing}", settled)
    daemon_uid = next(p["metadata"]["uid"] for n, p in before.items() if n.startswith("agent-"))

    lease_before = get_json(k, "lease", "-n", "kube-node-lease", failing)["spec"]["renewTime"]
    out = kubeds_node(nodes_plane.kubeconfig, "fail", failing)
    assert out.strip() == f"node/{failing} failed (heartbeats stopped)"
    try:
        node = wait_for(
            f"{failing} Ready=Unknown after the grace period",
            lambda: n if node_ready_status(n := get_json(k, "node", failing)) == "Unknown" else None,
            timeout=NODE_GRACE_S + 25,
            interval=0.5,
        )
        ready = condition(node, "Ready")
        assert ready is not None
        assert (ready["reason"], ready["message"]) == (
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        )
        # Heartbeats stopped: the Lease was renewed at most once more (a renewal already in flight).
        lease_stalled = get_json(k, "lease", "-n", "kube-node-lease", failing)["spec"]["renewTime"]
        stalled_age = (clock.REAL.now() - parse_time(lease_stalled)).total_seconds()
        assert stalled_age >= NODE_GRACE_S - 5, (lease_before, lease_stalled)
        for kc in kubectls:
            assert node_row(kc, failing)["STATUS"] == "NotReady"
            conditions = condition_rows(kc.ok("describe", "node", failing))
            for kind in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
                assert conditions[kind][0] == "Unknown", conditions
                assert conditions[kind][-2:] == ["NodeStatusUnknown", "Kubelet stopped posting node status."]

        tainted = wait_for(
            f"{UNREACHABLE} NoSchedule and NoExecute taints on {failing}",
            lambda: (
                t
                if {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
                <= set(t := taints(get_json(k, "node", failing)))
                else None
            ),
            timeout=20,
        )
        no_execute_added = parse_time(tainted[(UNREACHABLE, "NoExecute")]["timeAdded"])
        for kc in kubectls:
            described = kc.ok("describe", "node", failing)
            assert re.search(rf"^Taints:\s+{re.escape(UNREACHABLE)}:NoExecute$", described, re.M), described
            assert re.search(rf"^\s+{re.escape(UNREACHABLE)}:NoSchedule$", described, re.M), described

        evicted = wait_for(
            "the short pod marked for deletion",
            lambda: p if pod_gone_or_terminating(p := get_or_none(k, "pod", "-n", ns, "short")) else None,
            timeout=SHORT_TOLERATION_S + 15,
        )
        # The eviction came tolerationSeconds after the NoExecute taint (timestamps in whole seconds).
        eviction = parse_time(evicted["metadata"]["deletionTimestamp"]) - dt.timedelta(
            seconds=evicted["metadata"]["deletionGracePeriodSeconds"]
        )
        waited = (eviction - no_execute_added).total_seconds()
        assert SHORT_TOLERATION_S - 1 <= waited <= SHORT_TOLERATION_S + 10, waited
        for kc in kubectls:
            assert [e["message"] for e in events_for(kc, ns, "short", reason="TaintManagerEviction")] == [
                EVICTION_MESSAGE.format(ns=ns, name="short")
            ]
            rows = {r["NAME"]: r for r in table(kc.ok("get", "pods", "-n", ns, "-o", "wide"))}
            assert rows["short"]["STATUS"] == "Terminating", rows["short"]
        # DaemonSet pods tolerate not-ready/unreachable NoExecute without limit: they stay.
        on = pods_on(k, failing, namespace=ns)
        daemon = [p for p in on.values() if p["metadata"]["uid"] == daemon_uid]
        assert daemon and not daemon[0]["metadata"].get("deletionTimestamp"), on
        assert running_and_ready(get_json(k, "pod", "-n", ns, "elsewhere")), (
            "pods on healthy nodes are untouched"
        )
    finally:
        out = kubeds_node(nodes_plane.kubeconfig, "recover", failing)
    assert out.strip() == f"node/{failing} recovered"
    wait_for(f"{failing} Ready again", lambda: node_ready_status(get_json(k, "node", failing)) == "True")
    lease_after = get_json(k, "lease", "-n", "kube-node-lease", failing)["spec"]["renewTime"]
    assert parse_time(lease_after) > parse_time(lease_stalled), "renewals resume on recover"
    for kc in kubectls:
        assert node_row(kc, failing)["STATUS"] == "Ready"
    wait_for(
        "the unreachable taints removed",
        lambda: not {key for key, _ in taints(get_json(k, "node", failing))} & {UNREACHABLE, NOT_READY},
        timeout=20,
    )
    # The recovered kubelet confirms the pending deletion; the DaemonSet pod is the same one, Running.
    wait_for("the evicted pod gone", lambda: get_or_none(k, "pod", "-n", ns, "short") is None)
    after = pods_on(k, failing, namespace=ns)
    assert [p["metadata"]["uid"] for p in after.values()] == [daemon_uid], after
    wait_for(
        "the DaemonSet pod Ready",
        lambda: running_and_ready(pods_on(k, failing, namespace=ns).get(next(iter(after)))),
    )
    k.ok("delete", "daemonset", "-n", ns, "agent")


def test_removed_node_pods_are_deleted(kubectls: list[Kubectl], nodes_plane: RunningPlane) -> None:
    k = kubectls[0]
    ns = new_namespace(k)
    node = "leaving-1"
    assert kubeds_node(nodes_plane.kubeconfig, "add", node).strip() == f"node/{node} created"
    wait_for(f"{node} Ready", lambda: node_ready_status(get_json(k, "node", node)) == "True")
    apply(k, ns, *(pod_manifest(f"bound-{i}", node_selector={HOSTNAME: node}) for i in range(2)))
    wait_for(
        f"two pods Running on {node}",
        lambda: (
            len(on := pods_on(k, node, namespace=ns)) == 2 and all(running_and_ready(p) for p in on.values())
        ),
    )
    assert get_or_none(k, "lease", "-n", "kube-node-lease", node) is not None

    out = kubeds_node(nodes_plane.kubeconfig, "remove", node)
    assert out.strip() == f"node/{node} deleted"
    for kc in kubectls:
        assert (
            kc.fails("get", "node", node).strip() == f'Error from server (NotFound): nodes "{node}" not found'
        )
    assert get_or_none(k, "lease", "-n", "kube-node-lease", node) is None
    # Pod GC deletes pods bound to a node that no longer exists (fast profile: 5 s period + 5 s quarantine).
    wait_for(f"no pod bound to {node}", lambda: not pods_on(k, node, namespace=ns), timeout=40, interval=0.5)
    for kc in kubectls:
        assert kc.run("get", "pods", "-n", ns).stderr.strip() == f"No resources found in {ns} namespace."
