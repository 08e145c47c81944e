"""``kubeds bench drain``: draining a node of 100 Deployment pods, and deleting a big DaemonSet.

Issue 6's performance targets, measured on a separate ``kubeds up --nodes N --node-profile fast``
process (sqlite) in which a DaemonSet runs on every node:

* **drain**: a fresh node gets a DaemonSet pod and ``drain_pods`` (100) pods of a Deployment (bound
  to it, then adopted by the Deployment's ReplicaSet: see :func:`_pin_deployment`). The bench then drains it with
  kubectl's own request sequence (``k8s.io/kubectl/pkg/drain``: cordon PATCH, pod list by
  ``spec.nodeName``, a GET of each pod's DaemonSet, ``GET /api/v1``, one ``pods/eviction`` POST per
  pod, all at once, then a GET of each pod immediately and every second until 404), without
  kubectl's client-side rate limit. A watch records when each evicted pod is gone. Target: the
  evictions complete (last pod gone) within 2 s of the first eviction request; the drain itself
  ends at the next 1 s poll.
* **floor** for the drain: the same number of plain pods bound to one node, deleted by the bench
  with concurrent DELETEs; the ratio says what eviction (budget checks) adds to a delete.
* **real kubectl** (``kubectl drain NODE --ignore-daemonsets -v=6``, the ``kubectl`` on PATH) on
  another such node: wall time, the server's answer time of each eviction (kubectl's own log), and
  the client-side floor: kubectl's REST client allows 5 requests/s after a burst of 10 (client-go
  defaults; kubectl logs "Waited before sending request ... client-side throttling"), so 100
  evictions cannot be *sent* in under 18 s whatever the server does.
* **cascading deletion**: the DaemonSet is grown to ``delete_pods`` (5,000) nodes, then deleted
  with ``kubectl delete ds`` (background propagation; the API if no kubectl): time from the request
  to the last pod gone (watch). Target: 10 s.

Medians over ``repeats`` are reported for the drain parts; the deletion runs once (building a
5,000-pod DaemonSet takes minutes). Upstream reference for the drain sequence: kubectl-wire.md
§5.13; for the cascade: ``pkg/controller/garbagecollector``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kubeds.bench import proc as proc_mod
from kubeds.client import ApiClient, client_from_kubeconfig, errors, load_kubeconfig
from kubeds.nodes import templates

__all__ = ["DrainBenchResult", "KubectlDrain", "eviction_answers", "run"]

NAMESPACE = "bench"
PIN_HASH = "5d8f7c6b9"  # pod-template-hash of the pinned ReplicaSets (any value: adopted as is)
DS_NAME = "agent"
DS_LABEL = "app=bench-agent"
IMAGE = "registry.k8s.io/pause:3.10"
DRAIN_PODS = 100
DELETE_PODS = 5000
TARGET_EVICTIONS_S = 2.0
TARGET_DELETE_S = 10.0
KUBECTL_QPS = 5.0
KUBECTL_BURST = 10
KUBECTL_POLL_S = 1.0
CONCURRENCY = 64
SETUP_TIMEOUT_S = 900.0
# kubectl -v=6 logs each answer; 1.33 as key=value pairs, 1.27 to 1.32 as "POST URL 201 Created in N milliseconds".
_EVICTION_RESPONSES = (
    re.compile(
        r'^I(\d{4} \d\d:\d\d:\d\d\.\d+)\s.*"Response" verb="POST" url="[^"]*/eviction" status="(\d+)[^"]*"'
        r" milliseconds=(\d+)"
    ),
    re.compile(r"^I(\d{4} \d\d:\d\d:\d\d\.\d+)\s.*\] POST \S+/eviction (\d+) .* in (\d+) milliseconds"),
)

Progress = Callable[[str], None]


@dataclass
class KubectlDrain:
    """One real ``kubectl drain`` of a node with ``drain_pods`` Deployment pods."""

    version: str
    wall_s: float
    evictions_span_s: float  # first to last eviction POST answered, by kubectl's own log
    eviction_server_ms_p50: float
    eviction_server_ms_max: float
    client_floor_s: float  # what kubectl's 5 requests/s limit alone costs the eviction POSTs


@dataclass
class DrainBenchResult:
    nodes: int
    drain_pods: int
    delete_pods: int
    repeats: int
    evictions_s: float
    drain_s: float
    floor_delete_s: float
    rescheduled_s: float
    eviction_ms_p50: float
    eviction_ms_p99: float
    delete_s: float
    delete_setup_s: float
    kubectl: KubectlDrain | None = None
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.evictions_s / self.floor_delete_s if self.floor_delete_s else 0.0

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["ratio_evictions_to_floor"] = round(self.ratio, 2)
        d["targets"] = {
            "evictions_s": f"<= {TARGET_EVICTIONS_S:.0f} after the first eviction request",
            "delete_s": f"<= {TARGET_DELETE_S:.0f} for {self.delete_pods} pods",
        }
        return d

    def render(self) -> str:
        def row(label: str, seconds: float, note: str = "") -> str:
            return f"  {label:<54}{seconds:7.2f} s" + (f"   {note}" if note else "")

        lines = [
            f"drain benchmark: kubeds up --nodes {self.nodes} --node-profile fast (sqlite), a DaemonSet on "
            f"every node; medians of {self.repeats} runs",
            row(f"floor: delete {self.drain_pods} bound pods at once, until gone", self.floor_delete_s),
            f"  drain of {self.drain_pods} Deployment pods, kubectl's requests without its rate limit:",
            row(
                "  evictions complete, after the first request",
                self.evictions_s,
                f"{self.ratio:4.2f}x floor (target <= {TARGET_EVICTIONS_S:.0f} s: "
                f"{proc_mod.verdict(self.evictions_s <= TARGET_EVICTIONS_S)})",
            ),
            f"    eviction POST answered in p50 {self.eviction_ms_p50:.0f} ms, p99 {self.eviction_ms_p99:.0f} ms",
            row("  drain done (cordon to the last 1 s poll)", self.drain_s),
            row("  replacements Running on other nodes", self.rescheduled_s),
        ]
        if self.kubectl is not None:
            k = self.kubectl
            lines += [
                row(
                    f"real kubectl {k.version} drain",
                    k.wall_s,
                    f"(its limit of {KUBECTL_QPS:.0f} requests/s alone: >= {k.client_floor_s:.0f} s)",
                ),
                f"    eviction POSTs sent over {k.evictions_span_s:.1f} s; the server answered them in p50 "
                f"{k.eviction_server_ms_p50:.0f} ms, max {k.eviction_server_ms_max:.0f} ms",
            ]
        lines.append(
            row(
                f"delete a {self.delete_pods}-pod DaemonSet to zero pods",
                self.delete_s,
                f"(target <= {TARGET_DELETE_S:.0f} s: {proc_mod.verdict(self.delete_s <= TARGET_DELETE_S)})",
            )
        )
        lines.append(f"    (building that DaemonSet took {self.delete_setup_s:.0f} s)")
        return "\n".join(lines)


# ---- objects ------------------------------------------------------------------------------------


def daemonset_body() -> dict[str, Any]:
    labels = {"app": "bench-agent"}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": DS_NAME, "namespace": NAMESPACE},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": "agent", "image": IMAGE}],
                },
            },
        },
    }


def deployment_body(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": IMAGE}]},
            },
        },
    }


def bound_pod_body(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "bench-floor"}},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": IMAGE}]},
    }


def _running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    return status.get("phase") == "Running" and ready and not pod["metadata"].get("deletionTimestamp")


# ---- helpers over the API -------------------------------------------------------------------------


async def _bounded(items: list[Any], fn: Callable[[Any], Awaitable[Any]]) -> None:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Any) -> None:
        async with sem:
            await fn(item)

    await asyncio.gather(*(one(i) for i in items))


async def _poll(
    what: str, probe: Callable[[], Awaitable[bool]], *, timeout: float, every: float = 0.5
) -> None:
    deadline = time.perf_counter() + timeout
    while not await probe():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)


async def _ds_ready(api: ApiClient, want: int) -> bool:
    ds = await api.resource("apps/v1", "daemonsets").get(DS_NAME, namespace=NAMESPACE)
    st = ds.get("status") or {}
    return bool(st.get("desiredNumberScheduled") == want and st.get("numberReady") == want)


async def _add_node(api: ApiClient, name: str) -> None:
    nodes = api.resource("v1", "nodes")
    await nodes.create(templates.new_node(name, internal_ip=templates.derive_node_ip(name)))
    pods = api.resource("v1", "pods")

    async def agent_running() -> bool:
        listed = await pods.list(
            namespace=NAMESPACE, label_selector=DS_LABEL, field_selector=f"spec.nodeName={name}"
        )
        return any(_running(p) for p in listed.get("items") or [])

    await _poll(f"the DaemonSet pod Running on {name}", agent_running, timeout=120)


async def _pin_deployment(api: ApiClient, node: str, name: str, replicas: int) -> None:
    """Deployment ``name`` with all its ``replicas`` pods Running on ``node``, and no node cordoned.

    Cordoning every other node while the Deployment is created would send the scheduler N node
    updates just before the drain, and a lagging scheduler cache then binds a replacement back to
    the node being drained. So the pods are created bound to ``node`` (``spec.nodeName``), with the
    labels of a ReplicaSet that adopts them, which the Deployment then adopts as its current
    ReplicaSet (same template): the controllers' ordinary adoption, and nothing is scheduled.
    """
    labels = {"app": name, "pod-template-hash": PIN_HASH}
    body = deployment_body(name, replicas)
    template = {"metadata": {"labels": labels}, "spec": body["spec"]["template"]["spec"]}
    pods = api.resource("v1", "pods")
    await _bounded(
        [f"{name}-{PIN_HASH}-{i:03d}" for i in range(replicas)],
        lambda n: pods.create(
            {"metadata": {"name": n, "labels": labels}, "spec": {"nodeName": node, **template["spec"]}},
            namespace=NAMESPACE,
        ),
    )
    replicaset = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"{name}-{PIN_HASH}", "labels": labels},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
    }
    await api.resource("apps/v1", "replicasets").create(replicaset, namespace=NAMESPACE)
    await api.resource("apps/v1", "deployments").create(body, namespace=NAMESPACE)

    async def adopted() -> bool:
        d = await api.resource("apps/v1", "deployments").get(name, namespace=NAMESPACE)
        rs = await api.resource("apps/v1", "replicasets").list(
            namespace=NAMESPACE, label_selector=f"app={name}"
        )
        listed = await pods.list(namespace=NAMESPACE, label_selector=f"app={name}")
        items = listed.get("items") or []
        owned = [
            p
            for p in items
            if any(r.get("kind") == "ReplicaSet" for r in p["metadata"].get("ownerReferences") or [])
        ]
        return (
            (d.get("status") or {}).get("readyReplicas") == replicas
            # (a Deployment synced before it saw the pinned ReplicaSet may have made an empty one)
            and sum(1 for r in rs.get("items") or [] if (r.get("spec") or {}).get("replicas")) == 1
            and len(owned) == replicas == len(items)
            and all(_running(p) and p["spec"].get("nodeName") == node for p in items)
        )

    try:
        await _poll(f"{replicas} pods of Deployment {name} Running on {node}", adopted, timeout=180)
    except RuntimeError as exc:
        listed = await pods.list(namespace=NAMESPACE, label_selector=f"app={name}")
        states: dict[str, int] = {}
        for p in listed.get("items") or []:
            key = f"{(p.get('status') or {}).get('phase')}/owned={bool(p['metadata'].get('ownerReferences'))}"
            states[key] = states.get(key, 0) + 1
        d = await api.resource("apps/v1", "deployments").get(name, namespace=NAMESPACE)
        raise RuntimeError(f"{exc}: pods {states}, deployment status {d.get('status')}") from None


@contextlib.asynccontextmanager
async def _gone_times(api: ApiClient, selector: str) -> AsyncIterator[dict[str, float]]:
    """Watch pods matching ``selector`` in the bench namespace; yield uid -> time its DELETED arrived."""
    pods = api.resource("v1", "pods")
    listed = await pods.list(namespace=NAMESPACE, label_selector=selector, limit=1)
    gone: dict[str, float] = {}

    async def follow() -> None:
        stream = pods.watch(
            namespace=NAMESPACE,
            resource_version=listed["metadata"]["resourceVersion"],
            label_selector=selector,
            allow_bookmarks=False,
        )
        async with contextlib.aclosing(stream) as events:
            async for ev in events:
                if ev["type"] == "DELETED":
                    gone[ev["object"]["metadata"]["uid"]] = time.perf_counter()

    task = asyncio.ensure_future(follow())
    await asyncio.sleep(0.05)
    try:
        yield gone
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _wait_gone(gone: dict[str, float], uids: set[str], what: str, timeout: float) -> float:
    async def all_gone() -> bool:
        return uids <= set(gone)

    await _poll(what, all_gone, timeout=timeout, every=0.02)
    return max(gone[u] for u in uids)


# ---- the measurements ----------------------------------------------------------------------------


async def _floor(api: ApiClient, node: str, count: int, tag: str) -> float:
    pods = api.resource("v1", "pods")
    names = [f"floor-{tag}-{i:03d}" for i in range(count)]
    await _bounded(names, lambda n: pods.create(bound_pod_body(n, node), namespace=NAMESPACE))

    async def running() -> bool:
        listed = await pods.list(namespace=NAMESPACE, label_selector="app=bench-floor")
        return sum(1 for p in listed.get("items") or [] if _running(p)) == count

    await _poll(f"{count} floor pods Running", running, timeout=120)
    listed = await pods.list(namespace=NAMESPACE, label_selector="app=bench-floor")
    uids = {p["metadata"]["uid"] for p in listed["items"]}
    async with _gone_times(api, "app=bench-floor") as gone:
        start = time.perf_counter()
        await asyncio.gather(*(pods.delete(n, namespace=NAMESPACE) for n in names))
        last = await _wait_gone(gone, uids, "the floor pods to go", 60)
    return last - start


@dataclass
class _DrainSample:
    evictions_s: float
    drain_s: float
    rescheduled_s: float
    latencies_ms: list[float]


async def _drain_like_kubectl(api: ApiClient, node: str, deployment: str, replicas: int) -> _DrainSample:
    pods = api.resource("v1", "pods")
    async with _gone_times(api, f"app={deployment}") as gone:
        start = time.perf_counter()
        await api.resource("v1", "nodes").patch(
            node, {"spec": {"unschedulable": True}}, patch_type="strategic"
        )
        listed = await pods.list_all(field_selector=f"spec.nodeName={node}")
        evict: list[dict[str, Any]] = []
        for p in listed.get("items") or []:
            owner = next((r for r in p["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
            if owner and owner.get("kind") == "DaemonSet":
                ns = p["metadata"]["namespace"]
                await api.resource("apps/v1", "daemonsets").get(owner["name"], namespace=ns)
                continue
            if "kubernetes.io/config.mirror" in (p["metadata"].get("annotations") or {}):
                continue
            evict.append(p)
        await api.request_json("GET", "/api/v1")
        latencies: list[float] = []

        async def evict_and_wait(p: dict[str, Any]) -> None:
            name, ns, uid = p["metadata"]["name"], p["metadata"]["namespace"], p["metadata"]["uid"]
            body = {
                "kind": "Eviction",
                "apiVersion": "policy/v1",
                "metadata": {"name": name, "namespace": ns, "creationTimestamp": None},
                "deleteOptions": {},
            }
            t0 = time.perf_counter()
            await pods.create_subresource(name, "eviction", body, namespace=ns)
            latencies.append((time.perf_counter() - t0) * 1000)
            while True:
                try:
                    live = await pods.get(name, namespace=ns)
                except errors.NotFound:
                    return
                if live["metadata"]["uid"] != uid:
                    return
                await asyncio.sleep(KUBECTL_POLL_S)

        first = time.perf_counter()
        await asyncio.gather(*(evict_and_wait(p) for p in evict))
        done = time.perf_counter()
        uids = {p["metadata"]["uid"] for p in evict}
        last_gone = await _wait_gone(gone, uids, "the evicted pods to go", 60)
    deployments = api.resource("apps/v1", "deployments")

    async def rescheduled() -> bool:
        d = await deployments.get(deployment, namespace=NAMESPACE)
        listed = await pods.list(namespace=NAMESPACE, label_selector=f"app={deployment}")
        items = [p for p in listed.get("items") or [] if _running(p)]
        return (d.get("status") or {}).get("readyReplicas") == replicas and all(
            p["spec"].get("nodeName") != node for p in items
        )

    try:
        await _poll("the replacements Running elsewhere", rescheduled, timeout=120, every=0.1)
    except RuntimeError as exc:
        d = await deployments.get(deployment, namespace=NAMESPACE)
        listed = await pods.list(namespace=NAMESPACE, label_selector=f"app={deployment}")
        phases: dict[str, int] = {}
        for p in listed.get("items") or []:
            where = (
                "unbound"
                if not p["spec"].get("nodeName")
                else ("target" if p["spec"]["nodeName"] == node else "other")
            )
            key = f"{(p.get('status') or {}).get('phase')}/{where}"
            phases[key] = phases.get(key, 0) + 1
        raise RuntimeError(f"{exc}: deployment status {d.get('status')}, pods {phases}") from None
    return _DrainSample(last_gone - first, done - start, time.perf_counter() - first, latencies)


def _kubectl_version(binary: str) -> str:
    res = subprocess.run(
        [binary, "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=30
    )
    try:
        return str(json.loads(res.stdout)["clientVersion"]["gitVersion"])
    except (ValueError, KeyError):
        return "?"


def eviction_answers(log: str) -> list[tuple[dt.datetime, float]]:
    """(time logged, server milliseconds) of each eviction POST answer in kubectl's ``-v=6`` log."""
    out = []
    for line in log.splitlines():
        m = next((m for r in _EVICTION_RESPONSES if (m := r.match(line))), None)
        if m:
            out.append((dt.datetime.strptime(m.group(1), "%m%d %H:%M:%S.%f"), float(m.group(3))))
    return out


