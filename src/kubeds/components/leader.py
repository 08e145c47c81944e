"""Active/standby for a component process: run it only while holding a leader Lease.

Mirrors how kube-controller-manager (``cmd/kube-controller-manager/app/controllermanager.go``,
``leaderElectAndRun``) and kube-scheduler (``cmd/kube-scheduler/app/server.go``, ``Run``) use
client-go's ``leaderelection.RunOrDie``:

* flags are upstream's ``--leader-elect`` (default true), ``--leader-elect-lease-duration`` (15s),
  ``--leader-elect-renew-deadline`` (10s), ``--leader-elect-retry-period`` (2s),
  ``--leader-elect-resource-name`` and ``--leader-elect-resource-namespace`` (kube-system)
  (``staging/src/k8s.io/component-base/config/options/leaderelectionconfig.go``);
* every replica campaigns; the one that holds the Lease runs the component (``OnStartedLeading``),
  the others wait. A standby takes over once the leader's record has not changed for the lease
  duration (on its own clock), so a leader that dies is replaced within lease duration plus one
  retry period;
* losing the Lease (no renewal within the renew deadline, for example when its API server is gone)
  ends the process with status 1 and ``leaderelection lost`` (the scheduler says
  ``Leaderelection lost``), as upstream's ``OnStoppedLeading`` does: a process that may have been
  replaced must not keep acting. A supervisor restarts it and it campaigns again as a standby;
* SIGTERM is a requested stop: the component stops, and the Lease is released (upstream's
  ``ReleaseOnCancel``, which kube-scheduler sets) so a standby need not wait for expiry; the process
  exits 0 (upstream: ``Requested to terminate, exiting``).

Identities are upstream's ``<hostname>_<uuid>``. With ``--leader-elect=false`` the component simply
runs (one replica only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod
from kubeds.components.durations import parse_duration
from kubeds.machinery.leaderelection import LeaderElector

__all__ = [
    "MSG_LOST",
    "MSG_TERMINATE",
    "LeaderElectionOptions",
    "add_leader_election_flags",
    "duration_flag",
    "new_identity",
    "options_from_args",
    "run_elected",
]

log = logging.getLogger(__name__)

DEFAULT_LEASE_DURATION = 15.0
DEFAULT_RENEW_DEADLINE = 10.0
DEFAULT_RETRY_PERIOD = 2.0
DEFAULT_NAMESPACE = "kube-system"
MSG_LOST = "leaderelection lost"
MSG_TERMINATE = "Requested to terminate, exiting"
MSG_LEADING = "successfully acquired lease {namespace}/{name}: {identity} is leading"
MSG_WAITING = "attempting to acquire leader lease {namespace}/{name}..."
MSG_COMPONENT_ENDED = "{component} stopped on its own: {error}"
MSG_BAD_BOOL = "invalid boolean value {text!r} for --leader-elect: want true or false"


@dataclass(frozen=True)
class LeaderElectionOptions:
    """Upstream's ``LeaderElectionConfiguration``, in seconds."""

    enabled: bool = True
    lease_duration: float = DEFAULT_LEASE_DURATION
    renew_deadline: float = DEFAULT_RENEW_DEADLINE
    retry_period: float = DEFAULT_RETRY_PERIOD
    resource_name: str = ""
    resource_namespace: str = DEFAULT_NAMESPACE


