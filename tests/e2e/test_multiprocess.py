"""Fault tests of multi-process mode (issue 8), with real processes on 127.0.0.1.

Topology (helpers_multiprocess.Cluster): a three-member etcd cluster; API servers ``a`` and ``b``
sharing it; controller-managers ``cm-a``/``cm-b`` and schedulers ``sched-a``/``sched-b`` (the ``-a``
ones talk to server ``a`` and lead at first); one ``kubeds nodes`` on ``b``; six simulated nodes.
The tests run in file order on one cluster, each leaving it whole again for the next:

* watches through either API server see every write, in order, whichever server made it;
* SIGKILL the leading controller-manager mid-way through a DaemonSet rolling update: the standby
  takes over once the lease runs out and the rollout completes, never exceeding maxUnavailable
  (checked on every pod event watched through server ``b``);
* SIGKILL API server ``a``: the leaders that talked to it step down (exit 1, as upstream), the
  standbys on ``b`` take over, and clients of ``b`` carry on;
* SIGKILL an etcd member (the one both API servers talk to): writes continue; restarted, it catches up;
* stop everything, start it again: every stored object is exactly as it was.

And single-process SQLite: SIGKILL ``kubeds up`` in the middle of a rollout and start it again on the
same data dir: every acknowledged write is there and the rollout completes.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl, kubectl_binary, start_plane, stop_plane
from tests.e2e.helpers_multiprocess import (
    JITTER_FACTOR,
    LEASE_DURATION,
    RETRY_PERIOD,
    Cluster,
    Http,
    etcd_server,
    poll,
)

NODES = 6
OLD_IMAGE = "registry.k8s.io/pause:3.9"
NEW_IMAGE = "registry.k8s.io/pause:3.10"
CM_LEASE = "kube-controller-manager"
SCHED_LEASE = "kube-scheduler"
# A standby takes over once the record it last saw change is lease-duration old; it notices at its
# next attempt (retry period plus up to 120 % jitter), and it may have seen the leader's last
# renewal up to one such interval late: lease duration + 2 x (1 + jitter) x retry, plus 1 s of
# process and API latency on a loaded machine.
TAKEOVER_BOUND = LEASE_DURATION + 2 * (1 + JITTER_FACTOR) * RETRY_PERIOD + 1.0
ROLLOUT_TIMEOUT = "90s"


def daemonset(name: str, namespace: str, *, image: str = OLD_IMAGE, min_ready: int = 1) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "minReadySeconds": min_ready,
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "terminationGracePeriodSeconds": 0,
                        "containers": [{"name": "c", "image": image}],
                    },
                },
            },
        }
    )


def kubeds(*args: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "kubeds", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert res.returncode == 0, f"kubeds {' '.join(args)}: {res.stderr}"
    return res.stdout


def ready_nodes(http: Http) -> int:
    items = http.get("/api/v1/nodes")["items"]
    return sum(
        1
        for n in items
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
    )


def is_ready(pod: dict[str, Any]) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


class PodWatch:
    """Watches one DaemonSet's pods through one API server and checks every state it passes through.

    After each event (they arrive in storage revision order) it counts the nodes that have no Ready,
    non-terminating pod: the unavailable nodes at that revision, which must never exceed
    maxUnavailable (the controller's own count, with minReadySeconds, can only be higher).
    """

    def __init__(self, http: Http, namespace: str, app: str, nodes: int) -> None:
        self.http, self.namespace, self.app, self.nodes = http, namespace, app, nodes
        self.pods: dict[str, dict[str, Any]] = {}
        self.max_unavailable = 0
        self.updated_ready = 0
        self.events = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        base = f"/api/v1/namespaces/{namespace}/pods?labelSelector=app%3D{app}"
        listed = http.get(base)
        for p in listed["items"]:
            self.pods[p["metadata"]["name"]] = p
        self._rv = listed["metadata"]["resourceVersion"]
        self._path = base
        self._recount()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _recount(self) -> None:
        serving = {
            p["spec"].get("nodeName")
            for p in self.pods.values()
            if is_ready(p) and not p["metadata"].get("deletionTimestamp")
        }
        self.max_unavailable = max(self.max_unavailable, self.nodes - len(serving))
        self.updated_ready = len(
            {
                p["spec"].get("nodeName")
                for p in self.pods.values()
                if is_ready(p)
                and not p["metadata"].get("deletionTimestamp")
                and p["spec"]["containers"][0]["image"] == NEW_IMAGE
            }
        )

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                path = f"{self._path}&watch=1&resourceVersion={self._rv}&timeoutSeconds=30"
                for ev in self.http.watch(path, timeout=60):
                    obj = ev["object"]
                    if ev["type"] == "ERROR":
                        raise AssertionError(f"watch error: {obj}")
                    self._rv = obj["metadata"]["resourceVersion"]
                    if ev["type"] == "BOOKMARK":
                        continue
                    self.events += 1
                    if ev["type"] == "DELETED":
                        self.pods.pop(obj["metadata"]["name"], None)
                    else:
                        self.pods[obj["metadata"]["name"]] = obj
                    self._recount()
                    if self._stop.is_set():
                        return
        except BaseException as exc:  # reported by the test
            self.error = exc

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("multiprocess"))
    try:
        c.start_etcd()
        c.define()
        c.start_all()
        kubeds("node", "add", "--count", str(NODES), "--kubeconfig", str(c.kubeconfig("a")))
        poll(f"{NODES} Ready nodes", lambda: ready_nodes(c.http("b")) == NODES, timeout=30)
        yield c
    except BaseException:
        print(c.logs())
        raise
    finally:
        c.teardown()


@pytest.fixture(scope="module")
def kubectl_bin() -> str:
    return kubectl_binary("1.33")


def kubectl_on(cluster: Cluster, server: str, binary: str, tmp: Path) -> Kubectl:
    return Kubectl(binary, "1.33", cluster.kubeconfig(server), tmp / f"cache-{server}")


@pytest.fixture(scope="module")
def namespace(cluster: Cluster) -> str:
    name = f"mp-{uuid.uuid4().hex[:8]}"
    cluster.http("a").json(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    return name


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}}


def test_watches_through_either_server_see_every_write_in_order(cluster: Cluster, namespace: str) -> None:
    a, b = cluster.http("a"), cluster.http("b")
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    start_rv = a.get(path)["metadata"]["resourceVersion"]
    seen: dict[str, list[tuple[str, int]]] = {"a": [], "b": []}

    def watch(server: str, http: Http) -> None:
        for ev in http.watch(f"{path}?watch=1&resourceVersion={start_rv}&timeoutSeconds=20", timeout=30):
            if ev["type"] == "ADDED":
                meta = ev["object"]["metadata"]
                seen[server].append((meta["name"], int(meta["resourceVersion"])))
                if len(seen[server]) == 20:
                    return

    threads = [threading.Thread(target=watch, args=(s, h), daemon=True) for s, h in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    written = []
    for i in range(20):
        via = a if i % 2 == 0 else b
        created = via.json("POST", path, configmap(f"w-{i:02d}"))
        written.append((created["metadata"]["name"], int(created["metadata"]["resourceVersion"])))
    for t in threads:
        t.join(timeout=20)
    assert seen["a"] == written
    assert seen["b"] == written
    assert [rv for _, rv in written] == sorted(rv for _, rv in written)


def test_controller_manager_failover_during_rolling_update(
    cluster: Cluster, namespace: str, kubectl_bin: str, tmp_path: Path
) -> None:
    ka = kubectl_on(cluster, "a", kubectl_bin, tmp_path)
    kb = kubectl_on(cluster, "b", kubectl_bin, tmp_path)
    ka.ok("apply", "-f", "-", input=daemonset("roll", namespace))
    kb.ok("rollout", "status", "ds/roll", "-n", namespace, f"--timeout={ROLLOUT_TIMEOUT}")
    watcher = PodWatch(cluster.http("b"), namespace, "roll", NODES)
    try:
        assert watcher.max_unavailable == 0
        ka.ok("set", "image", "ds/roll", f"c={NEW_IMAGE}", "-n", namespace)
        poll("two nodes updated", lambda: watcher.updated_ready >= 2, timeout=30, interval=0.05)
        updated_at_kill = watcher.updated_ready

        b = cluster.http("b")
        leader = next(n for n in ("cm-a", "cm-b") if cluster.identity(n) == b.lease_holder(CM_LEASE))
        standby = "cm-b" if leader == "cm-a" else "cm-a"
        killed_at = time.monotonic()
        cluster.components[leader].kill()
        poll(
            f"{standby} to take over",
            lambda: b.lease_holder(CM_LEASE) == cluster.identity(standby),
            timeout=3 * TAKEOVER_BOUND,
            interval=0.05,
        )
        takeover = time.monotonic() - killed_at

        kb.ok("rollout", "status", "ds/roll", "-n", namespace, f"--timeout={ROLLOUT_TIMEOUT}")
        poll("the watch to see every node updated", lambda: watcher.updated_ready == NODES, timeout=10)
    finally:
        watcher.stop()
    print(
        f"killed {leader} with {updated_at_kill}/{NODES} nodes updated; {standby} took over after "
        f"{takeover:.2f} s; at most {watcher.max_unavailable} unavailable in {watcher.events} pod events"
    )
    assert watcher.error is None, watcher.error
    assert 2 <= updated_at_kill < NODES, "the controller-manager was not killed mid-rollout"
    # The standby waited for the lease to run out (it did not grab a live lease) and no longer.
    assert LEASE_DURATION - 2 * RETRY_PERIOD <= takeover <= TAKEOVER_BOUND, takeover
    assert watcher.max_unavailable <= 1, f"{watcher.max_unavailable} nodes unavailable at once"
    pods = cluster.http("b").get(f"/api/v1/namespaces/{namespace}/pods?labelSelector=app%3Droll")["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(f"node-{i}" for i in range(1, NODES + 1))
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {NEW_IMAGE}
    # A supervisor restarts the crashed process; it comes back as the standby.
    cluster.start(leader)
    time.sleep(2 * RETRY_PERIOD)
    assert b.lease_holder(CM_LEASE) == cluster.identity(standby)


def test_apiserver_killed_clients_of_the_other_carry_on(
    cluster: Cluster, namespace: str, kubectl_bin: str, tmp_path: Path
) -> None:
    ka = kubectl_on(cluster, "a", kubectl_bin, tmp_path)
    kb = kubectl_on(cluster, "b", kubectl_bin, tmp_path)
    b = cluster.http("b")
    leaders_on_a = [
        n
        for n, lease in (("cm-a", CM_LEASE), ("sched-a", SCHED_LEASE))
        if b.lease_holder(lease) == cluster.identity(n)
    ]
    assert "sched-a" in leaders_on_a  # the scheduler on server a leads since start_all

    cluster.components["api-a"].kill()
    assert "refused" in ka.fails("get", "nodes")
    # Leaders that can no longer renew step down and exit 1, as upstream components do.
    for name in leaders_on_a:
        assert cluster.components[name].wait_exit(timeout=TAKEOVER_BOUND + 5) == 1
        lost = "Leaderelection lost" if name.startswith("sched") else "leaderelection lost"
        assert lost in cluster.components[name].tail()
    poll("sched-b to lead", lambda: b.lease_holder(SCHED_LEASE) == cluster.identity("sched-b"), timeout=15)
    poll("cm-b to lead", lambda: b.lease_holder(CM_LEASE) == cluster.identity("cm-b"), timeout=15)

    # Clients of b carry on: a new DaemonSet is scheduled, created and run on every node.
    kb.ok("apply", "-f", "-", input=daemonset("after-a", namespace, min_ready=0))
    kb.ok("rollout", "status", "ds/after-a", "-n", namespace, f"--timeout={ROLLOUT_TIMEOUT}")
    pods = b.get(f"/api/v1/namespaces/{namespace}/pods?labelSelector=app%3Dafter-a")["items"]
    assert len({p["spec"]["nodeName"] for p in pods if is_ready(p)}) == NODES
    assert ready_nodes(b) == NODES

    # Restart what died: server a on its port, and the components that exited.
    cluster.start("api-a")
    for name in ("cm-a", "sched-a"):
        if not cluster.components[name].running:
            cluster.start(name)
    assert "after-a" in ka.ok("get", "ds", "-n", namespace)


def etcd_json(member: etcd_server.EtcdMember, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One call to an etcd member's JSON gateway (``/v3/...``)."""
    req = urllib.request.Request(f"{member.client_url}{path}", data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        out: dict[str, Any] = json.loads(resp.read())
        return out


def etcd_count(member: etcd_server.EtcdMember, prefix: str, *, serializable: bool) -> int:
    """Keys under ``prefix`` as one member answers; a serializable read comes from its own store."""
    key = prefix.encode()
    end = key[:-1] + bytes([key[-1] + 1])
    out = etcd_json(
        member,
        "/v3/kv/range",
        {
            "key": base64.b64encode(key).decode(),
            "range_end": base64.b64encode(end).decode(),
            "count_only": True,
            "serializable": serializable,
        },
    )
    return int(out.get("count", 0))


def etcd_leader(members: list[etcd_server.EtcdMember]) -> etcd_server.EtcdMember:
    ids = {}
    leader = ""
    for m in members:
        if m.running:
            status = etcd_json(m, "/v3/maintenance/status", {})
            ids[status["header"]["member_id"]] = m
            leader = status["leader"]
    return ids[leader]


def create_with_retries(http: Http, path: str, name: str, *, deadline: float) -> int:
    """Create a ConfigMap, retrying 5xx answers (as clients do) until ``deadline``; the failures seen.

    A retry that finds the object already there means the failed attempt was applied after all.
    """
    failures = 0
    while True:
        try:
            http.json("POST", path, configmap(name))
            return failures
        except urllib.error.HTTPError as exc:
            if exc.code == 409 and failures:
                assert http.get(f"{path}/{name}")["data"] == {"k": name}
                return failures
            if exc.code < 500 or time.monotonic() > deadline:
                raise
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
        failures += 1
        time.sleep(0.2)


def test_etcd_member_killed_writes_continue_and_it_catches_up(cluster: Cluster, namespace: str) -> None:
    a, b = cluster.http("a"), cluster.http("b")
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    prefix = f"/registry/core/configmaps/{namespace}/"
    in_use = cluster.etcd[0]  # the first endpoint: both API servers talk to it
    leader = etcd_leader(cluster.etcd)
    if leader is in_use:  # make it a follower, so that its death does not also mean an election
        target = etcd_json(cluster.etcd[1], "/v3/maintenance/status", {})["header"]["member_id"]
        etcd_json(in_use, "/v3/maintenance/transfer-leadership", {"targetID": target})
        poll("etcd leadership to move", lambda: etcd_leader(cluster.etcd) is cluster.etcd[1], timeout=10)

    # 1. The member both servers use dies: not one write fails.
    in_use.kill()
    written = []
    for i in range(30):
        via = a if i % 2 == 0 else b
        written.append(via.json("POST", path, configmap(f"e-{i:02d}"))["metadata"]["name"])
    assert {item["metadata"]["name"] for item in b.get(path)["items"]} >= set(written)
    # Restarted, it catches up: a serializable read is answered from its own store.
    want = etcd_count(cluster.etcd[1], prefix, serializable=False)
    assert want >= len(written)
    in_use.start()
    poll(
        "the restarted member to catch up",
        lambda: etcd_count(in_use, prefix, serializable=True) == want,
        timeout=20,
    )

    # 2. The raft leader dies: writes stall for the election (etcd answers "request timed out" to
    # what was in flight) and then continue; every acknowledged write is kept.
    leader = etcd_leader(cluster.etcd)
    leader.kill()
    deadline = time.monotonic() + 30
    more = [f"l-{i:02d}" for i in range(10)]
    # Bounded: every write is acknowledged within the deadline (etcd's request timeout is 7 s).
    for i, name in enumerate(more):
        create_with_retries(a if i % 2 else b, path, name, deadline=deadline)
    names = {item["metadata"]["name"] for item in a.get(path)["items"]}
    assert names >= set(written) | set(more)
    leader.start()
    want = etcd_count(in_use, prefix, serializable=False)
    poll(
        "the old leader to catch up",
        lambda: etcd_count(leader, prefix, serializable=True) == want,
        timeout=20,
    )


def test_stop_everything_and_start_again_every_object_as_it_was(
    cluster: Cluster, namespace: str, kubectl_bin: str, tmp_path: Path
) -> None:
    cluster.stop_components()
    before = cluster.http("b").snapshot()
    assert any(k.startswith("apps/daemonsets/") for k in before)
    cluster.stop_apiservers()
    for m in cluster.etcd:
        m.stop()
    for m in cluster.etcd:
        m.launch()
    for m in cluster.etcd:
        m.wait_healthy()
    cluster.start("api-a")
    cluster.start("api-b")
    for server in ("a", "b"):
        after = cluster.http(server).snapshot()
        assert after.keys() == before.keys()
        changed = [k for k in before if before[k] != after[k]]
        assert not changed, f"changed across the restart: {changed[:5]}"

    # And the cluster works again: nodes Ready, the DaemonSets' pods in place, an update rolls out.
    cluster.start_all_components()
    kb = kubectl_on(cluster, "b", kubectl_bin, tmp_path)
    poll(f"{NODES} Ready nodes", lambda: ready_nodes(cluster.http("b")) == NODES, timeout=30)
    kb.ok("set", "image", "ds/after-a", f"c={NEW_IMAGE}", "-n", namespace)
    kb.ok("rollout", "status", "ds/after-a", "-n", namespace, f"--timeout={ROLLOUT_TIMEOUT}")


# -- single process, SQLite ----------------------------------------------------------------------


def test_sqlite_up_killed_mid_rollout_loses_nothing_and_the_rollout_completes(tmp_path: Path) -> None:
    data = tmp_path / "plane"
    plane = start_plane(data, "--nodes", str(NODES))
    try:
        k = Kubectl(kubectl_binary("1.33"), "1.33", plane.kubeconfig, tmp_path / "cache")
        http = Http(plane.kubeconfig)
        ns = f"crash-{uuid.uuid4().hex[:6]}"
        k.ok("create", "namespace", ns)
        k.ok("apply", "-f", "-", input=daemonset("roll", ns))
        k.ok("rollout", "status", "ds/roll", "-n", ns, f"--timeout={ROLLOUT_TIMEOUT}")
        watcher = PodWatch(http, ns, "roll", NODES)
        acknowledged: list[str] = []
        writing = threading.Event()
        writing.set()

        def writer() -> None:
            i = 0
            while writing.is_set():
                try:
                    http.json("POST", f"/api/v1/namespaces/{ns}/configmaps", configmap(f"ack-{i:04d}"))
                except (OSError, urllib.error.URLError):
                    return  # the plane is gone
                acknowledged.append(f"ack-{i:04d}")
                i += 1

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        k.ok("set", "image", "ds/roll", f"c={NEW_IMAGE}", "-n", ns)
        poll("two nodes updated", lambda: watcher.updated_ready >= 2, timeout=30, interval=0.05)
        updated_at_kill = watcher.updated_ready
        plane.proc.kill()
        plane.proc.communicate(timeout=10)
        writing.clear()
        thread.join(timeout=10)
        watcher.stop()
    except BaseException:
        plane.proc.kill()
        raise
    assert 2 <= updated_at_kill < NODES, "kubeds up was not killed mid-rollout"
    assert len(acknowledged) > 10

    plane = start_plane(data, "--nodes", str(NODES))
    try:
        http = Http(plane.kubeconfig)
        names = {c["metadata"]["name"] for c in http.get(f"/api/v1/namespaces/{ns}/configmaps")["items"]}
        missing = [n for n in acknowledged if n not in names]
        assert not missing, f"acknowledged but lost: {missing[:5]}"
        k = Kubectl(kubectl_binary("1.33"), "1.33", plane.kubeconfig, tmp_path / "cache2")
        k.ok("rollout", "status", "ds/roll", "-n", ns, f"--timeout={ROLLOUT_TIMEOUT}")
        pods = http.get(f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3Droll")["items"]
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {NEW_IMAGE}
        assert len({p["spec"]["nodeName"] for p in pods}) == NODES
    finally:
        stop_plane(plane)
