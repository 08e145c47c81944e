"""The node simulator as a process of its own: ``python -m kubeds.nodes.standalone --kubeconfig K``.

Used by ``kubeds bench nodes`` (so the simulator's CPU and memory are measured apart from the API
server's) and ready to back the ``kubeds nodes`` component command of multi-process mode. It runs
one :class:`~kubeds.nodes.simulator.NodeSimulator` over HTTPS until SIGINT/SIGTERM and prints
``kubeds nodes ready: nodes=N`` on stdout once its caches are synced.

The process is all HTTP client work (a Lease renewal per node every 10 s, 500 a second at 5,000
nodes, is the steady load), so it runs on uvloop when that is installed: its sockets, TLS and
callbacks cost about 10 % less CPU than the standard event loop's (``docs/benchmarks.md``, idle
nodes). The simulator talks only HTTP, so nothing in it depends on the loop's kind.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence

from kubeds import heap
from kubeds.client import client_from_kubeconfig, kubeconfig
from kubeds.nodes import profiles, simulator

__all__ = ["add_arguments", "config_from_args", "main", "run", "serve"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The simulator's flags (shared with a ``kubeds nodes`` subcommand)."""
    p.add_argument(
        "--kubeconfig", default=None, help="kubeconfig of the plane (default $KUBECONFIG, ./.kubeds)"
    )
    p.add_argument("--node-profile", choices=profiles.PROFILES, default="fast", help="simulated pod timings")
    p.add_argument("--node-selector", default="", help="simulate only Nodes with these labels (k=v,...)")
    p.add_argument("--lease-duration", type=int, default=40, help="Lease leaseDurationSeconds (default 40)")
    p.add_argument("--renew-interval", type=float, default=10.0, help="seconds between lease renewals (10)")
    p.add_argument(
        "--status-report-interval", type=float, default=300.0, help="seconds between unchanged status posts"
    )
    p.add_argument(
        "--max-renew-rate",
        type=float,
        default=400.0,
        help="cap on lease renewals per second, all nodes (0: none)",
    )
    p.add_argument("--workers", type=int, default=64, help="concurrent API calls (default 64)")
    p.add_argument(
        "--tick", type=float, default=0.1, help="timer slot in seconds: timers fire in batches (0.1)"
    )
    p.add_argument("--seed", type=int, default=None, help="seed for the jitter")
    p.add_argument("-v", "--verbose", action="store_true", help="log at debug level")


def config_from_args(args: argparse.Namespace) -> simulator.NodeSimulatorConfig:
    return simulator.NodeSimulatorConfig(
        profile=args.node_profile,
        node_selector=args.node_selector,
        lease_duration=args.lease_duration,
        renew_interval=args.renew_interval,
        status_report_interval=args.status_report_interval,
        workers=args.workers,
        tick=args.tick,
        max_renew_rate=args.max_renew_rate,
        seed=args.seed,
    )


async def serve(args: argparse.Namespace) -> int:
    """Run the simulator until SIGINT/SIGTERM."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"kubeds nodes: {exc}", file=sys.stderr)
        return 2
    try:
        kc = kubeconfig.load_kubeconfig(kubeconfig.resolve_kubeconfig_path(args.kubeconfig))
    except kubeconfig.KubeConfigError as exc:
        print(f"kubeds nodes: {exc}", file=sys.stderr)
        return 1
    api = client_from_kubeconfig(kc, user_agent="kubeds-nodes")
    sim = simulator.NodeSimulator(api, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = loop.create_task(sim.run())
    waiter = loop.create_task(sim.wait_ready())
    stopper = loop.create_task(stop.wait())
    await asyncio.wait((waiter, stopper, task), return_when=asyncio.FIRST_COMPLETED)
    freezer: asyncio.Task[None] | None = None
    if waiter.done():
        print(f"kubeds nodes ready: nodes={len(sim.nodes.indexer)}", flush=True)
        heap.freeze_survivors()  # the cached Nodes and Leases are the long-lived heap
        freezer = loop.create_task(heap.keep_frozen())
        await asyncio.wait((stopper, task), return_when=asyncio.FIRST_COMPLETED)
    if freezer is not None:
        freezer.cancel()
    waiter.cancel()
    stopper.cancel()
    await sim.stop()
    await api.close()
    if task.done() and not task.cancelled() and task.exception() is not None:
        print(f"kubeds nodes: {task.exception()}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubeds nodes", description="Run the node simulator alone.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run(args)


def run(args: argparse.Namespace) -> int:
    """:func:`serve` on the fastest event loop available, with the collector tuned for a big heap."""
    heap.tune_collector()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(serve(args))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # an optional speed-up: the standard loop does the same work
        return None
    return uvloop.new_event_loop


if __name__ == "__main__":
    sys.exit(main())