def _bool_flag(text: str) -> bool:
    """Go's ``strconv.ParseBool`` spellings, as pflag accepts for ``--leader-elect=false``."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(MSG_BAD_BOOL.format(text=text))


def duration_flag(text: str) -> float:
    """An argparse ``type`` for Go-style durations (seconds as float)."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_leader_election_flags(p: argparse.ArgumentParser, *, resource_name: str) -> None:
    """Upstream's leader-election flags, with upstream's defaults."""
    p.add_argument(
        "--leader-elect",
        type=_bool_flag,
        nargs="?",
        const=True,
        default=True,
        metavar="BOOL",
        help="campaign for a leader Lease and run only while holding it (default true)",
    )
    p.add_argument(
        "--leader-elect-lease-duration",
        type=duration_flag,
        default=DEFAULT_LEASE_DURATION,
        metavar="DURATION",
        help="how long a standby waits after the last observed renewal before taking over (15s)",
    )
    p.add_argument(
        "--leader-elect-renew-deadline",
        type=duration_flag,
        default=DEFAULT_RENEW_DEADLINE,
        metavar="DURATION",
        help="how long the leader retries renewing before it stops leading (10s)",
    )
    p.add_argument(
        "--leader-elect-retry-period",
        type=duration_flag,
        default=DEFAULT_RETRY_PERIOD,
        metavar="DURATION",
        help="wait between attempts to acquire or renew (2s)",
    )
    p.add_argument(
        "--leader-elect-resource-name",
        default=resource_name,
        metavar="NAME",
        help=f"name of the Lease (default {resource_name})",
    )
    p.add_argument(
        "--leader-elect-resource-namespace",
        default=DEFAULT_NAMESPACE,
        metavar="NAMESPACE",
        help=f"namespace of the Lease (default {DEFAULT_NAMESPACE})",
    )


def options_from_args(args: argparse.Namespace) -> LeaderElectionOptions:
    return LeaderElectionOptions(
        enabled=bool(args.leader_elect),
        lease_duration=float(args.leader_elect_lease_duration),
        renew_deadline=float(args.leader_elect_renew_deadline),
        retry_period=float(args.leader_elect_retry_period),
        resource_name=str(args.leader_elect_resource_name),
        resource_namespace=str(args.leader_elect_resource_namespace),
    )


def new_identity(*, hostname: str | None = None) -> str:
    """``<hostname>_<uuid>``, as kube-controller-manager and kube-scheduler name themselves."""
    return f"{hostname or socket.gethostname()}_{uuid.uuid4()}"


def _say(component: str, message: str) -> None:
    print(f"kubeds {component}: {message}", file=sys.stderr, flush=True)


async def run_elected(
    api: api_mod.ApiClient,
    lead: Callable[[], Awaitable[None]],
    *,
    component: str,
    options: LeaderElectionOptions,
    identity: str,
    stop: asyncio.Event,
    lost_message: str = MSG_LOST,
    clock: clock_mod.Clock = clock_mod.REAL,
) -> int:
    """Run ``lead()`` while leader (or at once without election) until ``stop``; the exit status.

    0 after ``stop`` (the Lease released), 1 when leadership was lost or ``lead()`` ended on its own.
    Constructing the elector validates the durations (upstream's messages, as ValueError).
    """
    failed: list[BaseException] = []
    ended = asyncio.Event()

    async def leading() -> None:
        if options.enabled:
            _say(
                component,
                MSG_LEADING.format(
                    namespace=options.resource_namespace, name=options.resource_name, identity=identity
                ),
            )
        try:
            await lead()
            failed.append(RuntimeError("returned"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("%s failed", component)
            failed.append(exc)
        ended.set()

    if options.enabled:
        elector = LeaderElector(
            api,
            lease_name=options.resource_name,
            namespace=options.resource_namespace,
            identity=identity,
            lease_duration=options.lease_duration,
            renew_deadline=options.renew_deadline,
            retry_period=options.retry_period,
            clock=clock,
            release_on_cancel=True,
        )
        _say(
            component,
            MSG_WAITING.format(namespace=options.resource_namespace, name=options.resource_name),
        )
        main: asyncio.Task[None] = asyncio.ensure_future(elector.run(leading, lambda: None))
    else:
        main = asyncio.ensure_future(leading())
    stopper = asyncio.ensure_future(stop.wait())
    crashed = asyncio.ensure_future(ended.wait())
    try:
        await asyncio.wait((main, stopper, crashed), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (stopper, crashed):
            t.cancel()
        main.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await main
    if failed:
        _say(component, MSG_COMPONENT_ENDED.format(component=component, error=failed[0]))
        return 1
    if stop.is_set():
        _say(component, MSG_TERMINATE)
        return 0
    _say(component, lost_message)
    return 1
