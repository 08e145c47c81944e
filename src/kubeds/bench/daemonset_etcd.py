"""``kubeds bench daemonset --storage etcd``: the DaemonSet benchmark on sqlite, then on etcd, as ratios.

The issue's target for the etcd backend is end to end: the same DaemonSet rollout and rolling
update (:mod:`kubeds.bench.daemonset`) within 3x of the time they take on sqlite. Both runs happen
in one invocation, one after the other on the same machine with the same N, each on a fresh
in-process plane, so the ratio is taken under the same load (the absolute times on a shared machine
are noisy; the ratio much less). sqlite runs first; etcd second, on a throwaway single-member etcd
started for the run (:func:`kubeds.bench.etcdlocal.local_etcd`, a fresh data dir, stopped and
deleted afterwards): the plane stores its objects under etcd's root (``/registry/...``, as
kube-apiserver does with its default ``--etcd-prefix``), so it needs an etcd of its own.

The ratio per phase is etcd's time over sqlite's (how many times slower etcd is; below 1 etcd is
faster): rollout, rolling update, and their total, which carries the verdict. Peak RSS is the
process's high-water mark (``ru_maxrss``), so the second run's figure covers both runs.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass

from kubeds.bench import daemonset, etcdlocal

__all__ = ["PHASES", "TARGET_RATIO", "DaemonSetCompareResult", "ratio", "run_compare"]

TARGET_RATIO = 3.0  # the issue: etcd within 3x of sqlite
TARGET_TEXT = f"etcd within {TARGET_RATIO:.0f}x of sqlite"
MEETS, MISSES = "meets target", "MISSES TARGET"
LOCAL_ETCD = "a throwaway local etcd"
PHASES = ("rollout", "rolling_update", "total")
PHASE_LABELS = {
    "rollout": "rollout",
    "rolling_update": "rolling update",
    "total": "total (rollout + rolling update)",
}


def ratio(etcd_s: float, sqlite_s: float) -> float | None:
    """etcd's time over sqlite's, rounded to 0.01; ``None`` when sqlite's time is not positive."""
    if sqlite_s <= 0:
        return None
    return round(etcd_s / sqlite_s, 2)


def _phase_seconds(r: daemonset.DaemonSetBenchResult) -> dict[str, float]:
    return {"rollout": r.rollout_s, "rolling_update": r.update_s, "total": round(r.rollout_s + r.update_s, 2)}


def _verdict(x: float | None) -> str:
    return MEETS if x is not None and x <= TARGET_RATIO else MISSES


@dataclass
class DaemonSetCompareResult:
    sqlite: daemonset.DaemonSetBenchResult
    etcd: daemonset.DaemonSetBenchResult
    etcd_server: str  # where etcd ran, for the report

    def ratios(self) -> dict[str, float | None]:
        s, e = _phase_seconds(self.sqlite), _phase_seconds(self.etcd)
        return {phase: ratio(e[phase], s[phase]) for phase in PHASES}

    @property
    def meets_target(self) -> bool:
        return _verdict(self.ratios()["total"]) == MEETS

    def as_dict(self) -> dict[str, object]:
        return {
            "nodes": self.sqlite.nodes,
            "sqlite": self.sqlite.as_dict(),
            "etcd": self.etcd.as_dict(),
            "etcd_server": self.etcd_server,
            "ratios": self.ratios(),
            "ratio_meaning": "etcd seconds / sqlite seconds (how many times slower etcd is)",
            "target": f"{TARGET_TEXT} (total)",
            "meets_target": self.meets_target,
        }

    def render(self) -> str:
        s, e, x = _phase_seconds(self.sqlite), _phase_seconds(self.etcd), self.ratios()
        rows = [
            f"daemonset benchmark, sqlite beside etcd: {self.sqlite.nodes} nodes each, "
            f"one run on each in this invocation (etcd: {self.etcd_server})",
            "",
            self.sqlite.render(),
            "",
            self.etcd.render(),
            "  (peak RSS is the process's high-water mark over both runs)",
            "",
            f"  etcd / sqlite (how many times slower etcd is) {'sqlite':>10} {'etcd':>10} {'ratio':>8}",
        ]
        for phase in PHASES:
            r = x[phase]
            shown = "   n/a" if r is None else f"{r:7.2f}x"
            rows.append(
                f"  {PHASE_LABELS[phase]:45} {s[phase]:8.2f} s {e[phase]:8.2f} s {shown}   "
                f"<= {TARGET_RATIO:.0f}x: {_verdict(r)}"
            )
        rows.append(f"  {TARGET_TEXT} (total): {MEETS if self.meets_target else MISSES}")
        return "\n".join(rows)


async def run_compare(
    *, nodes: int = 1000, progress: Callable[[str], None] = lambda _: None
) -> DaemonSetCompareResult:
    """sqlite, then etcd on a throwaway local etcd; :class:`~kubeds.bench.etcdlocal.EtcdNotFound`
    (before anything runs) when there is no etcd binary, :class:`~kubeds.bench.daemonset.BenchTimeout`
    naming the storage when a phase does not finish."""
    binary = etcdlocal.find_etcd()
    version = etcdlocal.etcd_version(binary)
    server = f"{LOCAL_ETCD} {version} ({binary})" if version else f"{LOCAL_ETCD} ({binary})"
    sqlite = await _one("sqlite", nodes=nodes, endpoints=[], progress=progress)
    gc.collect()
    progress(f"etcd: starting {server}: fresh data dir, free loopback ports")
    async with etcdlocal.local_etcd() as member:
        progress(f"etcd: throwaway etcd healthy at {member.client_url}")
        etcd = await _one("etcd", nodes=nodes, endpoints=[member.client_url], progress=progress)
    return DaemonSetCompareResult(sqlite=sqlite, etcd=etcd, etcd_server=server)


async def _one(
    storage: str, *, nodes: int, endpoints: list[str], progress: Callable[[str], None]
) -> daemonset.DaemonSetBenchResult:
    def tagged(msg: str) -> None:
        progress(f"{storage}: {msg}")

    try:
        return await daemonset.run(nodes=nodes, storage=storage, etcd_endpoints=endpoints, progress=tagged)
    except daemonset.BenchTimeout as exc:
        raise daemonset.BenchTimeout(f"on {storage}: {exc}") from None