def _kubectl_drain(binary: str, kubeconfig: Path, node: str, pods: int, cache: str) -> KubectlDrain:
    cmd = [
        binary,
        "--kubeconfig",
        str(kubeconfig),
        "--cache-dir",
        cache,
        "drain",
        node,
        "--ignore-daemonsets",
        "-v=6",
    ]
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"kubectl drain failed: {res.stderr[-2000:]}")
    answers = eviction_answers(res.stderr)
    stamps = [t for t, _ in answers]
    server_ms = [ms for _, ms in answers]
    span = (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0
    return KubectlDrain(
        version=_kubectl_version(binary),
        wall_s=wall,
        evictions_span_s=span,
        eviction_server_ms_p50=proc_mod.pct(server_ms, 50),
        eviction_server_ms_max=max(server_ms, default=0.0),
        client_floor_s=max(0.0, (pods - KUBECTL_BURST) / KUBECTL_QPS),
    )


async def _delete_daemonset(
    api: ApiClient, *, kubectl: str | None, kubeconfig: Path, cache: str
) -> tuple[float, int]:
    pods = api.resource("v1", "pods")
    listed = await pods.list_all(namespace=NAMESPACE, label_selector=DS_LABEL)
    uids = {p["metadata"]["uid"] for p in listed.get("items") or []}
    async with _gone_times(api, DS_LABEL) as gone:
        start = time.perf_counter()
        if kubectl:
            cmd = [
                kubectl,
                "--kubeconfig",
                str(kubeconfig),
                "--cache-dir",
                cache,
                "delete",
                "ds",
                DS_NAME,
                "-n",
                NAMESPACE,
            ]
            res = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, timeout=600)
            if res.returncode != 0:
                raise RuntimeError(f"kubectl delete ds failed: {res.stderr}")
        else:
            await api.resource("apps/v1", "daemonsets").delete(
                DS_NAME, namespace=NAMESPACE, propagation_policy="Background"
            )
        last = await _wait_gone(gone, uids, "every DaemonSet pod to go", 300)
    return last - start, len(uids)


