"""``kubeds apiserver | controller-manager | scheduler | nodes``: the components as separate processes.

Each runs one piece of the plane until SIGINT/SIGTERM and prints one ready line on stdout:

* ``kubeds apiserver ready: kubeconfig=PATH server=URL``: the API server alone
  (:mod:`kubeds.components.apiserver`); several may share one etcd (``--storage etcd``) and one
  ``--data-dir`` (for the PKI); each writes its own ``--write-kubeconfig``;
* ``kubeds controller-manager ready: identity=ID leader-elect=BOOL`` and
  ``kubeds scheduler ready: ...``: the controllers / the scheduler over HTTPS from ``--kubeconfig``,
  active/standby through the Leases ``kube-system/kube-controller-manager`` and
  ``kube-system/kube-scheduler`` (:mod:`kubeds.components.leader`; upstream's flags). Ready means
  the API answers and the process campaigns; whether it leads is in the Lease
  (``kubectl -n kube-system get lease``);
* ``kubeds nodes ready: nodes=N``: the node simulator alone (:mod:`kubeds.nodes.standalone`),
  optionally for the Nodes a ``--node-selector`` matches, so simulators can be sharded.

Exit status: 0 after a clean stop, 1 when start-up failed or leadership was lost (as upstream,
a supervisor restarts it), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kubeds import heap
from kubeds.client import ApiClient, client_from_kubeconfig, kubeconfig
from kubeds.components import apiserver as apiserver_mod, leader, wiring
from kubeds.controllers.manager import ControllerManager
from kubeds.nodes import profiles, standalone
from kubeds.scheduler.scheduler import Scheduler, SchedulerConfig
from kubeds.storage import factory

__all__ = ["add_parsers", "main"]

if TYPE_CHECKING:
    Sub = argparse._SubParsersAction[argparse.ArgumentParser]

CONTROLLER_MANAGER_LEASE = "kube-controller-manager"
SCHEDULER_LEASE = "kube-scheduler"
CONTROLLER_MANAGER_USER_AGENT = "kube-controller-manager"
SCHEDULER_USER_AGENT = "kube-scheduler"
SCHEDULER_LOST = "Leaderelection lost"  # kube-scheduler's spelling (cmd/kube-scheduler/app/server.go)
API_WAIT_TIMEOUT = 60.0
MSG_BAD_PORT = "--port must be between 0 and 65535"
NODE_LEASE_HELP = {
    "lease_duration": "Lease leaseDurationSeconds (default by --node-profile: fast 20, realistic 40)",
    "renew_interval": "seconds between lease renewals (default by --node-profile: fast 5, realistic 10)",
}


def add_parsers(sub: Sub) -> None:
    """Register the four component subcommands on ``kubeds``'s subparsers."""
    _add_apiserver(sub)
    _add_controller_manager(sub)
    _add_scheduler(sub)
    _add_nodes(sub)


def _logging(args: argparse.Namespace) -> None:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _verbose(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="log at debug level")


def _kubeconfig_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kubeconfig", default=None, help="kubeconfig of the API server (default $KUBECONFIG, ./.kubeds)"
    )


# -- apiserver ---------------------------------------------------------------------------------


