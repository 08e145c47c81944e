"""``kubeds up``: run the whole control plane in this process until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from kubeds import plane

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "up",
        help="start the control plane in this process",
        description=(
            "Start the whole control plane in one process: the API server over HTTPS with its own CA, "
            "storage (SQLite in DIR by default), the controllers, the scheduler and N simulated nodes "
            "(node-1 ... node-N on a fresh data dir). Writes DIR/kubeconfig and prints 'kubeds ready: "
            "kubeconfig=PATH server=URL' once the API answers and the nodes are Ready. Ctrl-C (SIGINT) or "
            "SIGTERM stops it; 'kubeds up' again on the same --data-dir resumes the same cluster state."
        ),
    )
    p.add_argument("--nodes", type=int, default=3, help="simulated nodes to start with (default 3)")
    p.add_argument("--data-dir", default=".kubeds", help="where state, certificates and kubeconfig live")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=6443, help="port to listen on; 0 picks a free one (default 6443)"
    )
    p.add_argument(
        "--storage", choices=("sqlite", "memory", "etcd"), default="sqlite", help="storage backend"
    )
    p.add_argument("--etcd-endpoints", default="", help="comma-separated etcd URLs (with --storage etcd)")
    p.add_argument(
        "--node-profile", choices=("fast", "realistic"), default="fast", help="simulated pod timings"
    )
    p.add_argument(
        "--node-selector",
        default="",
        help="simulate only the Nodes this label selector matches (leave the rest to `kubeds nodes`)",
    )
    p.add_argument(
        "--no-node-simulator",
        action="store_true",
        help="do not simulate nodes in this process (run `kubeds nodes` separately)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    p.set_defaults(func=run)


def _progress(msg: str) -> None:
    if sys.stderr.isatty():
        print(f"\r\033[K... {msg}", end="", file=sys.stderr, flush=True)
    else:
        print(f"... {msg}", file=sys.stderr, flush=True)


async def _serve(cfg: plane.PlaneConfig) -> int:
    p = plane.Plane(cfg)
    try:
        await p.start()
        names = await p.create_initial_nodes(_progress)
        await p.wait_nodes_ready(names, _progress)
        if names and sys.stderr.isatty():
            print("", file=sys.stderr)
    except plane.PlaneError as exc:
        print(f"kubeds up: {exc}", file=sys.stderr)
        await p.stop()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"kubeds ready: kubeconfig={p.kubeconfig_path.resolve()} server={p.server_url}", flush=True)
    print(
        f"next: kubectl --kubeconfig {p.kubeconfig_path} get nodes    (Ctrl-C stops the plane)",
        file=sys.stderr,
        flush=True,
    )
    await stop.wait()
    print("kubeds: stopping", file=sys.stderr, flush=True)
    await p.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.port < 0 or args.port > 65535:
        print("kubeds up: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    if args.nodes < 0:
        print("kubeds up: --nodes must be >= 0", file=sys.stderr)
        return 2
    cfg = plane.PlaneConfig(
        data_dir=Path(args.data_dir),
        host=args.host,
        port=args.port,
        storage=args.storage,
        etcd_endpoints=[e for e in args.etcd_endpoints.split(",") if e],
        nodes=args.nodes,
        node_profile=args.node_profile,
        node_selector=args.node_selector,
        simulate_nodes=not args.no_node_simulator,
    )
    return asyncio.run(_serve(cfg))
