"""``kubeds bench daemonset --nodes N``: a DaemonSet rolled out to N nodes, then rolling-updated.

What the issue ("The DaemonSet controller") asks to measure, in one run:

1. **rollout**: from the create of a DaemonSet to every pod Ready and ``status.numberReady == N``;
2. **rolling update** of all N pods with ``maxUnavailable: 10%`` (``ceil(N/10)``, rounded up as
   upstream): from the image patch to every node running a Ready pod of the new template and the
   status saying so; and the **largest number of nodes without an available daemon pod** at any
   moment, taken from a watch of the pods (every event is one state of the cluster), so a budget
   overrun cannot hide between samples;
3. **peak RSS** of the process (``ru_maxrss``): everything runs in it;
4. **storage floor**: the number of storage writes both phases made (the backend's revision
   counter, so leases, events and status writes count too) replayed on a fresh backend of the same
   kind by 64 concurrent writers with 2 KiB values (on etcd: the same etcd, under a key prefix of
   its own); phase time / floor time says how far the whole stack is from the store's own speed
   for the same writes.

The plane runs **in process** (:class:`kubeds.plane.Plane`, ``--node-profile fast``, the chosen
storage; for etcd, the endpoints given: :mod:`kubeds.bench.daemonset_etcd` runs sqlite and etcd
side by side): API server, controller manager, scheduler and node simulator in one event loop, as
``kubeds up`` runs them; the benchmark talks to it through the in-process transport (the whole
handler pipeline, no sockets). Targets at N = 5,000: rollout within 10 s, rolling update within
20 s without exceeding the budget, RSS under 1.5 GB. Upstream's 5,000-node scale test creates
about 100 DaemonSet pods a second (docs anchors.md §A3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kubeds.client import api as api_mod
from kubeds.plane import Plane, PlaneConfig
from kubeds.storage import factory
from kubeds.storage.interface import Backend

__all__ = ["BenchTimeout", "DaemonSetBenchResult", "daemonset_body", "run"]

NAMESPACE = "default"
NAME = "bench-agent"
IMAGE_V1 = "registry.k8s.io/pause:3.9"
IMAGE_V2 = "registry.k8s.io/pause:3.10"
MAX_UNAVAILABLE = "10%"
TARGET_ROLLOUT_S = 10.0
TARGET_UPDATE_S = 20.0
TARGET_RSS_MB = 1536.0
UPSTREAM_PODS_PER_S = 100.0
FLOOR_WRITERS = 64
FLOOR_VALUE = b"x" * 2048
QUIET_LOGGERS = ("kubeds",)
PHASE_TIMEOUT_S = 900.0
FLOOR_ETCD_PREFIX = "/kubeds-bench-floor"


class BenchTimeout(Exception):
    """A phase did not finish in time; ``str()`` says where it stood."""


@dataclass
class DaemonSetBenchResult:
    nodes: int
    storage: str
    setup_s: float
    rollout_s: float
    update_s: float
    budget: int
    max_unavailable_seen: int
    peak_rss_mb: float
    writes: int
    floor_s: float
    watch_events: int

    @property
    def rollout_pods_per_s(self) -> float:
        return self.nodes / self.rollout_s if self.rollout_s else 0.0

    @property
    def floor_ratio(self) -> float:
        return (self.rollout_s + self.update_s) / self.floor_s if self.floor_s else 0.0

    @property
    def budget_kept(self) -> bool:
        return self.max_unavailable_seen <= self.budget

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["rollout_pods_per_s"] = round(self.rollout_pods_per_s, 1)
        d["ratio_to_floor"] = round(self.floor_ratio, 1)
        d["budget_kept"] = self.budget_kept
        d["targets"] = {
            "rollout_s": f"<= {TARGET_ROLLOUT_S:.0f} (at 5,000 nodes)",
            "update_s": f"<= {TARGET_UPDATE_S:.0f} (at 5,000 nodes), budget never exceeded",
            "peak_rss_mb": f"< {TARGET_RSS_MB:.0f}",
        }
        d["transport"] = f"in-process plane ({self.storage}), fast node profile"
        return d

    def render(self) -> str:
        def verdict(ok: bool) -> str:
            return "meets target" if ok else "MISSES TARGET"

        scale_note = (
            "" if self.nodes == 5000 else f" (targets are for 5,000 nodes; this run has {self.nodes})"
        )
        return "\n".join(
            [
                f"daemonset benchmark: {self.nodes} nodes, in-process plane ({self.storage} storage, "
                f"fast profile){scale_note}",
                f"  setup: {self.nodes} nodes registered and Ready            {self.setup_s:8.1f} s",
                f"  rollout: create to {self.nodes} pods Ready, numberReady == N   {self.rollout_s:8.1f} s"
                f"   {self.rollout_pods_per_s:6.0f} pods/s (upstream ~{UPSTREAM_PODS_PER_S:.0f}/s)"
                f"   target <= {TARGET_ROLLOUT_S:.0f} s: {verdict(self.rollout_s <= TARGET_ROLLOUT_S)}",
                f"  rolling update, maxUnavailable {MAX_UNAVAILABLE} ({self.budget} nodes)   {self.update_s:8.1f} s"
                f"   target <= {TARGET_UPDATE_S:.0f} s: {verdict(self.update_s <= TARGET_UPDATE_S)}",
                f"  largest number unavailable at any moment (from {self.watch_events} pod watch events):"
                f" {self.max_unavailable_seen} of budget {self.budget}: "
                + ("never exceeded" if self.budget_kept else "BUDGET EXCEEDED"),
                f"  peak RSS {self.peak_rss_mb:.0f} MB   target < {TARGET_RSS_MB:.0f} MB: "
                f"{verdict(self.peak_rss_mb < TARGET_RSS_MB)}",
                f"  storage floor: the same {self.writes} writes on a bare {self.storage} backend"
                f" ({FLOOR_WRITERS} writers) {self.floor_s:.2f} s;"
                f" rollout + update took {self.floor_ratio:.1f}x the floor",
            ]
        )


def daemonset_body(image: str = IMAGE_V1) -> dict[str, Any]:
    labels = {"app": NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": MAX_UNAVAILABLE}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "agent",
                            "image": image,
                            "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}},
                        }
                    ],
                    "terminationGracePeriodSeconds": 1,
                },
            },
        },
    }


def _ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


class PodTracker:
    """The DaemonSet's pods as a watch reports them, and after each event how many nodes have no
    available (Ready, not terminating) pod. Counts are kept incrementally (O(1) per event), so the
    bookkeeping does not weigh on the plane it measures (one process, one CPU)."""

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes
        self.pods: dict[str, tuple[str, str, bool, bool]] = {}  # name -> (node, image, available, live)
        self._available: dict[str, int] = {}  # node -> available pods
        self._by_image: dict[str, dict[str, int]] = {}  # image -> node -> available pods
        self._live_by_image: dict[str, int] = {}  # image -> pods not terminating
        self.max_unavailable = 0
        self.events = 0
        self.changed = asyncio.Event()

    def available_nodes(self, image: str | None = None) -> int:
        return len(self._available if image is None else self._by_image.get(image, {}))

    def live_with_other_image(self, image: str) -> int:
        return sum(n for img, n in self._live_by_image.items() if img != image)

    def _account(self, entry: tuple[str, str, bool, bool], sign: int) -> None:
        node, image, available, live = entry
        if live:
            self._live_by_image[image] = self._live_by_image.get(image, 0) + sign
        if not available:
            return
        for counts in (self._available, self._by_image.setdefault(image, {})):
            left = counts.get(node, 0) + sign
            if left:
                counts[node] = left
            else:
                counts.pop(node, None)

    def apply(self, event: dict[str, Any]) -> None:
        pod = event.get("object") or {}
        meta = pod.get("metadata") or {}
        name = meta.get("name")
        if not name or event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
            return
        old = self.pods.pop(name, None)
        if old is not None:
            self._account(old, -1)
        if event["type"] != "DELETED":
            live = not meta.get("deletionTimestamp")
            entry = (
                str(pod["spec"].get("nodeName") or ""),
                str(pod["spec"]["containers"][0]["image"]),
                live and _ready(pod),
                live,
            )
            self.pods[name] = entry
            self._account(entry, 1)
        self.events += 1
        self.max_unavailable = max(self.max_unavailable, self.nodes - len(self._available))
        self.changed.set()


async def _follow(pods: api_mod.ResourceClient, rv: str, tracker: PodTracker) -> None:
    stream = pods.watch(namespace=NAMESPACE, resource_version=rv, label_selector=f"app={NAME}")
    async with contextlib.aclosing(stream) as events:
        async for event in events:
            tracker.apply(event)


async def _wait_status(
    daemonsets: api_mod.ResourceClient, done: Callable[[dict[str, Any]], bool], *, poll: float = 0.05
) -> None:
    while not done(await daemonsets.get(NAME, namespace=NAMESPACE)):
        await asyncio.sleep(poll)


async def _wait_tracker(tracker: PodTracker, done: Callable[[], bool]) -> None:
    while not done():
        tracker.changed.clear()
        await tracker.changed.wait()


async def _all_of(*waits: Awaitable[None]) -> None:
    for w in waits:
        await w


async def _phase(what: str, daemonsets: api_mod.ResourceClient, wait: Awaitable[None]) -> None:
    """``wait`` within PHASE_TIMEOUT_S, else BenchTimeout with the DaemonSet's status then: on an
    overloaded machine nodes whose Lease lapses become NotReady and leave the DaemonSet, and the
    phase can never see all N nodes."""
    try:
        await asyncio.wait_for(wait, PHASE_TIMEOUT_S)
    except TimeoutError:
        st = (await daemonsets.get(NAME, namespace=NAMESPACE)).get("status") or {}
        raise BenchTimeout(
            f"the {what} did not finish within {PHASE_TIMEOUT_S:.0f} s: desiredNumberScheduled "
            f"{st.get('desiredNumberScheduled')}, numberReady {st.get('numberReady')}, "
            f"updatedNumberScheduled {st.get('updatedNumberScheduled')}, "
            f"numberAvailable {st.get('numberAvailable')}"
        ) from None


@contextlib.asynccontextmanager
async def _plane(root: Path, nodes: int, storage: str, etcd_endpoints: list[str]) -> AsyncIterator[Plane]:
    plane = Plane(
        PlaneConfig(
            data_dir=root / "plane",
            port=0,
            storage=storage,
            etcd_endpoints=etcd_endpoints,
            nodes=nodes,
            node_profile="fast",
            ready_timeout=max(300.0, nodes * 0.2),
        )
    )
    await plane.start()
    try:
        yield plane
    finally:
        await plane.stop()


def _floor_backend(root: Path, storage: str, etcd_endpoints: list[str]) -> Backend:
    if storage == "etcd":
        from kubeds.storage.etcd import EtcdBackend  # gRPC only when etcd is benchmarked

        # The plane's keys stay where they are; the floor writes under a prefix of its own.
        return EtcdBackend(etcd_endpoints, prefix=f"{FLOOR_ETCD_PREFIX}/{uuid.uuid4().hex}")
    (root / "floor").mkdir(parents=True, exist_ok=True)
    return factory.open_backend(storage, data_dir=root / "floor")


async def _floor(root: Path, storage: str, writes: int, etcd_endpoints: list[str]) -> float:
    backend = _floor_backend(root, storage, etcd_endpoints)
    await backend.start()
    try:
        keys = iter(range(writes))

        async def writer() -> None:
            for i in keys:
                await backend.create(f"/registry/bench/floor-{i:08d}", FLOOR_VALUE)

        start = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(FLOOR_WRITERS)))
        return time.perf_counter() - start
    finally:
        await backend.close()


async def run(
    *,
    nodes: int = 1000,
    storage: str = "sqlite",
    etcd_endpoints: list[str] | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> DaemonSetBenchResult:
    """One run on a fresh plane; ``storage="etcd"`` needs ``etcd_endpoints`` of an empty etcd (the
    plane stores its objects unprefixed there; see :mod:`kubeds.bench.daemonset_etcd`)."""
    if nodes < 1:
        raise ValueError("nodes must be positive")
    endpoints = list(etcd_endpoints or [])
    budget = math.ceil(nodes * 0.10)
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in QUIET_LOGGERS]
    for logger, _ in saved:
        logger.setLevel(logging.CRITICAL)
    try:
        with tempfile.TemporaryDirectory(prefix="kubeds-bench-ds-") as tmp:
            root = Path(tmp)
            async with _plane(root, nodes, storage, endpoints) as plane:
                assert plane.backend is not None
                start = time.perf_counter()
                names = await plane.create_initial_nodes(progress)
                await plane.wait_nodes_ready(names, progress)
                setup_s = time.perf_counter() - start
                api = plane.client("bench")
                daemonsets = api.resource("apps/v1", "daemonsets")
                pods = api.resource("v1", "pods")
                tracker = PodTracker(nodes)
                listed = await pods.list(namespace=NAMESPACE, limit=1)
                follower = asyncio.ensure_future(
                    _follow(pods, listed["metadata"]["resourceVersion"], tracker)
                )
                rev0 = await plane.backend.current_revision()
                try:
                    progress(f"rollout: creating the DaemonSet on {nodes} nodes")
                    start = time.perf_counter()
                    await daemonsets.create(daemonset_body(), namespace=NAMESPACE)
                    await _phase(
                        "rollout",
                        daemonsets,
                        _all_of(
                            _wait_tracker(tracker, lambda: tracker.available_nodes(IMAGE_V1) == nodes),
                            _wait_status(
                                daemonsets, lambda ds: (ds.get("status") or {}).get("numberReady") == nodes
                            ),
                        ),
                    )
                    rollout_s = time.perf_counter() - start
                    progress(f"rollout: {nodes} pods Ready in {rollout_s:.1f} s; rolling update")
                    tracker.max_unavailable = 0
                    start = time.perf_counter()
                    patched = await daemonsets.patch(
                        NAME,
                        {
                            "spec": {
                                "template": {"spec": {"containers": [{"name": "agent", "image": IMAGE_V2}]}}
                            }
                        },
                        namespace=NAMESPACE,
                        patch_type="strategic",
                    )
                    generation = patched["metadata"]["generation"]

                    def updated(ds: dict[str, Any]) -> bool:
                        st = ds.get("status") or {}
                        return (
                            st.get("observedGeneration", 0) >= generation
                            and st.get("updatedNumberScheduled") == nodes
                            and st.get("numberAvailable") == nodes
                        )

                    await _phase(
                        "rolling update",
                        daemonsets,
                        _all_of(
                            _wait_tracker(
                                tracker,
                                lambda: (
                                    tracker.available_nodes(IMAGE_V2) == nodes
                                    and tracker.live_with_other_image(IMAGE_V2) == 0
                                ),
                            ),
                            _wait_status(daemonsets, updated),
                        ),
                    )
                    update_s = time.perf_counter() - start
                    progress(f"rolling update done in {update_s:.1f} s")
                finally:
                    follower.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await follower
                writes = await plane.backend.current_revision() - rev0
            progress(f"storage floor: {writes} writes on a bare {storage} backend")
            floor_s = await _floor(root, storage, writes, endpoints)
    finally:
        for logger, level in saved:
            logger.setLevel(level)
    return DaemonSetBenchResult(
        nodes=nodes,
        storage=storage,
        setup_s=round(setup_s, 2),
        rollout_s=round(rollout_s, 2),
        update_s=round(update_s, 2),
        budget=budget,
        max_unavailable_seen=tracker.max_unavailable,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        writes=writes,
        floor_s=round(floor_s, 3),
        watch_events=tracker.events,
    )