def _add_apiserver(sub: Sub) -> None:
    p = sub.add_parser(
        "apiserver",
        help="run the API server alone (multi-process mode)",
        description=(
            "Run the API server alone over HTTPS. With --storage etcd several API servers may share one "
            "etcd cluster and one --data-dir (which then holds only the PKI and kubeconfigs). Prints "
            "'kubeds apiserver ready: kubeconfig=PATH server=URL'."
        ),
    )
    p.add_argument("--data-dir", default=".kubeds", help="PKI, kubeconfig and (sqlite) state (./.kubeds)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=6443, help="port to listen on; 0 picks a free one (6443)")
    p.add_argument("--storage", choices=factory.KINDS, default="sqlite", help="storage backend (sqlite)")
    p.add_argument("--etcd-endpoints", default="", help="comma-separated etcd URLs (with --storage etcd)")
    p.add_argument(
        "--write-kubeconfig",
        default=None,
        metavar="PATH",
        help="where to write the admin kubeconfig for this server (default DATA_DIR/kubeconfig)",
    )
    _verbose(p)
    p.set_defaults(func=_run_apiserver)


def _run_apiserver(args: argparse.Namespace) -> int:
    _logging(args)
    if not 0 <= args.port <= 65535:
        print(f"kubeds apiserver: {MSG_BAD_PORT}", file=sys.stderr)
        return 2
    cfg = apiserver_mod.ApiServerConfig(
        data_dir=Path(args.data_dir),
        host=args.host,
        port=args.port,
        storage=args.storage,
        etcd_endpoints=[e for e in args.etcd_endpoints.split(",") if e],
        kubeconfig_path=Path(args.write_kubeconfig) if args.write_kubeconfig else None,
    )
    return asyncio.run(_serve_apiserver(cfg))


async def _serve_apiserver(cfg: apiserver_mod.ApiServerConfig) -> int:
    server = apiserver_mod.ApiServerProcess(cfg)
    stop = wiring.stop_on_signals()
    try:
        await server.start()
    except apiserver_mod.ApiServerError as exc:
        print(f"kubeds apiserver: {exc}", file=sys.stderr)
        return 1
    print(
        f"kubeds apiserver ready: kubeconfig={server.kubeconfig_path.resolve()} server={server.server_url}",
        flush=True,
    )
    freezer = asyncio.get_running_loop().create_task(heap.keep_frozen())
    await stop.wait()
    freezer.cancel()
    print("kubeds apiserver: stopping", file=sys.stderr, flush=True)
    await server.stop()
    return 0


# -- controller-manager and scheduler ----------------------------------------------------------


def _add_controller_manager(sub: Sub) -> None:
    p = sub.add_parser(
        "controller-manager",
        help="run the controllers alone (multi-process mode)",
        description=(
            "Run every controller (DaemonSet, ReplicaSet, Deployment, disruption, garbage collector, node "
            "lifecycle, taint eviction, pod GC) against an API server. With --leader-elect (default) only "
            "the holder of Lease kube-system/kube-controller-manager is active; the others stand by."
        ),
    )
    _kubeconfig_flag(p)
    p.add_argument(
        "--node-profile", choices=profiles.PROFILES, default="fast", help="timings of the node profile"
    )
    p.add_argument(
        "--node-monitor-grace-period",
        type=leader.duration_flag,
        default=None,
        metavar="DURATION",
        help="how long a node may go without a heartbeat before NotReady (profile: fast 20s, realistic 40s)",
    )
    leader.add_leader_election_flags(p, resource_name=CONTROLLER_MANAGER_LEASE)
    _verbose(p)
    p.set_defaults(func=_run_controller_manager)


def _add_scheduler(sub: Sub) -> None:
    p = sub.add_parser(
        "scheduler",
        help="run the scheduler alone (multi-process mode)",
        description=(
            "Run the default scheduler against an API server. With --leader-elect (default) only the "
            "holder of Lease kube-system/kube-scheduler schedules; the others stand by."
        ),
    )
    _kubeconfig_flag(p)
    leader.add_leader_election_flags(p, resource_name=SCHEDULER_LEASE)
    _verbose(p)
    p.set_defaults(func=_run_scheduler)


def _run_controller_manager(args: argparse.Namespace) -> int:
    _logging(args)
    config = wiring.controller_manager_config(
        args.node_profile, node_monitor_grace_period=args.node_monitor_grace_period
    )

    def build(api: ApiClient) -> Callable[[], Awaitable[None]]:
        async def lead() -> None:
            manager = ControllerManager(api, config)
            await manager.start()
            try:
                await asyncio.Event().wait()
            finally:
                await manager.stop()

        return lead

    return asyncio.run(
        _serve_elected(
            args,
            component="controller-manager",
            user_agent=CONTROLLER_MANAGER_USER_AGENT,
            build=build,
            lost_message=leader.MSG_LOST,
        )
    )


def _run_scheduler(args: argparse.Namespace) -> int:
    _logging(args)

    def build(api: ApiClient) -> Callable[[], Awaitable[None]]:
        async def lead() -> None:
            scheduler = Scheduler(api, SchedulerConfig())
            try:
                await scheduler.run()
            finally:
                await scheduler.stop()

        return lead

    return asyncio.run(
        _serve_elected(
            args,
            component="scheduler",
            user_agent=SCHEDULER_USER_AGENT,
            build=build,
            lost_message=SCHEDULER_LOST,
        )
    )


async def _serve_elected(
    args: argparse.Namespace,
    *,
    component: str,
    user_agent: str,
    build: Callable[[ApiClient], Callable[[], Awaitable[None]]],
    lost_message: str,
) -> int:
    options = leader.options_from_args(args)
    try:
        kc = kubeconfig.load_kubeconfig(kubeconfig.resolve_kubeconfig_path(args.kubeconfig))
    except kubeconfig.KubeConfigError as exc:
        print(f"kubeds {component}: {exc}", file=sys.stderr)
        return 1
    api = client_from_kubeconfig(kc, user_agent=user_agent)
    try:
        stop = wiring.stop_on_signals()
        identity = leader.new_identity()
        try:
            if not await wiring.wait_for_api(api, server=kc.server, timeout=API_WAIT_TIMEOUT, stop=stop):
                return 0
        except wiring.ApiNotReady as exc:
            print(f"kubeds {component}: {exc}", file=sys.stderr)
            return 1
        print(
            f"kubeds {component} ready: identity={identity} leader-elect={str(options.enabled).lower()}",
            flush=True,
        )
        freezer = asyncio.get_running_loop().create_task(heap.keep_frozen())
        try:
            return await leader.run_elected(
                api,
                build(api),
                component=component,
                options=options,
                identity=identity,
                stop=stop,
                lost_message=lost_message,
            )
        except ValueError as exc:  # durations that upstream's NewLeaderElector refuses
            print(f"kubeds {component}: {exc}", file=sys.stderr)
            return 2
        finally:
            freezer.cancel()
    finally:
        await api.close()


# -- nodes -------------------------------------------------------------------------------------


def _add_nodes(sub: Sub) -> None:
    p = sub.add_parser(
        "nodes",
        help="run the node simulator alone (multi-process mode)",
        description=(
            "Simulate the kubelets of every Node (or of the Nodes --node-selector matches, to shard "
            "simulators). Prints 'kubeds nodes ready: nodes=N'."
        ),
    )
    standalone.add_arguments(p)
    # The Lease timings follow the node profile (as in `kubeds up`) unless given.
    p.set_defaults(lease_duration=None, renew_interval=None, func=_run_nodes)
    for action in p._actions:
        if action.dest in NODE_LEASE_HELP:
            action.help = NODE_LEASE_HELP[action.dest]


def _run_nodes(args: argparse.Namespace) -> int:
    _logging(args)
    lease_duration, renew_interval = wiring.node_lease_timings(args.node_profile)
    if args.lease_duration is None:
        args.lease_duration = lease_duration
    if args.renew_interval is None:
        args.renew_interval = renew_interval
    return standalone.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kubeds.cli.components COMMAND ...``: the four subcommands without the rest of kubeds."""
    parser = argparse.ArgumentParser(prog="kubeds")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_parsers(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
