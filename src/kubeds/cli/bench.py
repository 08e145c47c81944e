"""``kubeds bench SCENARIO``: run a benchmark and print its report (or JSON with ``--json``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from kubeds.bench import api, daemonset, daemonset_etcd, drain, etcdlocal, nodes, schedule, storage

__all__ = ["SCENARIOS", "add_parser", "run"]

DRAIN_BENCH_NODES = 1000  # issue 6: drain while a 1,000-node DaemonSet runs
SCENARIOS = ("storage", "api", "nodes", "schedule", "daemonset", "drain")
DEFAULT_BENCH_NODES = 5000
STORAGE_KINDS = ("sqlite", "etcd")
MSG_STORAGE_SCENARIO = "kubeds bench: --storage applies to the daemonset scenario"
MSG_ENDPOINTS_DAEMONSET = (
    "kubeds bench daemonset: --etcd-endpoints is not supported: the benchmark's plane stores its "
    "objects at the root of etcd (no key prefix), so it starts a throwaway local etcd of its own; "
    "drop --etcd-endpoints"
)
MSG_ENDPOINTS_NEEDS = "kubeds bench: --etcd-endpoints goes with --compare etcd (storage scenario)"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="run a benchmark scenario and report medians and ratios",
        description=(
            "Run a benchmark. Results are medians of repeated runs, stated as ratios against a floor "
            "measured in the same run (machines are noisy). Scenarios: " + ", ".join(SCENARIOS) + "."
        ),
    )
    p.add_argument("scenario", choices=SCENARIOS, help="what to measure")
    p.add_argument(
        "--nodes",
        type=int,
        default=0,
        help=(
            f"number of nodes for the nodes, schedule and daemonset scenarios (default {DEFAULT_BENCH_NODES})"
            f" and drain (default {DRAIN_BENCH_NODES})"
        ),
    )
    p.add_argument("--repeats", type=int, default=3, help="repetitions per measurement (default 3)")
    p.add_argument("--scale", type=float, default=1.0, help="shrink or grow the workload (default 1.0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--compare",
        choices=("etcd",),
        help="storage: also measure this backend in the same run and report ratios (needs --etcd-endpoints)",
    )
    p.add_argument(
        "--etcd-endpoints",
        default="",
        help="comma-separated etcd URLs for --compare etcd (use a throwaway etcd)",
    )
    p.add_argument(
        "--storage",
        choices=STORAGE_KINDS,
        default="sqlite",
        help=(
            "daemonset: the storage of the plane (default sqlite); etcd runs the benchmark on sqlite and "
            "then on a throwaway local etcd and reports etcd/sqlite per phase (target: within 3x)"
        ),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.repeats < 1 or args.scale <= 0:
        print("kubeds bench: --repeats must be >= 1 and --scale > 0", file=sys.stderr)
        return 2
    if args.nodes < 0:
        print("kubeds bench: --nodes must be >= 0", file=sys.stderr)
        return 2
    interactive = sys.stderr.isatty()

    def progress(msg: str) -> None:
        if interactive:
            print(f"\r\033[K... {msg}", end="", file=sys.stderr, flush=True)
        else:
            print(f"... {msg}", file=sys.stderr, flush=True)

    result: (
        storage.StorageBenchResult
        | storage.StorageCompareResult
        | api.ApiBenchResult
        | nodes.NodesBenchResult
        | schedule.ScheduleBenchResult
        | daemonset.DaemonSetBenchResult
        | daemonset_etcd.DaemonSetCompareResult
        | drain.DrainBenchResult
    )
    if args.compare and args.scenario != "storage":
        print("kubeds bench: --compare applies to the storage scenario", file=sys.stderr)
        return 2
    if args.storage != "sqlite" and args.scenario != "daemonset":
        print(MSG_STORAGE_SCENARIO, file=sys.stderr)
        return 2
    if args.etcd_endpoints and args.scenario == "daemonset":
        print(MSG_ENDPOINTS_DAEMONSET, file=sys.stderr)
        return 2
    if args.etcd_endpoints and not args.compare:
        print(MSG_ENDPOINTS_NEEDS, file=sys.stderr)
        return 2
    if args.compare == "etcd":
        endpoints = [e for e in args.etcd_endpoints.split(",") if e]
        if not endpoints:
            print("kubeds bench: --compare etcd needs --etcd-endpoints URL[,URL...]", file=sys.stderr)
            return 2
        result = asyncio.run(
            storage.run_compare(
                etcd_endpoints=endpoints, repeats=args.repeats, scale=args.scale, progress=progress
            )
        )
    elif args.scenario == "nodes":
        result = asyncio.run(
            nodes.run(
                nodes=args.nodes or DEFAULT_BENCH_NODES,
                seconds=max(10.0, 60.0 * args.scale),
                progress=progress,
            )
        )
    elif args.scenario == "daemonset":
        n = args.nodes or DEFAULT_BENCH_NODES
        try:
            if args.storage == "etcd":
                result = asyncio.run(daemonset_etcd.run_compare(nodes=n, progress=progress))
            else:
                result = asyncio.run(daemonset.run(nodes=n, progress=progress))
        except daemonset.BenchTimeout as exc:
            print(f"\nkubeds bench daemonset: {exc}", file=sys.stderr)
            return 1
        except etcdlocal.EtcdNotFound as exc:
            print(f"kubeds bench daemonset: {exc}", file=sys.stderr)
            return 1
    elif args.scenario == "drain":
        result = asyncio.run(
            drain.run(
                nodes=args.nodes or DRAIN_BENCH_NODES,
                delete_pods=max(1, int(drain.DELETE_PODS * args.scale)),
                repeats=args.repeats,
                progress=progress,
            )
        )
    elif args.scenario == "schedule":
        result = asyncio.run(
            schedule.run(nodes=args.nodes or DEFAULT_BENCH_NODES, repeats=args.repeats, progress=progress)
        )
    elif args.scenario == "api":
        result = asyncio.run(
            api.run(
                duration=max(2.0, 10.0 * args.scale),
                pods=max(100, int(10_000 * args.scale)),
                repeats=max(3, args.repeats),
                progress=progress,
            )
        )
    else:
        result = asyncio.run(storage.run(repeats=args.repeats, scale=args.scale, progress=progress))
    if interactive:
        print("\r\033[K", end="", file=sys.stderr)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.render())
    return 0
