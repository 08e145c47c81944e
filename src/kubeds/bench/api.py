"""``kubeds bench api``: API latency over HTTPS, as a client sees it.

The API server runs as a separate ``kubeds up`` process (sqlite storage, no nodes), so the load
generator does not share its interpreter. The generator opens 16 clients (16 HTTPS connections)
and sends an *open-loop* load of ``rate`` requests per second, a fixed mix of single-object
create, get, merge-patch and small-list calls spread evenly over time, for ``duration`` seconds.
Latency is measured per call from send to full response; p50 and p99 are reported per verb.
Open loop matters: a closed loop (send the next request when the last returns) hides queueing.

Then 10,000 pods are created and listed in full (JSON, one request, no limit): the median of
several lists is reported, and of a server-side Table list of the same pods (what ``kubectl get
pods`` asks for). Targets (issue: API server): p99 of single-object calls under 50 ms at 200
requests/s; list of 10,000 pods under 1 s.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kubeds import wire
from kubeds.bench import proc as proc_mod
from kubeds.client import ApiClient, client_from_kubeconfig, load_kubeconfig

__all__ = ["ApiBenchResult", "run"]

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@dataclass
class ApiBenchResult:
    rate: float
    clients: int
    duration_s: float
    achieved_rate: float
    latency_ms: dict[str, dict[str, float]]
    errors: int
    pods: int
    list_pods_ms: float
    list_pods_table_ms: float
    repeats: int

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["targets"] = {"p99_single_object_ms": "< 50 at 200 requests/s", "list_10k_pods_ms": "< 1000"}
        return d

    def worst_p99(self) -> float:
        return max(v["p99"] for v in self.latency_ms.values())

    def render(self) -> str:
        lines = [
            f"api benchmark: HTTPS, {self.clients} clients, open loop at {self.rate:.0f} requests/s for "
            f"{self.duration_s:.0f} s (achieved {self.achieved_rate:.0f}/s, {self.errors} errors)",
            "  verb      p50 ms   p99 ms   calls",
        ]
        for verb, v in self.latency_ms.items():
            lines.append(f"  {verb:<8} {v['p50']:7.1f}  {v['p99']:7.1f}  {int(v['count']):6d}")
        worst = self.worst_p99()
        lines.append(f"  worst p99 {worst:.1f} ms (target < 50 ms: {proc_mod.verdict(worst < 50)})")
        lines.append(
            f"  list {self.pods} pods (JSON)   {self.list_pods_ms:8.0f} ms median of {self.repeats} "
            f"(target < 1000 ms: {proc_mod.verdict(self.list_pods_ms < 1000)})"
        )
        lines.append(
            f"  list {self.pods} pods (Table)  {self.list_pods_table_ms:8.0f} ms median of {self.repeats}"
        )
        return "\n".join(lines)


def _pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.9"}]},
    }


async def _load(
    clients: list[ApiClient], *, rate: float, duration: float, namespace: str
) -> tuple[dict[str, list[float]], int, float]:
    lat: dict[str, list[float]] = {"create": [], "get": [], "patch": [], "list": []}
    errors = 0
    interval = 1.0 / rate
    total = int(rate * duration)
    created: list[str] = []
    verbs = ("create", "get", "patch", "list")

    async def one(i: int, api: ApiClient) -> None:
        nonlocal errors
        cms = api.resource("v1", "configmaps")
        verb = verbs[i % 4] if created else "create"
        t0 = time.perf_counter()
        try:
            if verb == "create":
                name = f"c{i}"
                await cms.create({"metadata": {"name": name}, "data": {"k": "v"}}, namespace=namespace)
                created.append(name)
            elif verb == "get":
                await cms.get(created[i % len(created)], namespace=namespace)
            elif verb == "patch":
                await cms.patch(
                    created[i % len(created)],
                    {"data": {"k": str(i)}},
                    namespace=namespace,
                    patch_type="merge",
                )
            else:
                await cms.list(namespace=namespace, label_selector="nothing=here")
        except Exception:
            errors += 1
            return
        lat[verb].append((time.perf_counter() - t0) * 1000)

    start = time.perf_counter()
    tasks = []
    for i in range(total):
        due = start + i * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, clients[i % len(clients)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return lat, errors, total / elapsed


async def _list_pods(api: ApiClient, *, namespace: str, pods: int, repeats: int) -> tuple[float, float]:
    res = api.resource("v1", "pods")
    batch = 200
    for s in range(0, pods, batch):
        await asyncio.gather(
            *(res.create(_pod(f"p{i:05d}"), namespace=namespace) for i in range(s, min(pods, s + batch)))
        )
    json_ms, table_ms = [], []
    path = f"/api/v1/namespaces/{namespace}/pods"
    for _ in range(repeats):
        t0 = time.perf_counter()
        page = await res.list(namespace=namespace)
        json_ms.append((time.perf_counter() - t0) * 1000)
        assert len(page["items"]) == pods, len(page["items"])
        t0 = time.perf_counter()
        resp = await api.send(wire.Request("GET", path, headers={"accept": TABLE_ACCEPT}))
        body = resp.body
        if resp.stream is not None:
            body = b"".join([c async for c in resp.stream])
        table_ms.append((time.perf_counter() - t0) * 1000)
        assert resp.status == 200 and b'"Table"' in body[:200]
    return statistics.median(json_ms), statistics.median(table_ms)


async def run(
    *,
    rate: float = 200.0,
    duration: float = 10.0,
    clients: int = 16,
    pods: int = 10_000,
    repeats: int = 5,
    progress: Callable[[str], None] = lambda _: None,
) -> ApiBenchResult:
    with tempfile.TemporaryDirectory(prefix="kubeds-bench-api-") as tmp:
        progress("starting kubeds up (sqlite, no nodes)")
        async with proc_mod.kubeds_up(["--nodes", "0", "--data-dir", tmp], stop_timeout=30):
            cfg = load_kubeconfig(Path(tmp) / "kubeconfig")
            apis = [client_from_kubeconfig(cfg, user_agent="kubeds-bench") for _ in range(clients)]
            try:
                ns = apis[0].resource("v1", "namespaces")
                await ns.create({"metadata": {"name": "bench"}})
                # Warm up connections (TLS handshakes are not what we measure).
                await asyncio.gather(*(a.resource("v1", "namespaces").get("bench") for a in apis))
                progress(f"open-loop load: {rate:.0f} requests/s for {duration:.0f} s over {clients} clients")
                lat, errors, achieved = await _load(apis, rate=rate, duration=duration, namespace="bench")
                progress(f"creating {pods} pods, then listing them {repeats} times")
                list_ms, table_ms = await _list_pods(apis[0], namespace="bench", pods=pods, repeats=repeats)
            finally:
                for a in apis:
                    await a.close()
    latency = {
        verb: {"p50": proc_mod.pct(v, 50), "p99": proc_mod.pct(v, 99), "count": float(len(v))}
        for verb, v in lat.items()
    }
    return ApiBenchResult(
        rate=rate,
        clients=clients,
        duration_s=duration,
        achieved_rate=achieved,
        latency_ms=latency,
        errors=errors,
        pods=pods,
        list_pods_ms=list_ms,
        list_pods_table_ms=table_ms,
        repeats=repeats,
    )