async def _measure(
    api: ApiClient,
    *,
    kubeconfig: Path,
    nodes: int,
    drain_pods: int,
    delete_pods: int,
    repeats: int,
    kubectl: str | None,
    cache: str,
    progress: Progress,
) -> DrainBenchResult:
    await api.resource("v1", "namespaces").create({"metadata": {"name": NAMESPACE}})
    progress(f"DaemonSet on {nodes} nodes")
    await api.resource("apps/v1", "daemonsets").create(daemonset_body(), namespace=NAMESPACE)
    await _poll(
        f"the DaemonSet Ready on {nodes} nodes",
        lambda: _ds_ready(api, nodes),
        timeout=SETUP_TIMEOUT_S,
        every=1,
    )
    samples: dict[str, list[float]] = {k: [] for k in ("floor", "evictions", "drain", "rescheduled")}
    latencies: list[float] = []
    kubectl_runs: list[KubectlDrain] = []
    total = nodes
    for r in range(repeats):
        progress(f"run {r + 1}/{repeats}: floor (delete {drain_pods} bound pods)")
        samples["floor"].append(await _floor(api, f"node-{r % nodes + 1}", drain_pods, str(r)))
        target = f"drain-{r}"
        progress(f"run {r + 1}/{repeats}: {drain_pods} Deployment pods on {target}")
        await _add_node(api, target)
        total += 1
        await _pin_deployment(api, target, f"web-d{r}", drain_pods)
        progress(f"run {r + 1}/{repeats}: draining {target}")
        s = await _drain_like_kubectl(api, target, f"web-d{r}", drain_pods)
        samples["evictions"].append(s.evictions_s)
        samples["drain"].append(s.drain_s)
        samples["rescheduled"].append(s.rescheduled_s)
        latencies += s.latencies_ms
        if kubectl:
            ktarget = f"kdrain-{r}"
            progress(f"run {r + 1}/{repeats}: {drain_pods} Deployment pods on {ktarget}, then kubectl drain")
            await _add_node(api, ktarget)
            total += 1
            await _pin_deployment(api, ktarget, f"web-k{r}", drain_pods)
            kubectl_runs.append(
                await asyncio.to_thread(_kubectl_drain, kubectl, kubeconfig, ktarget, drain_pods, cache)
            )
    setup_start = time.perf_counter()
    if delete_pods > total:
        grow = [f"grow-{i:05d}" for i in range(delete_pods - total)]
        progress(f"adding {len(grow)} nodes: the DaemonSet grows to {delete_pods} pods")
        node_api = api.resource("v1", "nodes")
        await _bounded(
            grow, lambda n: node_api.create(templates.new_node(n, internal_ip=templates.derive_node_ip(n)))
        )
        total = delete_pods
    progress(f"waiting for {total} DaemonSet pods Ready")
    await _poll(
        f"the DaemonSet Ready on {total} nodes",
        lambda: _ds_ready(api, total),
        timeout=SETUP_TIMEOUT_S,
        every=2,
    )
    setup = time.perf_counter() - setup_start
    progress(f"deleting the {total}-pod DaemonSet")
    delete_s, deleted = await _delete_daemonset(api, kubectl=kubectl, kubeconfig=kubeconfig, cache=cache)
    med = statistics.median
    kubectl_med = None
    if kubectl_runs:
        kubectl_runs.sort(key=lambda k: k.wall_s)
        kubectl_med = kubectl_runs[len(kubectl_runs) // 2]
    return DrainBenchResult(
        nodes=nodes,
        drain_pods=drain_pods,
        delete_pods=deleted,
        repeats=repeats,
        evictions_s=med(samples["evictions"]),
        drain_s=med(samples["drain"]),
        floor_delete_s=med(samples["floor"]),
        rescheduled_s=med(samples["rescheduled"]),
        eviction_ms_p50=proc_mod.pct(latencies, 50),
        eviction_ms_p99=proc_mod.pct(latencies, 99),
        delete_s=delete_s,
        delete_setup_s=setup,
        kubectl=kubectl_med,
        samples={k: [round(x, 3) for x in v] for k, v in samples.items()}
        | {"kubectl_wall": [round(k.wall_s, 2) for k in kubectl_runs]},
    )


async def run(
    *,
    nodes: int = 1000,
    drain_pods: int = DRAIN_PODS,
    delete_pods: int = DELETE_PODS,
    repeats: int = 3,
    kubectl: str | None = "",
    progress: Progress = lambda _: None,
) -> DrainBenchResult:
    """Start a plane, measure, stop it. ``kubectl=""`` looks ``kubectl`` up on PATH; ``None`` skips it."""
    if nodes < 1 or drain_pods < 1 or repeats < 1:
        raise ValueError("nodes, drain_pods and repeats must be positive")
    binary = shutil.which("kubectl") if kubectl == "" else kubectl
    with tempfile.TemporaryDirectory(prefix="kubeds-bench-drain-") as tmp:
        progress(f"starting kubeds up --nodes {nodes} --node-profile fast")
        up_args = ["--nodes", str(nodes), "--node-profile", "fast", "--data-dir", tmp]
        async with proc_mod.kubeds_up(up_args, stop_timeout=60):
            kubeconfig = Path(tmp) / "kubeconfig"
            api = client_from_kubeconfig(load_kubeconfig(kubeconfig), user_agent="kubeds-bench-drain")
            try:
                return await _measure(
                    api,
                    kubeconfig=kubeconfig,
                    nodes=nodes,
                    drain_pods=drain_pods,
                    delete_pods=delete_pods,
                    repeats=repeats,
                    kubectl=binary,
                    cache=str(Path(tmp) / "kubectl-cache"),
                    progress=progress,
                )
            finally:
                await api.close()
