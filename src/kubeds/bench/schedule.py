"""``kubeds bench schedule``: DaemonSet-style pods bound per second by the scheduler.

Shaped after upstream's scheduler_perf ``SchedulingDaemonset`` workload
(``test/integration/scheduler_perf``): N Ready nodes exist, then N pods each pinned to one node
by ``matchFields metadata.name In [node]`` (what the DaemonSet controller creates) are created,
and the throughput is pods bound per second. Upstream's CI threshold for 5,000 nodes is 400 pods/s;
kubeds' target is 1,000 pods/s.

How it is measured, per repeat, on a fresh cluster:

* the API server runs **in process** on the memory backend (the in-process transport runs the
  whole handler pipeline - decoding, defaulting, validation, admission, storage, watch fan-out - but
  no sockets, TLS or SQLite fsyncs), together with the :class:`~kubeds.scheduler.scheduler.Scheduler`,
  in one event loop, as ``kubeds up`` runs them;
* the N nodes are created through the API and the scheduler has listed them before the clock starts;
* the clock runs from the first pod create to the moment a separate watch on pods
  (``fieldSelector=spec.nodeName!=``) has seen every pod bound; pods are created by 64 concurrent
  clients;
* besides wall-clock pods/s, pods per CPU second of the process are reported: everything runs on
  one thread, so on a shared, loaded machine the CPU rate is what an idle core would give;
* **floor**: the same creates plus one ``pods/binding`` POST per pod, sent by the benchmark itself
  with no scheduler running: the API work every scheduled pod costs. The ratio scheduled/floor says
  how much of the API's capacity the scheduler's own work leaves.

Medians over ``repeats`` are reported. Scheduling events beyond the recorder's 1,000-event queue
are dropped as upstream's recorder does; their log lines are silenced during the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from kubeds import clock as clock_mod, heap
from kubeds.apiserver.handler import APIServer
from kubeds.bench import proc as proc_mod
from kubeds.client import api as api_mod, transport
from kubeds.scheduler.scheduler import Scheduler, SchedulerConfig
from kubeds.storage.memory import MemoryBackend

__all__ = ["ScheduleBenchResult", "run"]

TARGET_PODS_PER_S = 1000.0
UPSTREAM_THRESHOLD_PODS_PER_S = 400.0
CREATE_CONCURRENCY = 64
NAMESPACE = "default"
BOUND_PODS = "spec.nodeName!="
QUIET_LOGGERS = ("kubeds.machinery.events", "kubeds.scheduler.scheduler")


@dataclass
class ScheduleBenchResult:
    nodes: int
    pods: int
    repeats: int
    pods_per_s: float
    floor_pods_per_s: float
    pods_per_cpu_s: float = 0.0
    floor_pods_per_cpu_s: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.pods_per_s / self.floor_pods_per_s if self.floor_pods_per_s else 0.0

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["ratio_to_floor"] = round(self.ratio, 2)
        d["targets"] = {"pods_per_s": f">= {TARGET_PODS_PER_S:.0f}"}
        d["transport"] = "in-process API server, memory backend"
        return d

    def render(self) -> str:
        verdict = proc_mod.verdict(self.pods_per_s >= TARGET_PODS_PER_S)
        return "\n".join(
            [
                f"schedule benchmark: {self.pods} DaemonSet-style pods on {self.nodes} nodes "
                f"(in-process API server, memory backend; medians of {self.repeats} runs)",
                f"  floor: create + bind through the API, no scheduler  {self.floor_pods_per_s:8.0f} pods/s",
                f"  scheduled and bound (seen by a watch)              {self.pods_per_s:8.0f} pods/s"
                f"   {self.ratio:4.2f}x floor",
                f"  per CPU second of the process: floor {self.floor_pods_per_cpu_s:.0f} pods,"
                f" scheduled {self.pods_per_cpu_s:.0f} pods (wall rates drop when the machine is shared)",
                f"  target >= {TARGET_PODS_PER_S:.0f} pods/s: {verdict}"
                f" (upstream CI threshold {UPSTREAM_THRESHOLD_PODS_PER_S:.0f} pods/s)",
            ]
        )


def node_body(name: str) -> dict[str, Any]:
    """A Ready node with kubeds' default capacity, as the node simulator registers it."""
    resources = {"cpu": "4", "memory": "16Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def daemon_pod_body(name: str, node: str, *, scheduler_name: str = "default-scheduler") -> dict[str, Any]:
    """A pod as the DaemonSet controller creates it: pinned by matchFields, default tolerations."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    tolerations = [
        {"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": effect}
        for key, effect in (
            ("not-ready", "NoExecute"),
            ("unreachable", "NoExecute"),
            ("disk-pressure", "NoSchedule"),
            ("memory-pressure", "NoSchedule"),
            ("pid-pressure", "NoSchedule"),
            ("unschedulable", "NoSchedule"),
        )
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "bench-ds"}},
        "spec": {
            "schedulerName": scheduler_name,
            "containers": [
                {
                    "name": "agent",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}},
                }
            ],
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
                }
            },
            "tolerations": tolerations,
        },
    }


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in QUIET_LOGGERS]
    for logger, _ in saved:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


@contextlib.asynccontextmanager
async def _cluster() -> AsyncIterator[api_mod.ApiClient]:
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock_mod.REAL)
    await server.start()
    try:
        yield api_mod.ApiClient(transport.InProcessTransport(server.handle))
    finally:
        await server.close()
        await backend.close()


async def _bounded(count: int, make: Callable[[int], Any]) -> None:
    """Run ``make(i)`` for every i with at most CREATE_CONCURRENCY at once."""
    indexes = iter(range(count))

    async def worker() -> None:
        for i in indexes:
            await make(i)

    await asyncio.gather(*(worker() for _ in range(min(CREATE_CONCURRENCY, count))))


async def _wait_all_bound(pods: api_mod.ResourceClient, resource_version: str, total: int) -> None:
    bound: set[str] = set()
    stream = pods.watch(
        namespace=NAMESPACE,
        resource_version=resource_version,
        field_selector=BOUND_PODS,
        allow_bookmarks=False,
    )
    async with contextlib.aclosing(stream) as events:
        async for event in events:
            obj = event.get("object") or {}
            if event.get("type") in ("ADDED", "MODIFIED") and (obj.get("spec") or {}).get("nodeName"):
                bound.add(obj["metadata"]["name"])
                if len(bound) >= total:
                    return


@dataclass(frozen=True)
class _Sample:
    pods_per_s: float
    pods_per_cpu_s: float


async def _timed_pods(
    client: api_mod.ApiClient, count: int, *, node_count: int, bind_directly: bool, scheduler_name: str
) -> _Sample:
    pods = client.resource("v1", "pods")
    listed = await pods.list(namespace=NAMESPACE, limit=1)
    watcher = asyncio.ensure_future(_wait_all_bound(pods, listed["metadata"]["resourceVersion"], count))
    await asyncio.sleep(0)

    async def make(i: int) -> None:
        name, node = f"ds-{i:05d}", f"node-{i % node_count:05d}"
        await pods.create(daemon_pod_body(name, node, scheduler_name=scheduler_name))
        if bind_directly:
            binding = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "target": {"kind": "Node", "name": node},
            }
            await pods.create_subresource(name, "binding", binding, namespace=NAMESPACE)

    heap.freeze_survivors()  # as kubeds up does once its nodes are Ready (see kubeds.heap)
    start, cpu_start = time.perf_counter(), time.process_time()
    await _bounded(count, make)
    await watcher
    return _Sample(count / (time.perf_counter() - start), count / (time.process_time() - cpu_start))


async def _floor(nodes: int, count: int) -> _Sample:
    async with _cluster() as client:
        return await _timed_pods(client, count, node_count=nodes, bind_directly=True, scheduler_name="none")


async def _scheduled(nodes: int, count: int, *, seed: int) -> _Sample:
    async with _cluster() as client:
        node_api = client.resource("v1", "nodes")
        await _bounded(nodes, lambda i: node_api.create(node_body(f"node-{i:05d}")))
        scheduler = Scheduler(client, SchedulerConfig(seed=seed))
        task = asyncio.ensure_future(scheduler.run())
        try:
            await scheduler.wait_for_sync()
            return await _timed_pods(
                client, count, node_count=nodes, bind_directly=False, scheduler_name="default-scheduler"
            )
        finally:
            await scheduler.stop()
            await task


async def run(
    *,
    nodes: int = 5000,
    pods: int | None = None,
    repeats: int = 3,
    progress: Callable[[str], None] = lambda _: None,
) -> ScheduleBenchResult:
    """Measure ``repeats`` times (median reported); ``pods`` defaults to one per node (pod i on node i mod N)."""
    count = nodes if pods is None else pods
    if nodes < 1 or count < 1 or repeats < 1:
        raise ValueError("nodes, pods and repeats must be positive")
    samples: dict[str, list[float]] = {k: [] for k in ("floor", "floor_cpu", "scheduled", "scheduled_cpu")}
    heap.tune_collector()  # the collector settings of every kubeds process
    with _quiet():
        for r in range(repeats):
            progress(f"run {r + 1}/{repeats}: floor ({count} pods created and bound by the client)")
            floor = await _floor(nodes, count)
            samples["floor"].append(floor.pods_per_s)
            samples["floor_cpu"].append(floor.pods_per_cpu_s)
            progress(f"run {r + 1}/{repeats}: scheduler ({count} pods on {nodes} nodes)")
            scheduled = await _scheduled(nodes, count, seed=r)
            samples["scheduled"].append(scheduled.pods_per_s)
            samples["scheduled_cpu"].append(scheduled.pods_per_cpu_s)
    med = statistics.median
    return ScheduleBenchResult(
        nodes=nodes,
        pods=count,
        repeats=repeats,
        pods_per_s=med(samples["scheduled"]),
        floor_pods_per_s=med(samples["floor"]),
        pods_per_cpu_s=med(samples["scheduled_cpu"]),
        floor_pods_per_cpu_s=med(samples["floor_cpu"]),
        samples={k: [round(x, 1) for x in v] for k, v in samples.items()},
    )
