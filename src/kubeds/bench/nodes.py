"""``kubeds bench nodes``: what idle simulated nodes cost, measured on separate processes.

Honest accounting needs the simulator in a process of its own, so the run has two:

1. the plane, ``kubeds up --nodes 0 --no-node-simulator`` (``storage`` backend, default sqlite),
   to which ``nodes`` Nodes are added through the API, labelled ``kubeds.io/bench: nodes``; the
   plane must not simulate them itself, or every node would renew twice and the plane's CPU
   would include a second simulator;
2. the simulator, ``python -m kubeds.nodes.standalone`` over HTTPS with the kubelet's default
   timings (Lease renewed every 10 s, status reported every 5 minutes unless it changes) and its
   default cap of 400 renewals a second for all nodes (12.5 s per node at 5,000 nodes; pass
   ``max_renew_rate=0`` to measure the uncapped 10 s).

Once every Node reports Ready and a full renew interval has passed, the run samples both
processes in ``windows`` windows of ``window`` seconds: CPU share from ``/proc/<pid>/stat``
(utime + stime over the window's wall time, as a fraction of one core) and RSS from
``/proc/<pid>/status`` (VmRSS at the window's end), by :func:`kubeds.bench.proc.sample_processes`. Medians of the windows are reported, and how
many Leases were fresh (renewed within 1.5 intervals) at the end, to show the work was being done.

Target (issue "Simulated nodes"): 5,000 idle nodes cost the **simulator process** under 15 % of
one core and under 400 MB RSS. The plane's cost (serving 500 Lease updates per second) is reported
beside it but is not what the target is about.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kubeds import clock
from kubeds.bench import proc as proc_mod
from kubeds.bench.proc import ProcessSample
from kubeds.client import ApiClient, client_from_kubeconfig, load_kubeconfig
from kubeds.nodes import kubelet, templates

__all__ = ["NodesBenchResult", "ProcessSample", "run"]

BENCH_LABEL = "kubeds.io/bench"
TARGET_CPU_SHARE = 0.15
TARGET_RSS_MB = 400.0
CREATE_CONCURRENCY = 64


@dataclass
class NodesBenchResult:
    nodes: int
    renew_interval_s: float
    effective_interval_s: float
    max_renew_rate: float
    window_s: float
    windows: int
    storage: str
    setup_s: float
    ready_s: float
    fresh_leases: int
    simulator: ProcessSample
    plane: ProcessSample

    @property
    def meets_target(self) -> bool:
        return self.simulator.cpu_share < TARGET_CPU_SHARE and self.simulator.rss_mb < TARGET_RSS_MB

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["meets_target"] = self.meets_target
        d["targets"] = {
            "simulator_cpu_share": f"< {TARGET_CPU_SHARE}",
            "simulator_rss_mb": f"< {TARGET_RSS_MB:.0f}",
        }
        return d

    def render(self) -> str:
        verdict = proc_mod.verdict
        sim, plane = self.simulator, self.plane
        return "\n".join(
            [
                f"nodes benchmark: {self.nodes} idle simulated nodes, lease renewed every "
                f"{self.effective_interval_s:g} s (kubelet {self.renew_interval_s:g} s, capped at "
                f"{self.max_renew_rate:g} renewals/s); medians of {self.windows} windows of {self.window_s:g} s",
                f"  setup: {self.setup_s:.1f} s to create the Nodes, {self.ready_s:.1f} s until all Ready; "
                f"fresh leases at the end: {self.fresh_leases}/{self.nodes}",
                f"  simulator process  CPU {sim.cpu_share * 100:5.1f} % of a core "
                f"(target < {TARGET_CPU_SHARE * 100:.0f} %: {verdict(sim.cpu_share < TARGET_CPU_SHARE)})   "
                f"RSS {sim.rss_mb:6.1f} MB (target < {TARGET_RSS_MB:.0f} MB: {verdict(sim.rss_mb < TARGET_RSS_MB)})",
                f"  plane process      CPU {plane.cpu_share * 100:5.1f} % of a core   RSS {plane.rss_mb:6.1f} MB "
                f"({self.storage} storage; serves the lease updates, not part of the target)",
            ]
        )


# ---------------------------------------------------------------------------------------------
# the run


async def _create_nodes(api: ApiClient, count: int, progress: Callable[[str], None]) -> None:
    nodes = api.resource("v1", "nodes")
    sem = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def one(i: int) -> None:
        name = f"bench-{i:05d}"
        body = templates.new_node(
            name, labels={BENCH_LABEL: "nodes"}, internal_ip=templates.derive_node_ip(name)
        )
        async with sem:
            await nodes.create(body)

    done = 0
    for start in range(0, count, 500):
        await asyncio.gather(*(one(i) for i in range(start, min(count, start + 500))))
        done = min(count, start + 500)
        progress(f"created {done}/{count} nodes")


def _ready(node: dict[str, Any]) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


async def _wait_all_ready(
    api: ApiClient, count: int, progress: Callable[[str], None], timeout: float
) -> None:
    nodes = api.resource("v1", "nodes")
    deadline = time.monotonic() + timeout
    while True:
        listed = await nodes.list_all(label_selector=f"{BENCH_LABEL}=nodes")
        ready = sum(1 for n in listed.get("items") or [] if _ready(n))
        progress(f"{ready}/{count} nodes Ready")
        if ready >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {ready}/{count} nodes became Ready within {timeout:.0f} s")
        await asyncio.sleep(2.0)


async def _fresh_leases(api: ApiClient, *, within: float) -> int:
    listed = await api.resource("coordination.k8s.io/v1", "leases").list_all(
        namespace=templates.LEASE_NAMESPACE
    )
    now = clock.REAL.now()
    fresh = 0
    for lease in listed.get("items") or []:
        renew = (lease.get("spec") or {}).get("renewTime")
        if (
            renew
            and (now - dt.datetime.fromisoformat(str(renew).replace("Z", "+00:00"))).total_seconds() < within
        ):
            fresh += 1
    return fresh


async def run(
    *,
    nodes: int = 5000,
    seconds: float = 60.0,
    window: float = 10.0,
    renew_interval: float = 10.0,
    max_renew_rate: float = 400.0,
    storage: str = "sqlite",
    ready_timeout: float = 600.0,
    simulator_args: tuple[str, ...] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> NodesBenchResult:
    """Measure ``nodes`` idle simulated nodes for ``seconds`` (in windows of ``window`` s)."""
    windows = max(1, int(seconds // window))
    effective = kubelet.Timing(
        renew_interval=renew_interval, status_report_interval=300.0, tick=0.1, max_renew_rate=max_renew_rate
    ).lease_interval(nodes)
    with tempfile.TemporaryDirectory(prefix="kubeds-bench-nodes-") as tmp:
        progress(f"starting kubeds up ({storage}, no nodes)")
        plane = proc_mod.start_process(
            [
                sys.executable,
                "-m",
                "kubeds",
                "up",
                "--port",
                "0",
                "--nodes",
                "0",
                "--no-node-simulator",
                "--data-dir",
                tmp,
                "--storage",
                storage,
            ]
        )
        sim: subprocess.Popen[str] | None = None
        try:
            await proc_mod.ready_line(plane, "kubeds ready:")
            kubeconfig = Path(tmp) / "kubeconfig"
            api = client_from_kubeconfig(load_kubeconfig(kubeconfig), user_agent="kubeds-bench")
            try:
                t0 = time.monotonic()
                await _create_nodes(api, nodes, progress)
                setup = time.monotonic() - t0
                progress("starting the simulator process")
                t0 = time.monotonic()
                sim = proc_mod.start_process(
                    [
                        sys.executable,
                        "-m",
                        "kubeds.nodes.standalone",
                        "--kubeconfig",
                        str(kubeconfig),
                        "--renew-interval",
                        str(renew_interval),
                        "--max-renew-rate",
                        str(max_renew_rate),
                        "--seed",
                        "1",
                        *simulator_args,
                    ]
                )
                await proc_mod.ready_line(sim, "kubeds nodes ready:")
                await _wait_all_ready(api, nodes, progress, ready_timeout)
                ready = time.monotonic() - t0
                progress(f"all Ready; letting one renew interval pass ({effective:g} s)")
                await asyncio.sleep(effective * 1.5)
                progress(f"sampling {windows} windows of {window:g} s")
                samples = await proc_mod.sample_processes(
                    {"simulator": sim.pid, "plane": plane.pid}, window=window, windows=windows
                )
                fresh = await _fresh_leases(api, within=effective * 1.5)
            finally:
                await api.close()
        finally:
            if sim is not None:
                await proc_mod.stop_process(sim, timeout=30)
            await proc_mod.stop_process(plane, timeout=30)
    return NodesBenchResult(
        nodes=nodes,
        renew_interval_s=renew_interval,
        effective_interval_s=effective,
        max_renew_rate=max_renew_rate,
        window_s=window,
        windows=windows,
        storage=storage,
        setup_s=setup,
        ready_s=ready,
        fresh_leases=fresh,
        simulator=samples["simulator"],
        plane=samples["plane"],
    )
